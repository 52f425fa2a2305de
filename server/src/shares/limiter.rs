//! How fast one client address may use share routes (docs/api.md, "Share links"): a burst of
//! `BURST`, then one more every `REFILL`. Watching a video fetches a segment every few seconds and
//! saving it one 4 MiB chunk per request, far inside this; a script trying ids or hammering a link
//! gets a 429 that says when to try again.

use std::net::IpAddr;
use std::time::Duration;

use crate::accounts::limiter::address_key;
use crate::error::AppResult;
use crate::member_limiter::MemberLimiter;

/// Requests one address may make at once before the limit applies.
pub const BURST: u32 = 120;
/// Then one more per this period: ten a second.
pub const REFILL: Duration = Duration::from_millis(100);

pub struct ShareLimiter(MemberLimiter<IpAddr>);

impl Default for ShareLimiter {
    fn default() -> Self {
        Self::new(BURST, REFILL)
    }
}

impl ShareLimiter {
    pub fn new(burst: u32, refill: Duration) -> Self {
        Self(MemberLimiter::new(
            burst,
            refill,
            "Too many requests for shared videos from your address.",
        ))
    }

    /// Spends one request of `address`'s allowance (an IPv6 address counts with its /64), or
    /// answers 429 with how long to wait.
    pub fn check(&self, address: IpAddr) -> AppResult<()> {
        self.0.check(address_key(address))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_burst_then_a_wait_per_address() {
        let limiter = ShareLimiter::new(2, Duration::from_secs(30));
        let (a, b) = (IpAddr::from([10, 0, 0, 1]), IpAddr::from([10, 0, 0, 2]));
        assert!(limiter.check(a).is_ok());
        assert!(limiter.check(a).is_ok());
        assert!(limiter.check(a).is_err());
        assert!(limiter.check(b).is_ok(), "another address is not affected");
    }
}
