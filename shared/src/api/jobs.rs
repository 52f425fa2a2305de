//! Processing jobs and the server's load (docs/architecture.md): `GET /api/jobs`, `GET /api/jobs/{id}`,
//! `POST /api/jobs/{id}/cancel`, `POST /api/jobs/{id}/run-anyway` and `GET /api/status/load`.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::ids::VideoId;

/// The job state machine: `queued → running → done`, with `waiting_resource` (the gate said no;
/// retried at `retry_at`), `failed` (after the retries; the original is kept) and `cancelled`.
/// A failed attempt that will be retried goes back to `queued` with a `retry_at`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum JobStatus {
    Queued,
    WaitingResource,
    Running,
    Done,
    Failed,
    Cancelled,
}

impl JobStatus {
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Queued => "queued",
            Self::WaitingResource => "waiting_resource",
            Self::Running => "running",
            Self::Done => "done",
            Self::Failed => "failed",
            Self::Cancelled => "cancelled",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "queued" => Self::Queued,
            "waiting_resource" => Self::WaitingResource,
            "running" => Self::Running,
            "done" => Self::Done,
            "failed" => Self::Failed,
            "cancelled" => Self::Cancelled,
            _ => return None,
        })
    }

    /// Done, failed or cancelled: nothing more will happen to the job by itself.
    pub const fn is_final(self) -> bool {
        matches!(self, Self::Done | Self::Failed | Self::Cancelled)
    }
}

impl fmt::Display for JobStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What a running processing job is doing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum JobPhase {
    /// Opening the sealed original into a private temp file.
    Decrypting,
    /// Reading the streams with ffprobe.
    Probing,
    /// Rewrapping browser-playable streams into segments without re-encoding.
    Remuxing,
    /// Re-encoding to H.264/AAC at most 720p.
    Transcoding,
    /// Making the thumbnail.
    Thumbnail,
    /// Sealing segments, thumbnail and manifest.
    Sealing,
    /// The process running the job stopped (a crash or a kill); the job is taken up again once
    /// its lease lapses.
    Interrupted,
}

impl JobPhase {
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Decrypting => "decrypting",
            Self::Probing => "probing",
            Self::Remuxing => "remuxing",
            Self::Transcoding => "transcoding",
            Self::Thumbnail => "thumbnail",
            Self::Sealing => "sealing",
            Self::Interrupted => "interrupted",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "decrypting" => Self::Decrypting,
            "probing" => Self::Probing,
            "remuxing" => Self::Remuxing,
            "transcoding" => Self::Transcoding,
            "thumbnail" => Self::Thumbnail,
            "sealing" => Self::Sealing,
            "interrupted" => Self::Interrupted,
            _ => return None,
        })
    }

    /// Words for people: "Converting". The first phase opens the original for ffmpeg but is
    /// called "Preparing": the server's own work is not what "decrypting" means to a member of an
    /// end-to-end-encrypted library (docs/architecture.md, "Messages members see").
    pub const fn label(self) -> &'static str {
        match self {
            Self::Decrypting => "Preparing",
            Self::Probing => "Reading the video",
            Self::Remuxing => "Preparing for streaming",
            Self::Transcoding => "Converting",
            Self::Thumbnail => "Making the thumbnail",
            Self::Sealing => "Encrypting",
            Self::Interrupted => "Interrupted, resuming",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum JobKind {
    Process,
    Download,
}

/// One job as the API shows it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct JobInfo {
    pub job_id: i64,
    pub video_id: VideoId,
    pub kind: JobKind,
    pub status: JobStatus,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phase: Option<JobPhase>,
    /// 0–100 over the whole pipeline.
    pub percent: f32,
    /// Attempts started so far (a retry is attempt 2).
    pub attempts: u32,
    pub max_attempts: u32,
    pub priority: i64,
    /// Unix seconds.
    pub queued_at: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub started_at: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub finished_at: Option<i64>,
    /// When a waiting or retrying job is next tried (Unix seconds).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retry_at: Option<i64>,
    /// Estimated seconds until done: the rest of a running job, or the wait plus the work of a
    /// queued one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub eta_seconds: Option<u64>,
    /// 1 = next to start; absent once running or finished.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub queue_position: Option<u64>,
    /// Short reason of the last failure.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// Why the gate holds the job back, in words and numbers ("RAM in use 74 % (limit 72 %)").
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub wait_reasons: Vec<String>,
    /// Deferred for longer than the escalation limit: an admin may run it anyway.
    #[serde(default)]
    pub overdue: bool,
    /// Size of the video's plaintext (bytes).
    pub size_bytes: u64,
    /// Username of the uploader.
    pub owner: String,
}

/// `GET /api/jobs?video_id=…&active=true`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct JobList {
    pub jobs: Vec<JobInfo>,
}

