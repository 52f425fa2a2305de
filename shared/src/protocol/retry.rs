//! When a request that failed is tried again, and after how long. One policy for the browser's
//! upload engine and the CLI, so the two cannot drift (docs/api.md, "Errors and retries").

use std::time::Duration;

/// Pauses between attempts: doubling from one second, at most 30 s; six tries in all.
pub const BACKOFF: [Duration; 5] = [
    Duration::from_secs(1),
    Duration::from_secs(2),
    Duration::from_secs(4),
    Duration::from_secs(8),
    Duration::from_secs(16),
];

/// What to do after a failed request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Next {
    /// Worth trying again after the next pause: the network, or the server, had trouble.
    Retry,
    /// The server is pacing this client (429): wait as it asks and try again, without counting
    /// the attempt as a failure.
    WaitBusy,
    /// Trying again cannot help (the request is wrong, refused, or storage is low): show the
    /// server's message.
    GiveUp,
}

/// The HTTP status of a failed request, or `None` when no answer came (the network failed).
pub fn after_failure(status: Option<u16>) -> Next {
    match status {
        None => Next::Retry,
        Some(429) => Next::WaitBusy,
        // Storage low: retrying fills nothing; the message says what to do.
        Some(507) => Next::GiveUp,
        Some(s) if s >= 500 => Next::Retry,
        Some(_) => Next::GiveUp,
    }
}

/// The pause before attempt `failures + 1`, or `None` when the attempts are spent.
pub fn pause_after(failures: usize) -> Option<Duration> {
    failures
        .checked_sub(1)
        .and_then(|index| BACKOFF.get(index))
        .copied()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn network_trouble_and_server_errors_are_retried_but_not_storage_low() {
        assert_eq!(after_failure(None), Next::Retry);
        assert_eq!(after_failure(Some(500)), Next::Retry);
        assert_eq!(after_failure(Some(503)), Next::Retry);
        assert_eq!(after_failure(Some(507)), Next::GiveUp);
        assert_eq!(after_failure(Some(429)), Next::WaitBusy);
        for status in [400, 401, 403, 404, 409, 413] {
            assert_eq!(after_failure(Some(status)), Next::GiveUp, "{status}");
        }
    }

    #[test]
    fn pauses_double_and_run_out() {
        assert_eq!(pause_after(1), Some(Duration::from_secs(1)));
        assert_eq!(pause_after(2), Some(Duration::from_secs(2)));
        assert_eq!(pause_after(5), Some(Duration::from_secs(16)));
        assert_eq!(pause_after(6), None);
        assert_eq!(pause_after(0), None);
    }
}
