//! The library listing: `GET /api/videos` (minimal metadata, cursor-paged, newest first).

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::crypto::keys::WrappedKey;
use crate::ids::VideoId;

/// Where a video is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum VideoStatus {
    Uploading,
    Uploaded,
    Processing,
    Ready,
    Failed,
}

impl VideoStatus {
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Uploading => "uploading",
            Self::Uploaded => "uploaded",
            Self::Processing => "processing",
            Self::Ready => "ready",
            Self::Failed => "failed",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "uploading" => Self::Uploading,
            "uploaded" => Self::Uploaded,
            "processing" => Self::Processing,
            "ready" => Self::Ready,
            "failed" => Self::Failed,
            _ => return None,
        })
    }
}

impl fmt::Display for VideoStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

pub const DEFAULT_PAGE_LIMIT: u32 = 50;
pub const MAX_PAGE_LIMIT: u32 = 200;

/// One video in a listing. The title is sealed: open it with the DEK unwrapped from `wrapped_dek`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VideoSummary {
    pub video_id: VideoId,
    pub status: VideoStatus,
    pub size_bytes: u64,
    /// Unix seconds.
    pub created_at: i64,
    /// Hex of a sealed stream, `Purpose::Title`.
    pub title_sealed: String,
    pub wrapped_dek: WrappedKey,
    /// Username of the uploader.
    pub owner: String,
}

impl VideoSummary {
    /// The decrypted title, or `None` when it does not open under `key` (another library, or
    /// tampered with). Trimmed; possibly empty.
    pub fn open_title(&self, key: &crate::LibraryKey) -> Option<String> {
        let dek = crate::unwrap_dek(key, &self.video_id, &self.wrapped_dek).ok()?;
        let sealed = hex::decode(&self.title_sealed).ok()?;
        let plain =
            crate::crypto::stream::open_all(&dek, &self.video_id, &crate::Purpose::Title, &sealed)
                .ok()?;
        Some(String::from_utf8_lossy(&plain).trim().to_owned())
    }
}

/// `GET /api/videos?limit=N&cursor=C`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VideoPage {
    pub videos: Vec<VideoSummary>,
    /// Pass as `cursor` for the next (older) page; absent on the last page.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_cursor: Option<String>,
}
