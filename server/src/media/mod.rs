//! PLACEHOLDER written by the lead so the tree compiles while the media helper works:
//! the helper replaces this whole file with the real module (same public API).

use std::path::{Path, PathBuf};
use std::time::Duration;

use cloister_shared::api::jobs::JobPhase;
use cloister_shared::manifest::Preparation;
use tokio_util::sync::CancellationToken;

pub struct MediaTools {
    pub ffmpeg: PathBuf,
    pub ffprobe: PathBuf,
    pub nice: bool,
    pub time_limit_base: Duration,
    pub time_limit_factor: f64,
}

impl MediaTools {
    pub fn from_path() -> Self {
        Self {
            ffmpeg: "ffmpeg".into(),
            ffprobe: "ffprobe".into(),
            nice: true,
            time_limit_base: Duration::from_secs(600),
            time_limit_factor: 10.0,
        }
    }
}

pub struct PreparedSegment {
    pub path: PathBuf,
    pub start_ms: u64,
    pub duration_ms: u64,
}

pub struct PreparedMedia {
    pub duration_ms: u64,
    pub width: u32,
    pub height: u32,
    pub mime_codec: String,
    pub has_audio: bool,
    pub preparation: Preparation,
    pub init: PathBuf,
    pub segments: Vec<PreparedSegment>,
    pub thumb: Option<PathBuf>,
}

#[derive(Debug, thiserror::Error)]
pub enum MediaError {
    #[error("not a video")]
    NotAVideo,
    #[error("unreadable: {0}")]
    Unreadable(String),
    #[error("timed out after {0:?}")]
    TimedOut(Duration),
    #[error("cancelled")]
    Cancelled,
    #[error("tool: {0}")]
    Tool(String),
    #[error(transparent)]
    Io(#[from] std::io::Error),
}

impl MediaError {
    pub fn short_reason(&self) -> String {
        self.to_string()
    }
    pub fn retryable(&self) -> bool {
        !matches!(self, Self::NotAVideo | Self::Cancelled)
    }
}

pub async fn prepare(
    _tools: &MediaTools,
    _input: &Path,
    _work_dir: &Path,
    _cancel: &CancellationToken,
    _on_progress: &(dyn Fn(JobPhase, f32) + Send + Sync),
) -> Result<PreparedMedia, MediaError> {
    Err(MediaError::Tool("placeholder".into()))
}
