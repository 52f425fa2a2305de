//! Estimates: how long processing takes, from a moving median of seconds per GB over recent
//! finished jobs (`job_metrics`), and how long a job will wait behind the queue.

use super::metrics_store;
use crate::db::Db;

use crate::error::AppResult;

const GB: f64 = 1024.0 * 1024.0 * 1024.0;
/// Before any job has finished: the seed's conservative 4–10 minutes per GB, taken at 5.
pub const DEFAULT_SECONDS_PER_GB: f64 = 300.0;
/// Starting ffmpeg, probing and sealing cost a few seconds even for a tiny clip.
const FIXED_SECONDS: f64 = 5.0;
/// How many recent jobs the median looks at.
pub const WINDOW: i64 = 20;

/// The median seconds per GB of the last jobs, if any finished.
pub async fn seconds_per_gb(db: &Db) -> AppResult<Option<f64>> {
    let mut recent = metrics_store::recent_seconds_per_gb(db, WINDOW).await?;
    recent.retain(|v| v.is_finite() && *v >= 0.0);
    if recent.is_empty() {
        return Ok(None);
    }
    recent.sort_by(f64::total_cmp);
    let mid = recent.len() / 2;
    let median = if recent.len().is_multiple_of(2) {
        (recent[mid - 1] + recent[mid]) / 2.0
    } else {
        recent[mid]
    };
    Ok(Some(median))
}

/// Seconds to process `size_bytes` at `seconds_per_gb`.
pub fn processing_seconds(size_bytes: u64, seconds_per_gb: f64) -> u64 {
    (FIXED_SECONDS + size_bytes as f64 / GB * seconds_per_gb).round() as u64
}

/// What is left of a running job: extrapolated from its progress once there is some, else the
/// estimate less the time spent.
pub fn remaining_seconds(estimate: u64, elapsed: u64, percent: f32) -> u64 {
    if (5.0..100.0).contains(&percent) {
        let per_percent = elapsed as f64 / f64::from(percent);
        (per_percent * f64::from(100.0 - percent)).round() as u64
    } else {
        estimate.saturating_sub(elapsed)
    }
}

/// Records a finished job's pace.
pub async fn record(
    db: &Db,
    job_id: i64,
    size_bytes: u64,
    seconds: f64,
    finished_at: i64,
) -> AppResult<()> {
    let per_gb = if size_bytes == 0 {
        0.0
    } else {
        seconds / (size_bytes as f64 / GB)
    };
    let size_bytes = i64::try_from(size_bytes).unwrap_or(i64::MAX);
    metrics_store::insert(db, job_id, size_bytes, seconds, per_gb, finished_at).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn estimates_scale_with_size_and_progress() {
        assert_eq!(processing_seconds(0, 300.0), 5);
        assert_eq!(processing_seconds(1 << 30, 300.0), 305);
        // Half done after 60 s: about 60 s left.
        assert_eq!(remaining_seconds(1000, 60, 50.0), 60);
        // No progress yet: the estimate less the time spent.
        assert_eq!(remaining_seconds(100, 30, 1.0), 70);
        assert_eq!(remaining_seconds(10, 30, 0.0), 0);
    }
}
