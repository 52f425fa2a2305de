//! Throttling of failed sign-ins (docs/accounts.md): token buckets of `burst` attempts that refill
//! one per `refill` period.
//!
//! - per (username, address): a hard limit — an address that spent its attempts on a username is
//!   refused (429) until one refills, right password or not;
//! - per address, across usernames: a hard limit of `ADDRESS_BURST_FACTOR` times as many, against
//!   one address spraying many usernames;
//! - per username, across addresses: a soft limit — once spent, each attempt on the username waits
//!   `SLOW_DOWN` before its password is checked, but is still checked, so an attacker cannot keep
//!   the owner out by timing failures to `Retry-After`.
//!
//! An attempt is charged *before* its password is hashed and refunded when it succeeds (or was
//! never checked), so a burst of parallel requests gets no more evaluations than the allowance,
//! and correct sign-ins never spend it.

use std::collections::HashMap;
use std::hash::Hash;
use std::net::{IpAddr, Ipv6Addr};
use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, Instant};

use crate::error::AppError;

/// The per-address allowance across all usernames, as a multiple of the per-username one.
pub const ADDRESS_BURST_FACTOR: u32 = 4;
/// The per-username allowance across all addresses, as a multiple of the per-pair one.
pub const USERNAME_BURST_FACTOR: u32 = 4;
/// How long an attempt on a username whose allowance is spent waits before it is checked.
pub const SLOW_DOWN: Duration = Duration::from_secs(2);

pub struct LoginLimiter {
    burst: u32,
    refill: Duration,
    buckets: Mutex<Buckets>,
}

#[derive(Default)]
struct Buckets {
    by_pair: HashMap<(String, IpAddr), Bucket>,
    by_address: HashMap<IpAddr, Bucket>,
    by_username: HashMap<String, Bucket>,
}

/// An attempt that was allowed and charged: refund it if the password was right or never checked.
#[derive(Debug)]
#[must_use = "refund a successful or unchecked attempt"]
pub struct Attempt {
    username: String,
    address: IpAddr,
    charged_username: bool,
    /// Wait this long before checking the password: the username's allowance is spent.
    pub slow_down: Option<Duration>,
}

impl LoginLimiter {
    pub fn new(burst: u32, refill: Duration) -> Self {
        Self {
            burst: burst.max(1),
            refill: refill.max(Duration::from_millis(1)),
            buckets: Mutex::new(Buckets::default()),
        }
    }

    fn buckets(&self) -> MutexGuard<'_, Buckets> {
        self.buckets
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Before the password is checked: charges the attempt, or 429 with how long to wait when the
    /// (username, address) pair or the address has no attempt left.
    pub fn begin(&self, username: &str, address: IpAddr) -> Result<Attempt, AppError> {
        let username = username.to_ascii_lowercase();
        let address = address_key(address);
        let now = Instant::now();
        let pair_burst = self.burst;
        let address_burst = self.burst.saturating_mul(ADDRESS_BURST_FACTOR);
        let username_burst = self.burst.saturating_mul(USERNAME_BURST_FACTOR);
        let mut buckets = self.buckets();
        let Buckets {
            by_pair,
            by_address,
            by_username,
        } = &mut *buckets;
        let pair = entry(by_pair, (username.clone(), address), pair_burst);
        pair.refill(now, pair_burst, self.refill);
        let addr = entry(by_address, address, address_burst);
        addr.refill(now, address_burst, self.refill);
        let wait = [pair.wait(self.refill), addr.wait(self.refill)]
            .into_iter()
            .flatten()
            .max();
        if let Some(wait) = wait {
            return Err(too_many(wait));
        }
        pair.tokens -= 1.0;
        addr.tokens -= 1.0;
        let user = entry(by_username, username.clone(), username_burst);
        user.refill(now, username_burst, self.refill);
        let charged_username = user.wait(self.refill).is_none();
        if charged_username {
            user.tokens -= 1.0;
        }
        Ok(Attempt {
            username,
            address,
            charged_username,
            slow_down: (!charged_username).then_some(SLOW_DOWN),
        })
    }

    /// After a right password, or when the password was never checked (the server was busy):
    /// gives the attempt back, so only wrong passwords spend the allowance.
    pub fn refund(&self, attempt: Attempt) {
        let mut buckets = self.buckets();
        let pair_key = (attempt.username.clone(), attempt.address);
        if let Some(bucket) = buckets.by_pair.get_mut(&pair_key) {
            bucket.give_back(self.burst);
        }
        let address_burst = self.burst.saturating_mul(ADDRESS_BURST_FACTOR);
        if let Some(bucket) = buckets.by_address.get_mut(&attempt.address) {
            bucket.give_back(address_burst);
        }
        if attempt.charged_username {
            let username_burst = self.burst.saturating_mul(USERNAME_BURST_FACTOR);
            if let Some(bucket) = buckets.by_username.get_mut(&attempt.username) {
                bucket.give_back(username_burst);
            }
        }
    }

