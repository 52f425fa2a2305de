//! The library listing: `GET /api/videos` (minimal metadata, cursor-paged, newest first), and the
//! paths of a processed video's sealed files.

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
    /// Length of the processed video, once it is `ready`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub duration_ms: Option<u64>,
    /// A sealed thumbnail can be fetched (only when `ready`).
    #[serde(default)]
    pub has_thumb: bool,
    /// The published rendition (16 hex digits) of a `ready` video: it names the immutable URLs of
    /// the thumbnail, the manifest and the segments (see [`paths`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rendition: Option<String>,
    /// Hex of a sealed stream, `Purpose::Description`. Only in `GET /api/videos/{id}`, not in
    /// pages (it may be long, and the gallery does not show it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description_sealed: Option<String>,
    /// Hex of a sealed stream, `Purpose::FileName`: the name the file had when it was uploaded.
    /// Only in `GET /api/videos/{id}`; absent for videos uploaded before it was recorded.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub file_name_sealed: Option<String>,
}

impl VideoSummary {
    /// The decrypted title, or `None` when it does not open under `key` (another library, or
    /// tampered with). Trimmed; possibly empty.
    pub fn open_title(
        &self,
        key: &(impl crate::crypto::keys::OpensVideoKeys + ?Sized),
    ) -> Option<String> {
        self.open_text(key, &self.title_sealed, &crate::Purpose::Title)
    }

    /// The decrypted description, when there is one and it opens.
    pub fn open_description(
        &self,
        key: &(impl crate::crypto::keys::OpensVideoKeys + ?Sized),
    ) -> Option<String> {
        let sealed = self.description_sealed.as_deref()?;
        self.open_text(key, sealed, &crate::Purpose::Description)
    }

    /// The original file name, when it was recorded and opens.
    pub fn open_file_name(
        &self,
        key: &(impl crate::crypto::keys::OpensVideoKeys + ?Sized),
    ) -> Option<String> {
        let sealed = self.file_name_sealed.as_deref()?;
        self.open_text(key, sealed, &crate::Purpose::FileName)
    }

    fn open_text(
        &self,
        key: &(impl crate::crypto::keys::OpensVideoKeys + ?Sized),
        sealed_hex: &str,
        purpose: &crate::Purpose,
    ) -> Option<String> {
        let dek = key.open_video_key(&self.video_id, &self.wrapped_dek).ok()?;
        let sealed = hex::decode(sealed_hex).ok()?;
        let plain = crate::crypto::stream::open_all(&dek, &self.video_id, purpose, &sealed).ok()?;
        Some(String::from_utf8_lossy(&plain).trim().to_owned())
    }

    /// The sealed manifest's immutable URL, once the video is ready.
    pub fn manifest_url(&self) -> Option<String> {
        let rendition = self.rendition.as_deref()?;
        Some(paths::manifest(&self.video_id, rendition))
    }

    /// The sealed thumbnail's immutable URL, when the ready video has one.
    pub fn thumb_url(&self) -> Option<String> {
        let rendition = self.rendition.as_deref().filter(|_| self.has_thumb)?;
        Some(paths::thumb(&self.video_id, rendition))
    }
}

/// Paths of a video's sealed files under the published rendition. Rendition files never change
/// (a new processing run writes a new rendition), so the server lets browsers cache them for good.
pub mod paths {
    use crate::ids::VideoId;

    /// `/api/videos/{id}/manifest?rendition={r}`.
    pub fn manifest(video: &VideoId, rendition: &str) -> String {
        format!("/api/videos/{video}/manifest?rendition={rendition}")
    }

    /// `/api/videos/{id}/thumb?rendition={r}`.
    pub fn thumb(video: &VideoId, rendition: &str) -> String {
        format!("/api/videos/{video}/thumb?rendition={rendition}")
    }

    /// `/api/videos/{id}/renditions/{r}/init`.
    pub fn init(video: &VideoId, rendition: &str) -> String {
        format!("/api/videos/{video}/renditions/{rendition}/init")
    }

    /// `/api/videos/{id}/renditions/{r}/segments/{n}`.
    pub fn segment(video: &VideoId, rendition: &str, index: u32) -> String {
        format!("/api/videos/{video}/renditions/{rendition}/segments/{index}")
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

/// `GET /api/videos/index`: every video the viewer can see, in one compact answer, for the
/// browser to decrypt and search (docs/api.md, "Find"). Newest upload first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VideoIndex {
    pub videos: Vec<IndexEntry>,
}

/// One video of the index. Absent options are left out of the JSON, to keep 5,000 entries small.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IndexEntry {
    pub video_id: VideoId,
    pub status: VideoStatus,
    /// Username of the uploader.
    pub owner: String,
    /// Upload time, Unix seconds.
    pub created_at: i64,
    /// Plaintext size of the original.
    pub size_bytes: u64,
    /// Length of the processed video, once it is `ready`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub duration_ms: Option<u64>,
    pub wrapped_dek: WrappedKey,
    /// Hex of a sealed stream, `Purpose::Title`.
    pub title_sealed: String,
    /// Hex of a sealed stream, `Purpose::Description`, when there is one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description_sealed: Option<String>,
    /// Hex of a sealed stream, `Purpose::Metadata` ([`VideoMetadata`]), once processing made it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metadata_sealed: Option<String>,
    /// The published rendition of a `ready` video (see [`VideoSummary::rendition`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rendition: Option<String>,
    /// A sealed thumbnail can be fetched (only when `ready`).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub has_thumb: bool,
}

impl IndexEntry {
    /// The entry as a listing summary (what a gallery tile takes); no description or file name.
    pub fn summary(&self) -> VideoSummary {
        VideoSummary {
            video_id: self.video_id,
            status: self.status,
            size_bytes: self.size_bytes,
            created_at: self.created_at,
            title_sealed: self.title_sealed.clone(),
            wrapped_dek: self.wrapped_dek.clone(),
            owner: self.owner.clone(),
            duration_ms: self.duration_ms,
            has_thumb: self.has_thumb,
            rendition: self.rendition.clone(),
            description_sealed: None,
            file_name_sealed: None,
        }
    }
}

/// The current [`VideoMetadata`] version.
pub const METADATA_VERSION: u32 = 1;

/// What processing learnt of a video, sealed under `Purpose::Metadata` by the worker (which holds
/// the video's key while it processes) so the server keeps none of it in the clear
/// (docs/format.md, "Sealed metadata").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct VideoMetadata {
    pub version: u32,
    /// When the video was recorded, Unix seconds: the container's creation time, when it has one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub recorded_at: Option<i64>,
    /// Length of the processed video.
    pub duration_ms: u64,
    /// Display size of the processed picture (after rotation): `height > width` is portrait.
    pub width: u32,
    pub height: u32,
}

impl VideoMetadata {
    /// Opens a sealed metadata stream (hex) of `video` with its DEK; `None` if it does not open
    /// or is not metadata this version understands.
    pub fn open(dek: &crate::Dek, video: &VideoId, sealed_hex: &str) -> Option<Self> {
        let sealed = hex::decode(sealed_hex).ok()?;
        let plain =
            crate::crypto::stream::open_all(dek, video, &crate::Purpose::Metadata, &sealed).ok()?;
        serde_json::from_slice(&plain).ok()
    }

    /// A picture taller than wide.
    pub fn portrait(&self) -> bool {
        self.height > self.width
    }
}
