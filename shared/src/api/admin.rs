//! The admin console (docs/admin.md): `/api/admin/jobs…`, `/api/admin/machine`,
//! `/api/admin/speed`, `/api/admin/storage` and `/api/admin/housekeeping…`. Every route answers
//! 401 to nobody and 403 to a member.

use std::fmt;

use serde::{Deserialize, Serialize};

use super::jobs::{JobInfo, LoadStatus};

/// One job as an admin sees it: what members see, plus who runs it and for how long.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AdminJob {
    #[serde(flatten)]
    pub job: JobInfo,
    /// The worker holding a running job (`<host>:<pid>:<n>`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub worker: Option<String>,
    /// An admin said "run it anyway": the gate is skipped for this job.
    #[serde(default)]
    pub run_anyway: bool,
    /// Seconds of the last attempt: from its start to its end, or to now while it runs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub duration_secs: Option<u64>,
}

/// `GET /api/admin/jobs[?active=true]`: the active queue in the order workers take it, then the
/// most recent finished jobs, newest first.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AdminJobList {
    pub jobs: Vec<AdminJob>,
}

/// `POST /api/admin/jobs/{id}/retry`: the server erased its copy of the video's key when the job
/// ended, so a retry hands it over again, as completing the upload did.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RetryJobRequest {
    /// The video's DEK: 32 bytes, hex.
    pub dek: String,
}

// The DEK must never reach a log line through `{:?}`.
impl fmt::Debug for RetryJobRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RetryJobRequest").finish_non_exhaustive()
    }
}

/// `POST /api/admin/jobs/{id}/priority`: `{"to": "top"}`, `{"to": "bottom"}` or
/// `{"to": "value", "priority": 5}`. Workers take higher priorities first, then the oldest.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "to", rename_all = "snake_case")]
pub enum PriorityRequest {
    /// Ahead of every other waiting job.
    Top,
    /// Behind every other waiting job.
    Bottom,
    Value {
        priority: i64,
    },
}

/// The largest priority an admin may set, either way: plenty for a small group's queue.
pub const MAX_PRIORITY: i64 = 1_000_000;

/// The gate's thresholds, so gauges can mark them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GateLimits {
    /// A job starts only with more than this available.
    pub min_available_ram_bytes: u64,
    /// ... and RAM use below this percentage.
    pub max_ram_percent: f64,
    /// ... and swap use below this.
    pub max_swap_used_bytes: u64,
    /// ... and the 1-minute load below this.
    pub max_load: f64,
    /// ... and more than twice a job's size plus this free on disk.
    pub disk_reserve_bytes: u64,
}

/// `GET /api/admin/machine`: the load status and the limits it is judged by.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MachineStatus {
    pub load: LoadStatus,
    pub limits: GateLimits,
}

/// One finished job's pace.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SpeedPoint {
    /// Absent once the job row is gone.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub job_id: Option<i64>,
    /// Unix seconds.
    pub finished_at: i64,
    pub size_bytes: u64,
    pub seconds: f64,
    pub seconds_per_gb: f64,
}

/// `GET /api/admin/speed`: recent finished jobs, oldest first, and the median the ETAs use.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SpeedHistory {
    pub points: Vec<SpeedPoint>,
    /// The median seconds per GB of the last `window` jobs; absent before any job finished.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub median_seconds_per_gb: Option<f64>,
    pub window: u32,
    /// What estimates assume before any job finished.
    pub default_seconds_per_gb: f64,
}

/// One account's storage.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserStorage {
    pub username: String,
    pub role: super::Role,
    pub quota_bytes: u64,
    /// What the quota counts: the plaintext size of every video, unfinished uploads included.
    pub quota_used_bytes: u64,
    /// What the user's videos take on disk: sealed originals, renditions, thumbnails, manifests.
    pub stored_bytes: u64,
    pub videos: u64,
}

