//! The upload protocol: `/api/uploads/*` (docs/uploads.md). The client seals everything; the
//! server sees sizes, counts, the stream header and ciphertext, and the DEK only on *complete*.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::crypto::keys::WrappedKey;
use crate::ids::VideoId;

/// Largest sealed title accepted (bytes, header and tag included).
pub const MAX_TITLE_SEALED_BYTES: usize = 4 * 1024;
/// Largest sealed description accepted.
pub const MAX_DESCRIPTION_SEALED_BYTES: usize = 64 * 1024;
/// Largest sealed file name the server accepts.
pub const MAX_FILE_NAME_SEALED_BYTES: usize = 4 * 1024;
/// Length of an upload fingerprint, written as twice as many hex digits.
pub const FINGERPRINT_LEN: usize = 32;
/// Length of a resume MAC (`crypto::upload::resume_mac`), written as twice as many hex digits.
pub const RESUME_MAC_LEN: usize = 32;

/// `POST /api/uploads`. The client makes the video id (the DEK is wrapped with it as AAD).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CreateUploadRequest {
    pub video_id: VideoId,
    /// Plaintext size of the file.
    pub size_bytes: u64,
    pub chunk_count: u64,
    /// The original's 41-byte sealed-stream header, hex.
    pub stream_header: String,
    /// The DEK wrapped under the library key, the video id as AAD.
    pub wrapped_dek: WrappedKey,
    /// A sealed stream (`Purpose::Title`), hex.
    pub title_sealed: String,
    /// A sealed stream (`Purpose::Description`), hex.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description_sealed: Option<String>,
    /// A sealed stream (`Purpose::FileName`), hex: the file's name, for downloads.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub file_name_sealed: Option<String>,
    /// `upload_fingerprint(..)`, hex: finds this upload again to resume it.
    pub fingerprint: String,
    /// `crypto::upload::resume_mac(..)`, hex: the client checks it before resuming. Stored and
    /// returned as is; an upload created without one is never resumed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resume_mac: Option<String>,
    /// `crypto::fingerprint::content_fingerprint(..)`, hex: kept with the video so a later upload
    /// of the same content can be recognised (`GET /api/uploads/duplicates`). Optional: older
    /// clients do not send it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub content_fingerprint: Option<String>,
    /// The generation of the library key `wrapped_dek` is wrapped under: the server refuses
    /// (409) any but the current one, so no video is made under a key a removed member had.
    pub key_generation: u32,
}

/// `GET /api/uploads/duplicates?fingerprint=…`: the visible videos with this content
/// fingerprint, oldest first. The browser opens the title to say "You already uploaded this on
/// <date> as <title>".
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DuplicateList {
    pub videos: Vec<DuplicateVideo>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DuplicateVideo {
    pub video_id: VideoId,
    /// Unix seconds.
    pub created_at: i64,
    pub owner: String,
    /// Hex of the sealed title.
    pub title_sealed: String,
    pub wrapped_dek: WrappedKey,
}

/// At most this many matches are listed.
pub const MAX_DUPLICATES_LISTED: u32 = 10;

/// `201` answer to `POST /api/uploads`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UploadCreated {
    pub video_id: VideoId,
    pub chunk_size: u32,
    pub chunk_count: u64,
    /// Chunk indexes the server holds (empty for a new upload).
    pub received: Vec<u64>,
    /// Set when processing will wait, e.g. "Processing will be late: 7 videos are ahead of yours."
    pub processing_note: Option<String>,
}

/// `GET /api/uploads/{id}` and `GET /api/uploads?fingerprint=…`: everything needed to resume.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UploadState {
    pub video_id: VideoId,
    pub size_bytes: u64,
    pub chunk_size: u32,
    pub chunk_count: u64,
    /// Held chunk indexes, ascending.
    pub received: Vec<u64>,
    /// `uploading` until complete, then the video's status.
    pub status: super::videos::VideoStatus,
    /// Hex of the stream header: resume with the same salt (and DEK) so re-sealed chunks match.
    pub stream_header: String,
    pub wrapped_dek: WrappedKey,
    /// What the client sent as `resume_mac` on create, hex; `None` for an upload made without one
    /// (before the MAC existed), which clients do not resume.
    #[serde(default)]
    pub resume_mac: Option<String>,
}

/// `200` answer to `PUT /api/uploads/{id}/chunks/{index}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChunkStored {
    pub index: u64,
    /// How many distinct chunks the server now holds.
    pub received_count: u64,
    pub chunk_count: u64,
}

/// `POST /api/uploads/{id}/complete`: hands the DEK to the server for processing (docs/format.md,
/// "Server custody of a DEK").
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CompleteUploadRequest {
    /// 32 bytes, hex.
    pub dek: String,
}

// The DEK must never reach a log line through `{:?}`.
impl fmt::Debug for CompleteUploadRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CompleteUploadRequest")
            .finish_non_exhaustive()
    }
}

/// `200` answer to `POST /api/uploads/{id}/complete`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UploadCompleted {
    pub video_id: VideoId,
    pub job_id: i64,
    /// 1 = next to run.
    pub queue_position: u64,
    /// Processing jobs queued, waiting or running, this one included.
    pub queue_length: u64,
    pub processing_note: Option<String>,
}

/// The note shown when more than the configured number of jobs are queued.
pub fn late_processing_note(ahead: u64) -> String {
    let videos = if ahead == 1 { "video is" } else { "videos are" };
    format!("Processing will be late: {ahead} {videos} ahead of yours.")
}