/// What the resource monitor read.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ResourceReadings {
    pub total_ram_bytes: u64,
    pub available_ram_bytes: u64,
    /// Share of RAM in use, 0–100.
    pub ram_percent: f64,
    pub swap_used_bytes: u64,
    pub load_1m: f64,
    pub cores: u32,
    /// Free space of the data directory's filesystem.
    pub disk_free_bytes: u64,
}

/// `GET /api/status/load`: the readings, the gate's verdict and the queue.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LoadStatus {
    pub readings: ResourceReadings,
    /// True when a job of ordinary size could start now.
    pub gate_open: bool,
    /// Why not, in words and numbers; empty when open.
    pub reasons: Vec<String>,
    /// Processing jobs queued, waiting or running.
    pub queue_length: u64,
    pub running_jobs: u64,
    pub workers: u32,
    pub active_downloads: u32,
    pub max_downloads: u32,
    /// Median seconds of processing per GB of video over recent jobs, if any finished yet.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub seconds_per_gb: Option<f64>,
    /// For members: why the gate is closed in plain words, without figures ("It is short of
    /// memory."); empty when open. `reasons` keeps the numbers for admins.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub plain_reasons: Vec<String>,
    /// For members, while the gate is closed: seconds until what is queued now is probably
    /// processed, only when the server can say so honestly (docs/decisions.md); absent otherwise.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub busy_estimate_seconds: Option<u64>,
}

/// "about 3 minutes", "less than a minute", "about 2 hours": an estimate, never exact.
pub fn describe_wait(seconds: u64) -> String {
    match seconds {
        0..=59 => "less than a minute".to_owned(),
        60..=5399 => {
            let minutes = (seconds + 30) / 60;
            if minutes == 1 {
                "about 1 minute".to_owned()
            } else {
                format!("about {minutes} minutes")
            }
        }
        _ => {
            let hours = (seconds + 1800) / 3600;
            format!("about {hours} hours")
        }
    }
}

/// The seed's deferral message, with the reasons and the wait (docs/architecture.md).
pub fn deferred_message(reasons: &[String], eta_seconds: Option<u64>) -> String {
    let mut message = "Processing delayed: server busy".to_owned();
    if !reasons.is_empty() {
        message.push_str(" (");
        message.push_str(&reasons.join("; "));
        message.push(')');
    }
    message.push_str(
        ". Your video is queued and will be processed automatically when resources allow. \
         We'll notify you when it's ready.",
    );
    if let Some(eta) = eta_seconds {
        message.push_str(" Estimated wait: ");
        message.push_str(&describe_wait(eta));
        message.push('.');
    }
    message
}

/// The seed's failure message (docs/architecture.md).
pub fn failed_message(reason: &str, will_retry: bool) -> String {
    if will_retry {
        format!(
            "Processing failed: {reason}. We will retry automatically. If it fails again, contact admin."
        )
    } else {
        format!("Processing failed: {reason}. The original is kept; contact admin.")
    }
}

/// Told to the uploader when a job has been deferred for longer than the escalation limit.
pub const OVERDUE_MESSAGE: &str = "Processing is taking unusually long because the server has \
     been busy for a while. An admin can start it anyway.";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_and_phases_round_trip_their_names() {
        for s in [
            JobStatus::Queued,
            JobStatus::WaitingResource,
            JobStatus::Running,
            JobStatus::Done,
            JobStatus::Failed,
            JobStatus::Cancelled,
        ] {
            assert_eq!(JobStatus::parse(s.as_str()), Some(s));
            assert_eq!(
                serde_json::to_string(&s).unwrap(),
                format!("\"{}\"", s.as_str())
            );
        }
        for p in [
            JobPhase::Decrypting,
            JobPhase::Probing,
            JobPhase::Remuxing,
            JobPhase::Transcoding,
            JobPhase::Thumbnail,
            JobPhase::Sealing,
            JobPhase::Interrupted,
        ] {
            assert_eq!(JobPhase::parse(p.as_str()), Some(p));
        }
        assert_eq!(JobStatus::parse("stalled"), None);
    }

    #[test]
    fn waits_are_described_roughly() {
        assert_eq!(describe_wait(10), "less than a minute");
        assert_eq!(describe_wait(60), "about 1 minute");
        assert_eq!(describe_wait(12 * 60 + 10), "about 12 minutes");
        assert_eq!(describe_wait(3 * 3600), "about 3 hours");
    }

    #[test]
    fn the_deferral_message_names_reasons_and_wait() {
        let m = deferred_message(&["RAM in use 74 % (limit 72 %)".to_owned()], Some(720));
        assert!(m.starts_with("Processing delayed: server busy (RAM in use 74 % (limit 72 %))."));
        assert!(m.contains("processed automatically when resources allow"));
        assert!(m.ends_with("Estimated wait: about 12 minutes."));
    }
}
