//! Throttling of sign-in attempts per username and per client address (governor's GCRA): a burst
//! of attempts, then one more per refill period. Every attempt counts, successful or not, so an
//! attacker learns nothing from which attempts were throttled.

use std::net::{IpAddr, Ipv6Addr};
use std::num::NonZeroU32;
use std::time::Duration;

use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};

use crate::error::{AppError, AppResult};

pub struct LoginLimiter {
    by_username: DefaultKeyedRateLimiter<String>,
    by_address: DefaultKeyedRateLimiter<IpAddr>,
    clock: DefaultClock,
}

impl LoginLimiter {
    pub fn new(burst: u32, refill: Duration) -> Self {
        let burst = NonZeroU32::new(burst).unwrap_or(NonZeroU32::MIN);
        let quota = Quota::with_period(refill)
            .unwrap_or_else(|| Quota::per_second(NonZeroU32::MIN))
            .allow_burst(burst);
        Self {
            by_username: RateLimiter::keyed(quota),
            by_address: RateLimiter::keyed(quota),
            clock: DefaultClock::default(),
        }
    }

    /// Takes one attempt from both the username's and the address's allowance, or answers 429
    /// with how long to wait.
    pub fn check(&self, username: &str, address: IpAddr) -> AppResult<()> {
        let address = address_key(address);
        let username = username.to_ascii_lowercase();
        let refused = self
            .by_address
            .check_key(&address)
            .err()
            .or_else(|| self.by_username.check_key(&username).err());
        match refused {
            None => Ok(()),
            Some(not_until) => {
                let wait = not_until.wait_time_from(self.clock.now());
                let secs = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
                let secs = secs.max(1);
                Err(AppError::TooManyRequests {
                    message: format!(
                        "Too many sign-in attempts. Try again in {secs} second{}.",
                        if secs == 1 { "" } else { "s" }
                    ),
                    retry_after_secs: secs,
                })
            }
        }
    }

    /// Forgets keys whose allowance is full again.
    pub fn sweep(&self) {
        self.by_username.retain_recent();
        self.by_username.shrink_to_fit();
        self.by_address.retain_recent();
        self.by_address.shrink_to_fit();
    }
}

/// IPv6 clients usually hold a whole /64, so that is what one address means here.
fn address_key(address: IpAddr) -> IpAddr {
    match address {
        IpAddr::V4(_) => address,
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => {
                let s = v6.segments();
                IpAddr::V6(Ipv6Addr::new(s[0], s[1], s[2], s[3], 0, 0, 0, 0))
            }
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_burst_then_refusal_with_a_wait() {
        let limiter = LoginLimiter::new(2, Duration::from_secs(30));
        let ip: IpAddr = [10, 0, 0, 1].into();
        assert!(limiter.check("alice", ip).is_ok());
        assert!(limiter.check("Alice", ip).is_ok());
        match limiter.check("alice", ip) {
            Err(AppError::TooManyRequests {
                retry_after_secs, ..
            }) => assert!((1..=30).contains(&retry_after_secs)),
            other => panic!("expected 429, got {other:?}"),
        }
    }

    #[test]
    fn ipv6_addresses_in_one_64_share_an_allowance() {
        let a: IpAddr = "2001:db8:1:2::1".parse().expect("ip");
        let b: IpAddr = "2001:db8:1:2:ffff::9".parse().expect("ip");
        assert_eq!(address_key(a), address_key(b));
    }
}