    /// Forgets buckets that are full again, so spraying usernames or addresses cannot grow memory
    /// without bound.
    pub fn sweep(&self) {
        let now = Instant::now();
        let refill = self.refill;
        let bursts = [
            self.burst,
            self.burst.saturating_mul(ADDRESS_BURST_FACTOR),
            self.burst.saturating_mul(USERNAME_BURST_FACTOR),
        ];
        let mut buckets = self.buckets();
        buckets
            .by_pair
            .retain(|_, b| !b.full_after(now, bursts[0], refill));
        buckets
            .by_address
            .retain(|_, b| !b.full_after(now, bursts[1], refill));
        buckets
            .by_username
            .retain(|_, b| !b.full_after(now, bursts[2], refill));
    }
}

fn entry<K: Eq + Hash>(map: &mut HashMap<K, Bucket>, key: K, burst: u32) -> &mut Bucket {
    map.entry(key).or_insert_with(|| Bucket {
        tokens: f64::from(burst),
        updated: Instant::now(),
    })
}

/// Attempts left (fractional while refilling) as of `updated`.
#[derive(Debug)]
struct Bucket {
    tokens: f64,
    updated: Instant,
}

impl Bucket {
    fn refill(&mut self, now: Instant, burst: u32, refill: Duration) {
        let gained =
            now.saturating_duration_since(self.updated).as_secs_f64() / refill.as_secs_f64();
        self.tokens = (self.tokens + gained).min(f64::from(burst));
        self.updated = now;
    }

    /// How long until a whole attempt is available, or `None` if one is now.
    fn wait(&self, refill: Duration) -> Option<Duration> {
        (self.tokens < 1.0).then(|| refill.mul_f64(1.0 - self.tokens))
    }

    fn give_back(&mut self, burst: u32) {
        self.tokens = (self.tokens + 1.0).min(f64::from(burst));
    }

    fn full_after(&mut self, now: Instant, burst: u32, refill: Duration) -> bool {
        self.refill(now, burst, refill);
        self.tokens >= f64::from(burst)
    }
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
pub(crate) fn address_key(address: IpAddr) -> IpAddr {
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

    fn retry_after(result: Result<Attempt, AppError>) -> u64 {
        match result {
            Err(AppError::TooManyRequests {
                retry_after_secs, ..
            }) => retry_after_secs,
            other => panic!("expected 429, got {other:?}"),
        }
    }

    #[test]
    fn a_burst_of_failures_then_refusal_with_a_wait() {
        let limiter = LoginLimiter::new(2, Duration::from_secs(30));
        let ip: IpAddr = [10, 0, 0, 1].into();
        let _spent = limiter.begin("alice", ip).expect("first");
        let _spent = limiter.begin("Alice", ip).expect("second");
        let wait = retry_after(limiter.begin("alice", ip));
        assert!((1..=30).contains(&wait), "{wait}");
    }

    #[test]
    fn attempts_are_charged_before_they_are_checked() {
        // Nothing is refunded or recorded between these: they are all in flight at once.
        let limiter = LoginLimiter::new(5, Duration::from_secs(3600));
        let ip: IpAddr = [10, 0, 0, 3].into();
        let allowed = (0..50)
            .map(|_| limiter.begin("alice", ip))
            .filter(Result::is_ok)
            .count();
        assert_eq!(allowed, 5);
    }

    #[test]
    fn successful_sign_ins_never_spend_the_allowance() {
        let limiter = LoginLimiter::new(2, Duration::from_secs(30));
        let ip: IpAddr = [10, 0, 0, 2].into();
        for _ in 0..50 {
            let attempt = limiter.begin("bob", ip).expect("allowed");
            limiter.refund(attempt);
        }
    }

    #[test]
    fn a_spent_username_slows_down_other_addresses_but_does_not_lock_them() {
        let limiter = LoginLimiter::new(1, Duration::from_secs(3600));
        for i in 0..USERNAME_BURST_FACTOR {
            let attempt = limiter
                .begin("carol", IpAddr::from([10, 1, 0, i as u8]))
                .expect("allowed");
            assert_eq!(attempt.slow_down, None);
        }
        let attempt = limiter
            .begin("carol", IpAddr::from([10, 1, 1, 1]))
            .expect("slowed, not refused");
        assert_eq!(attempt.slow_down, Some(SLOW_DOWN));
    }

    #[test]
    fn an_address_spraying_usernames_is_refused() {
        let limiter = LoginLimiter::new(1, Duration::from_secs(3600));
        let ip: IpAddr = [10, 2, 0, 1].into();
        for i in 0..ADDRESS_BURST_FACTOR {
            let _spent = limiter.begin(&format!("guess{i}"), ip).expect("allowed");
        }
        retry_after(limiter.begin("another", ip));
    }

    #[test]
    fn the_allowance_refills_and_full_buckets_are_swept() {
        let limiter = LoginLimiter::new(1, Duration::from_millis(20));
        let ip: IpAddr = [10, 3, 0, 1].into();
        let _spent = limiter.begin("dave", ip).expect("allowed");
        retry_after(limiter.begin("dave", ip));
        std::thread::sleep(Duration::from_millis(200));
        limiter.sweep();
        assert!(limiter.buckets().by_pair.is_empty());
        let _spent = limiter.begin("dave", ip).expect("refilled");
    }

    #[test]
    fn ipv6_addresses_in_one_64_share_an_allowance() {
        let a: IpAddr = "2001:db8:1:2::1".parse().expect("ip");
        let b: IpAddr = "2001:db8:1:2:ffff::9".parse().expect("ip");
        assert_eq!(address_key(a), address_key(b));
    }
}
