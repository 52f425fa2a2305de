//! Fetching a sealed file through a flaky connection: a lost connection, a 429 or a 5xx is tried
//! again after 0.5, 1, 2 and 4 s (about 8 s in all, short enough for someone waiting on a
//! spinner); anything else is the server's answer and is not.

use std::future::Future;

use crate::api::ApiError;
use crate::browser::sleep_ms;

/// Waits before the second, third… attempt.
pub const RETRY_DELAYS_MS: [u32; 4] = [500, 1_000, 2_000, 4_000];

/// Network trouble or a busy server: worth trying again.
pub fn is_transient(err: &ApiError) -> bool {
    err.status == 0 || err.status == 429 || err.status >= 500
}

/// Why a fetch gave up.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FetchError {
    /// The caller no longer wants it (a seek moved on, the view closed).
    Abandoned,
    /// Every attempt failed for a network reason.
    Unreachable,
    /// The server said no: its message.
    Refused(String),
}

/// Calls `attempt` until it succeeds, fails for good or runs out of retries. `abandoned` is asked
/// after every failure and every wait: once it says so, nothing more is tried.
pub async fn with_retries<T, F, Fut>(
    mut attempt: F,
    abandoned: impl Fn() -> bool,
    on_retry: impl Fn(usize),
) -> Result<T, FetchError>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, ApiError>>,
{
    let mut retries = 0;
    loop {
        let err = match attempt().await {
            Ok(value) => return Ok(value),
            Err(err) => err,
        };
        if abandoned() {
            return Err(FetchError::Abandoned);
        }
        if !is_transient(&err) {
            return Err(FetchError::Refused(err.message));
        }
        let Some(&wait) = RETRY_DELAYS_MS.get(retries) else {
            return Err(FetchError::Unreachable);
        };
        retries += 1;
        on_retry(retries);
        sleep_ms(wait).await;
        if abandoned() {
            return Err(FetchError::Abandoned);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn error(status: u16) -> ApiError {
        ApiError {
            status,
            code: String::new(),
            message: String::new(),
        }
    }

    #[test]
    fn only_passing_trouble_is_retried() {
        assert!(is_transient(&error(0)));
        assert!(is_transient(&error(429)));
        assert!(is_transient(&error(503)));
        // 404 "That rendition is not this video's current one.", 409 "not ready": asking again
        // would get the same answer.
        assert!(!is_transient(&error(404)));
        assert!(!is_transient(&error(409)));
        assert!(RETRY_DELAYS_MS.iter().sum::<u32>() < 10_000);
    }

    /// Runs a future that never waits (natively `sleep_ms` returns at once).
    fn run<T>(future: impl Future<Output = T>) -> T {
        let mut future = std::pin::pin!(future);
        let mut context = std::task::Context::from_waker(std::task::Waker::noop());
        loop {
            if let std::task::Poll::Ready(value) = future.as_mut().poll(&mut context) {
                return value;
            }
        }
    }

    #[test]
    fn retries_a_few_times_then_gives_up_or_stops_when_abandoned() {
        let calls = std::cell::Cell::new(0);
        let retries = std::cell::Cell::new(0);
        let outcome = run(with_retries(
            || {
                calls.set(calls.get() + 1);
                async { Err::<(), _>(error(0)) }
            },
            || false,
            |n| retries.set(n),
        ));
        assert_eq!(outcome, Err(FetchError::Unreachable));
        assert_eq!((calls.get(), retries.get()), (5, 4));

        calls.set(0);
        let outcome = run(with_retries(
            || {
                calls.set(calls.get() + 1);
                let answer = if calls.get() < 3 {
                    Err(error(502))
                } else {
                    Ok(7)
                };
                async move { answer }
            },
            || false,
            |_| {},
        ));
        assert_eq!(outcome, Ok(7));

        let outcome = run(with_retries(
            || async {
                Err::<(), _>(ApiError {
                    message: "No such video.".into(),
                    ..error(404)
                })
            },
            || false,
            |_| {},
        ));
        assert_eq!(outcome, Err(FetchError::Refused("No such video.".into())));

        calls.set(0);
        let outcome = run(with_retries(
            || {
                calls.set(calls.get() + 1);
                async { Err::<(), _>(error(0)) }
            },
            || calls.get() == 2,
            |_| {},
        ));
        assert_eq!((outcome, calls.get()), (Err(FetchError::Abandoned), 2));
    }
}
