//! Live events over the WebSocket at `GET /api/events` (docs/architecture.md, "Events"). The server sends
//! one JSON text frame per [`Event`], in order; `seq` grows by one per event the server records,
//! so a client that sees a gap (or reconnects) knows to resync over REST.
//!
//! A few events concern one member only (their download is ready): those are sent to that
//! member's sockets alone with `seq` [`PERSONAL_SEQ`], outside the global order, so they never
//! look like a gap to anyone; a client that missed one finds the state over REST.

use serde::{Deserialize, Serialize};

use super::jobs::JobPhase;
use crate::ids::VideoId;

/// The `seq` of a frame meant for one member only (not part of the global order).
pub const PERSONAL_SEQ: i64 = 0;

/// One frame on the wire.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EventFrame {
    /// Increases with every event the server records (not per connection).
    pub seq: i64,
    /// Unix seconds.
    pub at: i64,
    pub event: Event,
}

/// What happened. Every member sees every video's processing (the library is the group's).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Event {
    /// A video was uploaded and its processing queued.
    JobQueued {
        job_id: i64,
        video_id: VideoId,
        queue_position: u64,
    },
    /// A worker took the job and passed the resource gate.
    JobStarted {
        job_id: i64,
        video_id: VideoId,
        attempt: u32,
    },
    /// Phase and percent of a running job (sent at most about once a second per job).
    JobProgress {
        job_id: i64,
        video_id: VideoId,
        phase: JobPhase,
        /// 0–100 over the whole pipeline.
        percent: f32,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        eta_seconds: Option<u64>,
    },
    /// The video is ready to watch.
    JobDone {
        job_id: i64,
        video_id: VideoId,
    },
    /// An attempt failed.
    JobFailed {
        job_id: i64,
        video_id: VideoId,
        /// Short, for people: "the file is not a video".
        reason: String,
        will_retry: bool,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        retry_at: Option<i64>,
    },
    /// The gate held the job back.
    JobDeferred {
        job_id: i64,
        video_id: VideoId,
        /// In words and numbers: "RAM in use 74 % (limit 72 %)".
        reasons: Vec<String>,
        retry_at: i64,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        eta_seconds: Option<u64>,
        /// Deferred for longer than the escalation limit.
        overdue: bool,
    },
    JobCancelled {
        job_id: i64,
        video_id: VideoId,
    },
    /// The video went to the trash: it leaves every gallery (docs/decisions.md, "Trash").
    VideoTrashed {
        video_id: VideoId,
    },
    /// The video came back from the trash.
    VideoRestored {
        video_id: VideoId,
    },
    /// The video was deleted for good.
    VideoPurged {
        video_id: VideoId,
    },
    /// The video's title or description changed: open views and tiles fetch it again.
    VideoEdited {
        video_id: VideoId,
    },
    /// Personal: the member's queued download can be fetched now (until `expires_at`).
    DownloadReady {
        download_id: String,
        video_id: VideoId,
        file_name: String,
        url: String,
        expires_at: i64,
    },
    /// Personal: the member's download link was not used in time.
    DownloadExpired {
        download_id: String,
        video_id: VideoId,
        file_name: String,
    },
    /// Admins only: a member made keys and waits for an admin to let them in.
    AccessRequested {
        username: String,
    },
    /// Personal: an admin let the member in (their grant is in `GET /api/library`).
    AccessGranted,
    /// The library key changed (a key change started or finished): fetch `GET /api/library` again.
    LibraryKeyChanged {
        generation: u32,
    },
}

impl Event {
    /// The video the event is about (`None` for library and access events).
    pub fn video_id(&self) -> Option<VideoId> {
        Some(match self {
            Self::JobQueued { video_id, .. }
            | Self::JobStarted { video_id, .. }
            | Self::JobProgress { video_id, .. }
            | Self::JobDone { video_id, .. }
            | Self::JobFailed { video_id, .. }
            | Self::JobDeferred { video_id, .. }
            | Self::JobCancelled { video_id, .. }
            | Self::VideoTrashed { video_id }
            | Self::VideoRestored { video_id }
            | Self::VideoPurged { video_id }
            | Self::VideoEdited { video_id }
            | Self::DownloadReady { video_id, .. }
            | Self::DownloadExpired { video_id, .. } => *video_id,
            Self::AccessRequested { .. } | Self::AccessGranted | Self::LibraryKeyChanged { .. } => {
                return None
            }
        })
    }

    /// The processing job the event is about (`None` for download and library events).
    pub fn job_id(&self) -> Option<i64> {
        Some(match self {
            Self::JobQueued { job_id, .. }
            | Self::JobStarted { job_id, .. }
            | Self::JobProgress { job_id, .. }
            | Self::JobDone { job_id, .. }
            | Self::JobFailed { job_id, .. }
            | Self::JobDeferred { job_id, .. }
            | Self::JobCancelled { job_id, .. } => *job_id,
            Self::VideoTrashed { .. }
            | Self::VideoRestored { .. }
            | Self::VideoPurged { .. }
            | Self::VideoEdited { .. }
            | Self::DownloadReady { .. }
            | Self::DownloadExpired { .. }
            | Self::AccessRequested { .. }
            | Self::AccessGranted
            | Self::LibraryKeyChanged { .. } => return None,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn events_are_tagged_by_type() {
        let frame = EventFrame {
            seq: 7,
            at: 1,
            event: Event::JobProgress {
                job_id: 3,
                video_id: VideoId::from_bytes([1; 16]),
                phase: JobPhase::Transcoding,
                percent: 42.5,
                eta_seconds: None,
            },
        };
        let json = serde_json::to_value(&frame).unwrap();
        assert_eq!(json["event"]["type"], "job_progress");
        assert_eq!(json["event"]["phase"], "transcoding");
        let back: EventFrame = serde_json::from_value(json).unwrap();
        assert_eq!(back, frame);
    }
}
