//! How often one member (or one client address) may do something costly: a burst, then one more
//! per refill period (governor's GCRA, keyed by user id or any other key), charged before the work so requests in flight together
//! cannot all slip through. Beyond it, 429 saying when to try again.

use std::hash::Hash;
use std::num::NonZeroU32;
use std::time::Duration;

use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};

use crate::error::{AppError, AppResult};

/// Forget members whose allowance is full again once this many are tracked.
const SWEEP_ABOVE: usize = 1024;

pub struct MemberLimiter<K: Hash + Eq + Clone = i64> {
    by_user: DefaultKeyedRateLimiter<K>,
    clock: DefaultClock,
    /// The first sentence of the 429, e.g. "You are posting comments too quickly."
    too_quickly: &'static str,
}

impl<K: Hash + Eq + Clone> MemberLimiter<K> {
    pub fn new(burst: u32, refill: Duration, too_quickly: &'static str) -> Self {
        let burst = NonZeroU32::new(burst).unwrap_or(NonZeroU32::MIN);
        let quota = Quota::with_period(refill)
            .unwrap_or_else(|| Quota::per_second(NonZeroU32::MIN))
            .allow_burst(burst);
        Self {
            by_user: RateLimiter::keyed(quota),
            clock: DefaultClock::default(),
            too_quickly,
        }
    }

    /// Spends one of `user_id`'s allowance, or answers 429 with how long to wait.
    pub fn check(&self, user_id: K) -> AppResult<()> {
        if self.by_user.len() > SWEEP_ABOVE {
            self.by_user.retain_recent();
        }
        self.by_user.check_key(&user_id).map_err(|not_until| {
            let wait = not_until.wait_time_from(self.clock.now());
            let secs = (wait.as_secs() + u64::from(wait.subsec_nanos() > 0)).max(1);
            AppError::TooManyRequests {
                message: format!(
                    "{} Try again in {secs} second{}.",
                    self.too_quickly,
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
    fn a_burst_then_a_wait_per_member() {
        let limiter = MemberLimiter::new(3, Duration::from_secs(30), "Slow down.");
        for _ in 0..3 {
            assert!(limiter.check(1).is_ok());
        }
        match limiter.check(1) {
            Err(AppError::TooManyRequests {
                message,
                retry_after_secs,
            }) => {
                assert!((1..=30).contains(&retry_after_secs));
                assert!(message.starts_with("Slow down. Try again in "), "{message}");
            }
            other => panic!("expected 429, got {other:?}"),
        }
        assert!(limiter.check(2).is_ok(), "another member is not affected");
    }
}
