//! How long to wait before reconnecting the live-event socket: 1 s doubling to 30 s, with jitter
//! so that every open tab does not reconnect in the same instant after a server restart.

const FIRST_MS: u32 = 1_000;
const MAX_MS: u32 = 30_000;

/// The wait after `failures` failed attempts in a row (0 = the first retry). `jitter` is a random
/// number in [0, 1): the wait is between 75 % and 125 % of the nominal one, and never above 30 s.
pub fn reconnect_delay_ms(failures: u32, jitter: f64) -> u32 {
    let nominal = FIRST_MS.saturating_mul(1u32 << failures.min(5)).min(MAX_MS);
    let factor = 0.75 + 0.5 * jitter.clamp(0.0, 1.0);
    ((f64::from(nominal) * factor) as u32).min(MAX_MS)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn doubles_from_one_second_to_thirty() {
        let nominal: Vec<u32> = (0..8).map(|n| reconnect_delay_ms(n, 0.5)).collect();
        assert_eq!(
            nominal,
            [1_000, 2_000, 4_000, 8_000, 16_000, 30_000, 30_000, 30_000]
        );
        assert_eq!(reconnect_delay_ms(u32::MAX, 0.5), 30_000);
    }

    #[test]
    fn jitter_spreads_the_wait_within_bounds() {
        assert_eq!(reconnect_delay_ms(0, 0.0), 750);
        assert_eq!(reconnect_delay_ms(0, 0.999_999), 1_249);
        assert_eq!(reconnect_delay_ms(5, 1.0), 30_000);
        assert_eq!(reconnect_delay_ms(4, 0.0), 12_000);
    }
}
