//! Server-side decrypted downloads (docs/architecture.md, "Download"; docs/downloads.md).
//!
//! A member who would rather not decrypt in the browser hands the server the video's key for one
//! download. The server streams the plaintext from a short-lived link that only the requester can
//! use, once. At most D such downloads run at a time and only while the resource gate allows;
//! otherwise the member chooses between queueing the download and trying again later.

use serde::{Deserialize, Serialize};

use crate::ids::VideoId;

/// docs/architecture.md, word for word: answered (503) when the gate is closed or D downloads run.
pub const DOWNLOAD_UNAVAILABLE_MESSAGE: &str = "Download temporarily unavailable due to server \
     load. Add to download queue or try again later.";

/// The error code (`ErrorDetail::code`) of that 503: the page offers "Queue download" and "Try now".
pub const DOWNLOAD_BUSY_CODE: &str = "download_busy";

/// Longest file name the server puts in `Content-Disposition`, in characters.
pub const MAX_FILE_NAME_CHARS: usize = 200;

/// `POST /api/videos/{id}/download`.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StartDownloadRequest {
    /// The video's DEK, hex: held wrapped under the server key until the download ends.
    pub dek: String,
    /// The name the saved file gets (the original file name when known); the server cleans it.
    pub file_name: String,
    /// `false`: start now or answer 503 `download_busy`. `true`: start now if possible, else queue.
    #[serde(default)]
    pub queue: bool,
}

impl std::fmt::Debug for StartDownloadRequest {
    // The key must never reach a log line through a `{:?}`.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StartDownloadRequest")
            .field("dek", &"<redacted>")
            .field("file_name", &self.file_name)
            .field("queue", &self.queue)
            .finish()
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DownloadState {
    /// Waiting for the gate and a free slot.
    Queued,
    /// The link works (until `expires_at`, or until the whole file has been sent once).
    Ready,
    /// The whole file was sent.
    Done,
    Cancelled,
    /// The link was not used in time.
    Expired,
}

impl DownloadState {
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Queued => "queued",
            Self::Ready => "ready",
            Self::Done => "done",
            Self::Cancelled => "cancelled",
            Self::Expired => "expired",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        [
            Self::Queued,
            Self::Ready,
            Self::Done,
            Self::Cancelled,
            Self::Expired,
        ]
        .into_iter()
        .find(|state| state.as_str() == s)
    }

    pub const fn is_final(self) -> bool {
        matches!(self, Self::Done | Self::Cancelled | Self::Expired)
    }
}

/// One of the member's downloads.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DownloadInfo {
    /// 32 lowercase hex digits.
    pub download_id: String,
    pub video_id: VideoId,
    pub state: DownloadState,
    pub file_name: String,
    /// Plaintext size: the `Content-Length` of the whole file.
    pub size_bytes: u64,
    /// Unix seconds.
    pub created_at: i64,
    /// While `ready`: the link stops working then (a transfer under way is not cut off).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires_at: Option<i64>,
    /// While `ready`: where to fetch the file (relative; needs the requester's session).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    /// While `queued`: 1 = next.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub queue_position: Option<u64>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DownloadList {
    pub downloads: Vec<DownloadInfo>,
}

/// Whether `s` is a download id as the server makes them.
pub fn is_download_id(s: &str) -> bool {
    s.len() == 32
        && s.bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

/// `/api/downloads/{id}/file`.
pub fn file_url(download_id: &str) -> String {
    format!("/api/downloads/{download_id}/file")
}

/// A file name safe on every common file system and in a header: no path separators, control
/// characters or reserved punctuation, not hidden, not empty, at most [`MAX_FILE_NAME_CHARS`].
pub fn clean_file_name(name: &str) -> String {
    let cleaned: String = name
        .chars()
        .map(|c| {
            if c.is_control() || matches!(c, '/' | '\\' | ':' | '*' | '?' | '"' | '<' | '>' | '|') {
                '_'
            } else {
                c
            }
        })
        .collect();
    let cleaned = cleaned.trim().trim_start_matches('.').trim();
    if cleaned.is_empty() {
        "video".to_owned()
    } else {
        cleaned.chars().take(MAX_FILE_NAME_CHARS).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_names_are_cleaned() {
        assert_eq!(
            clean_file_name("Holiday / 2026: day 1.mp4"),
            "Holiday _ 2026_ day 1.mp4"
        );
        assert_eq!(clean_file_name("../../etc/passwd"), "_.._etc_passwd");
        assert_eq!(clean_file_name("   "), "video");
        assert_eq!(clean_file_name(".hidden.mkv"), "hidden.mkv");
        assert_eq!(clean_file_name("a\r\nb"), "a__b");
        assert_eq!(
            clean_file_name(&"x".repeat(500)).chars().count(),
            MAX_FILE_NAME_CHARS
        );
    }

    #[test]
    fn states_round_trip() {
        for state in [
            DownloadState::Queued,
            DownloadState::Ready,
            DownloadState::Done,
            DownloadState::Cancelled,
            DownloadState::Expired,
        ] {
            assert_eq!(DownloadState::parse(state.as_str()), Some(state));
        }
        assert_eq!(DownloadState::parse("running"), None);
    }

    #[test]
    fn download_ids_are_hex() {
        assert!(is_download_id("0123456789abcdef0123456789abcdef"));
        assert!(!is_download_id("0123456789ABCDEF0123456789abcdef"));
        assert!(!is_download_id("../../x"));
    }

    #[test]
    fn the_key_stays_out_of_debug_output() {
        let request = StartDownloadRequest {
            dek: "00ff".repeat(16),
            file_name: "a.mp4".into(),
            queue: false,
        };
        assert!(!format!("{request:?}").contains("00ff"));
    }
}
