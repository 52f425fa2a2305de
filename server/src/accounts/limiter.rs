//! Throttling of failed sign-ins per username and per client address (governor's GCRA): a burst
//! of failures, then one more per refill period. Only failures spend the allowance, so a member
//! (or a script running `cloister` commands) that signs in correctly many times is never locked
//! out; once a key is locked, every attempt is refused until the lock ends — right password or
//! not — so an attacker learns nothing from the refusals.

use std::collections::HashMap;
use std::net::{IpAddr, Ipv6Addr};
use std::num::NonZeroU32;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};

use crate::error::{AppError, AppResult};

pub struct LoginLimiter {
    by_username: DefaultKeyedRateLimiter<String>,
    by_address: DefaultKeyedRateLimiter<IpAddr>,
    clock: DefaultClock,
    /// Keys whose failures ran out of allowance, and until when they stay refused.
    locked: Mutex<HashMap<LockKey, Instant>>,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum LockKey {
    Username(String),
    Address(IpAddr),
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
            locked: Mutex::new(HashMap::new()),
        }
    }

    /// Before an attempt: 429 with how long to wait if the username or the address is locked.
    pub fn check(&self, username: &str, address: IpAddr) -> AppResult<()> {
        let now = Instant::now();
        let keys = keys(username, address);
        let locked = self
            .locked
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        let until = keys
            .iter()
            .filter_map(|key| locked.get(key))
            .filter(|until| **until > now)
            .max();
        match until {
            Some(until) => Err(too_many(*until - now)),
            None => Ok(()),
        }
    }

    /// After a failed attempt: spends one failure from both allowances; a key that has none left
    /// is locked until it refills, and the answer says when to try again.
    pub fn record_failure(&self, username: &str, address: IpAddr) -> Option<AppError> {
        let [by_username, by_address] = keys(username, address);
        let (LockKey::Username(name), LockKey::Address(ip)) = (&by_username, &by_address) else {
            return None;
        };
        let now = Instant::now();
        let mut locked = self
            .locked
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        let mut longest = None::<Duration>;
        for (key, refused) in [
            (by_address.clone(), self.by_address.check_key(ip).err()),
            (by_username.clone(), self.by_username.check_key(name).err()),
        ] {
            if let Some(not_until) = refused {
                let wait = not_until
                    .wait_time_from(self.clock.now())
                    .max(Duration::from_secs(1));
                locked.insert(key, now + wait);
                longest = Some(longest.map_or(wait, |w| w.max(wait)));
            }
        }
        longest.map(too_many)
    }

    /// Forgets keys whose allowance is full again, and locks that have ended.
    pub fn sweep(&self) {
        let now = Instant::now();
        self.locked
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .retain(|_, until| *until > now);
        self.by_username.retain_recent();
        self.by_username.shrink_to_fit();
        self.by_address.retain_recent();
        self.by_address.shrink_to_fit();
    }
}

fn keys(username: &str, address: IpAddr) -> [LockKey; 2] {
    [
        LockKey::Username(username.to_ascii_lowercase()),
        LockKey::Address(address_key(address)),
    ]
}

fn too_many(wait: Duration) -> AppError {
    let secs = (wait.as_secs() + u64::from(wait.subsec_nanos() > 0)).max(1);
    AppError::TooManyRequests {
        message: format!(
            "Too many sign-in attempts. Try again in {secs} second{}.",
            if secs == 1 { "" } else { "s" }
        ),
        retry_after_secs: secs,
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
    fn a_burst_of_failures_then_refusal_with_a_wait() {
        let limiter = LoginLimiter::new(2, Duration::from_secs(30));
        let ip: IpAddr = [10, 0, 0, 1].into();
        assert!(limiter.check("alice", ip).is_ok());
        assert!(limiter.record_failure("alice", ip).is_none());
        assert!(limiter.record_failure("Alice", ip).is_none());
        assert!(
            limiter.check("alice", ip).is_ok(),
            "two failures are the allowance"
        );
        assert!(
            limiter.record_failure("alice", ip).is_some(),
            "the third locks"
        );
        match limiter.check("alice", ip) {
            Err(AppError::TooManyRequests {
                retry_after_secs, ..
            }) => assert!((1..=30).contains(&retry_after_secs)),
            other => panic!("expected 429, got {other:?}"),
        }
    }

    #[test]
    fn successful_sign_ins_never_spend_the_allowance() {
        let limiter = LoginLimiter::new(2, Duration::from_secs(30));
        let ip: IpAddr = [10, 0, 0, 2].into();
        for _ in 0..50 {
            assert!(limiter.check("bob", ip).is_ok());
        }
    }

    #[test]
    fn ipv6_addresses_in_one_64_share_an_allowance() {
        let a: IpAddr = "2001:db8:1:2::1".parse().expect("ip");
        let b: IpAddr = "2001:db8:1:2:ffff::9".parse().expect("ip");
        assert_eq!(address_key(a), address_key(b));
    }
}
