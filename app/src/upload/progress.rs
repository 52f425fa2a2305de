//! Progress arithmetic for an upload: percent, rate over a sliding window, time left. Pure, so it
//! is tested natively.

use std::collections::VecDeque;

/// Rate is measured over the last few seconds, so it follows a changing link without jitter.
const WINDOW_MS: f64 = 5_000.0;

#[derive(Debug, Clone, PartialEq)]
pub struct Snapshot {
    pub bytes_done: u64,
    pub bytes_total: u64,
    pub chunks_done: u64,
    pub chunks_total: u64,
    /// Bytes per second, once there is enough to measure.
    pub rate: Option<f64>,
}

impl Snapshot {
    pub fn percent(&self) -> f64 {
        if self.bytes_total == 0 {
            return 100.0;
        }
        (self.bytes_done as f64 / self.bytes_total as f64 * 100.0).clamp(0.0, 100.0)
    }

    pub fn seconds_left(&self) -> Option<f64> {
        let rate = self.rate.filter(|r| *r > 0.0)?;
        Some(self.bytes_total.saturating_sub(self.bytes_done) as f64 / rate)
    }

    /// e.g. "Uploading 42% · 12.3 MB/s · about 20 s left". Chunks are the engine's business,
    /// not the member's (docs/architecture.md, "Messages members see").
    pub fn describe(&self) -> String {
        let mut parts = vec![format!("Uploading {:.0}%", self.percent().floor())];
        if let Some(rate) = self.rate {
            parts.push(format!("{:.1} MB/s", rate / 1e6));
        }
        if let Some(left) = self.seconds_left() {
            parts.push(format!("{} left", human_duration(left)));
        }
        parts.join(" · ")
    }
}

/// Tracks bytes sent over time.
#[derive(Debug, Default)]
pub struct Meter {
    samples: VecDeque<(f64, u64)>,
}

impl Meter {
    /// Records that `bytes_done` bytes were done at `now_ms`, and returns the current rate.
    pub fn record(&mut self, now_ms: f64, bytes_done: u64) -> Option<f64> {
        self.samples.push_back((now_ms, bytes_done));
        while self.samples.len() > 2
            && self
                .samples
                .front()
                .is_some_and(|(t, _)| now_ms - t > WINDOW_MS)
        {
            self.samples.pop_front();
        }
        let (t0, b0) = *self.samples.front()?;
        let elapsed = now_ms - t0;
        (elapsed >= 250.0).then(|| bytes_done.saturating_sub(b0) as f64 / (elapsed / 1000.0))
    }
}

pub fn human_duration(seconds: f64) -> String {
    let s = seconds.max(0.0).round() as u64;
    match s {
        0..=59 => format!("about {s} s"),
        60..=3599 => format!("about {} min", (s + 30) / 60),
        _ => format!("about {} h {} min", s / 3600, (s % 3600) / 60),
    }
}

pub use cloister_shared::protocol::human_bytes;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rate_is_bytes_over_the_window() {
        let mut meter = Meter::default();
        assert_eq!(meter.record(0.0, 0), None);
        assert_eq!(meter.record(100.0, 1_000_000), None, "too soon to measure");
        let rate = meter.record(1000.0, 4_000_000).expect("rate");
        assert!((rate - 4_000_000.0).abs() < 1.0, "{rate}");
        // Old samples fall out of the window, so the rate follows the link.
        meter.record(6_000.0, 4_000_000);
        let rate = meter.record(7_000.0, 5_000_000).expect("rate");
        // Only the last second is in the window: 1 MB in 1 s, not the 4 MB/s of the start.
        assert!((rate - 1_000_000.0).abs() < 1.0, "{rate}");
    }

    #[test]
    fn snapshot_describes_percent_rate_and_time_left() {
        let snapshot = Snapshot {
            bytes_done: 25_000_000,
            bytes_total: 100_000_000,
            chunks_done: 6,
            chunks_total: 24,
            rate: Some(5_000_000.0),
        };
        assert_eq!(
            snapshot.describe(),
            "Uploading 25% · 5.0 MB/s · about 15 s left"
        );
        let empty = Snapshot {
            bytes_done: 0,
            bytes_total: 0,
            chunks_done: 0,
            chunks_total: 1,
            rate: None,
        };
        assert_eq!(empty.percent(), 100.0);
        assert_eq!(empty.seconds_left(), None);
    }

    #[test]
    fn durations_read_naturally() {
        assert_eq!(human_duration(42.4), "about 42 s");
        assert_eq!(human_duration(125.0), "about 2 min");
        assert_eq!(human_duration(3725.0), "about 1 h 2 min");
    }
}