/// `GET /api/admin/storage`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StorageReport {
    pub users: Vec<UserStorage>,
    /// Free space of the data directory's filesystem.
    pub disk_free_bytes: u64,
    /// The trash, counted in the users' figures too until it is purged.
    #[serde(default)]
    pub trash: TrashStorage,
}

/// What the trash holds (docs/admin.md, "Storage").
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TrashStorage {
    pub videos: u64,
    /// Plaintext sizes, as quotas count them.
    pub quota_bytes: u64,
    /// What the trashed videos take on disk.
    pub stored_bytes: u64,
}

/// What housekeeping can remove.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CleanupKind {
    /// Unfinished uploads with no new chunk for an hour.
    AbandonedUploads,
    /// Renditions no manifest names and no running job writes: failed or killed attempts' output.
    FailedLeftovers,
    /// Entries of `tmp/` no running job owns.
    TempFiles,
}

impl CleanupKind {
    pub const ALL: [Self; 3] = [
        Self::AbandonedUploads,
        Self::FailedLeftovers,
        Self::TempFiles,
    ];

    pub const fn as_str(self) -> &'static str {
        match self {
            Self::AbandonedUploads => "abandoned_uploads",
            Self::FailedLeftovers => "failed_leftovers",
            Self::TempFiles => "temp_files",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|kind| kind.as_str() == s)
    }

    /// Words for people.
    pub const fn label(self) -> &'static str {
        match self {
            Self::AbandonedUploads => "Abandoned uploads",
            Self::FailedLeftovers => "Failed jobs' leftovers",
            Self::TempFiles => "Temporary files",
        }
    }
}

/// One category of removable files and what removing them frees.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CleanupCategory {
    pub kind: CleanupKind,
    pub items: u64,
    pub bytes: u64,
    /// What the category holds, in words.
    pub description: String,
}

/// `GET /api/admin/housekeeping`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HousekeepingReport {
    pub categories: Vec<CleanupCategory>,
}

/// `POST /api/admin/housekeeping/clean`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct CleanRequest {
    pub kind: CleanupKind,
}

/// What a clean removed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct CleanResult {
    pub kind: CleanupKind,
    pub removed: u64,
    pub freed_bytes: u64,
}

/// "42 s", "12 min", "3 h 5 min": how long something took, for people.
pub fn describe_span(seconds: u64) -> String {
    match seconds {
        0..=119 => format!("{seconds} s"),
        120..=7199 => format!("{} min", seconds / 60),
        _ => format!("{} h {} min", seconds / 3600, seconds % 3600 / 60),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spans_read_at_a_glance() {
        assert_eq!(describe_span(42), "42 s");
        assert_eq!(describe_span(12 * 60 + 5), "12 min");
        assert_eq!(describe_span(3 * 3600 + 300), "3 h 5 min");
    }

    #[test]
    fn priority_requests_name_their_target() {
        let top: PriorityRequest = serde_json::from_str(r#"{"to":"top"}"#).unwrap();
        assert_eq!(top, PriorityRequest::Top);
        let value: PriorityRequest =
            serde_json::from_str(r#"{"to":"value","priority":-3}"#).unwrap();
        assert_eq!(value, PriorityRequest::Value { priority: -3 });
        assert!(serde_json::from_str::<PriorityRequest>(r#"{"to":"middle"}"#).is_err());
    }

    #[test]
    fn cleanup_kinds_round_trip_their_names() {
        for kind in CleanupKind::ALL {
            assert_eq!(CleanupKind::parse(kind.as_str()), Some(kind));
            assert_eq!(
                serde_json::to_string(&kind).unwrap(),
                format!("\"{}\"", kind.as_str())
            );
        }
        assert_eq!(CleanupKind::parse("everything"), None);
    }

    #[test]
    fn a_retry_request_never_prints_its_key() {
        let request = RetryJobRequest {
            dek: "ab".repeat(32),
        };
        assert!(!format!("{request:?}").contains("abab"));
    }
}
