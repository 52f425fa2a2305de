//! How fast one member may post comments: a burst of `POST_BURST`, then one more every
//! `POST_REFILL` (governor's GCRA, keyed by user id). Enough for any conversation; a runaway
//! script is stopped with a 429 that says when to try again.

use std::time::Duration;

use crate::error::AppResult;
use crate::member_limiter::MemberLimiter;

/// Comments one member may post at once before the limit applies.
pub const POST_BURST: u32 = 20;
/// Then one more per this period: 20 a minute.
pub const POST_REFILL: Duration = Duration::from_secs(3);

pub struct CommentLimiter(MemberLimiter);

impl Default for CommentLimiter {
    fn default() -> Self {
        Self::new(POST_BURST, POST_REFILL)
    }
}

impl CommentLimiter {
    pub fn new(burst: u32, refill: Duration) -> Self {
        Self(MemberLimiter::new(
            burst,
            refill,
            "You are posting comments too quickly.",
        ))
    }

    /// Spends one post of `user_id`'s allowance, or answers 429 with how long to wait.
    pub fn check(&self, user_id: i64) -> AppResult<()> {
        self.0.check(user_id)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::AppError;

    #[test]
    fn a_burst_then_a_wait_per_user() {
        let limiter = CommentLimiter::new(3, Duration::from_secs(30));
        for _ in 0..3 {
            assert!(limiter.check(1).is_ok());
        }
        match limiter.check(1) {
            Err(AppError::TooManyRequests {
                retry_after_secs, ..
            }) => assert!((1..=30).contains(&retry_after_secs)),
            other => panic!("expected 429, got {other:?}"),
        }
        assert!(limiter.check(2).is_ok(), "another member is not affected");
    }
}
