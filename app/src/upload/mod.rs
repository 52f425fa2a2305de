//! Encrypted, chunked, resumable upload from the browser (docs/architecture.md). The file is read in
//! 4 MiB slices, each sealed here with the shared crypto and sent on its own; the server never
//! sees plaintext, and after a reload the same file resumes from the chunks the server holds.

pub mod check;
#[cfg(feature = "hydrate")]
pub mod engine;
pub mod progress;
pub mod unfinished;

/// The seed's words for a failed upload; the page offers Retry next to them.
pub const NETWORK_FAILURE: &str = "Upload failed — network error. Please retry.";

/// The seed's words when the server's disk is too full for the file (its 507 answer).
pub const STORAGE_LOW: &str =
    "Upload cannot be accepted — server storage is low. Try smaller file or contact admin.";

/// Chunks sent at once: enough to keep a link busy while one chunk is being sealed.
pub const CHUNKS_IN_FLIGHT: usize = 3;

/// What one file's row shows.
#[derive(Debug, Clone, PartialEq)]
pub enum UploadState {
    /// Chosen, not started.
    Ready,
    Preparing,
    Sending(progress::Snapshot),
    Completing,
    Done {
        video_id: cloister_shared::VideoId,
        job_id: i64,
        queue_position: u64,
        note: Option<String>,
    },
    Failed {
        message: String,
        retryable: bool,
    },
    Cancelled,
}

/// The title a file gets unless the member types one: its name without the extension.
pub fn default_title(file_name: &str) -> String {
    let stem = match file_name.rsplit_once('.') {
        Some((stem, _)) if !stem.is_empty() => stem,
        _ => file_name,
    };
    stem.trim().to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_title_drops_only_the_extension() {
        assert_eq!(default_title("Holiday 2026.mp4"), "Holiday 2026");
        assert_eq!(default_title("archive.tar.mkv"), "archive.tar");
        assert_eq!(default_title(".hidden"), ".hidden");
        assert_eq!(default_title("no extension"), "no extension");
    }
}
