//! How fast one member may post comments: a burst of `POST_BURST`, then one more every
//! `POST_REFILL` (governor's GCRA, keyed by user id). Enough for any conversation; a runaway
//! script is stopped with a 429 that says when to try again.

use std::num::NonZeroU32;
use std::time::Duration;

use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};

use crate::error::{AppError, AppResult};

/// Comments one member may post at once before the limit applies.
pub const POST_BURST: u32 = 20;
/// Then one more per this period: 20 a minute.
pub const POST_REFILL: Duration = Duration::from_secs(3);

/// Forget members whose allowance is full again once this many are tracked.
const SWEEP_ABOVE: usize = 1024;

pub struct CommentLimiter {
    by_user: DefaultKeyedRateLimiter<i64>,
    clock: DefaultClock,
}

impl Default for CommentLimiter {
    fn default() -> Self {
        Self::new(POST_BURST, POST_REFILL)
    }
}

impl CommentLimiter {
    pub fn new(burst: u32, refill: Duration) -> Self {
        let burst = NonZeroU32::new(burst).unwrap_or(NonZeroU32::MIN);
        let quota = Quota::with_period(refill)
            .unwrap_or_else(|| Quota::per_second(NonZeroU32::MIN))
            .allow_burst(burst);
        Self {
            by_user: RateLimiter::keyed(quota),
            clock: DefaultClock::default(),
        }
    }

    /// Spends one post of `user_id`'s allowance, or answers 429 with how long to wait.
    pub fn check(&self, user_id: i64) -> AppResult<()> {
        if self.by_user.len() > SWEEP_ABOVE {
            self.by_user.retain_recent();
        }
        self.by_user.check_key(&user_id).map_err(|not_until| {
            let wait = not_until.wait_time_from(self.clock.now());
            let secs = (wait.as_secs() + u64::from(wait.subsec_nanos() > 0)).max(1);
            AppError::TooManyRequests {
                message: format!(
                    "You are posting comments too quickly. Try again in {secs} second{}.",
                    if secs == 1 { "" } else { "s" }
                ),
                retry_after_secs: secs,
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
