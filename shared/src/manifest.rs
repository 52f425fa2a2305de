//! The sealed manifest of a processed video (docs/architecture.md, "Processing"): what the player needs to
//! fetch, check and decrypt every segment. It is JSON sealed with `Purpose::Manifest`.
//!
//! Each sealed file's salt is recorded here: a player compares it with the salt in the file's own
//! header, so a file left from another processing run can never stand in for the one named here.

use serde::{Deserialize, Serialize};

use crate::crypto::stream::{StreamHeader, SALT_LEN};

pub const MANIFEST_VERSION: u32 = 1;

/// Rendition ids are 16 lowercase hex characters, fresh for every processing attempt.
pub const RENDITION_ID_LEN: usize = 16;

/// One sealed file the manifest names.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SealedFile {
    /// Hex of the 32-byte salt in the file's stream header.
    pub salt: String,
    /// Length of the sealed file (header and tags included).
    pub sealed_bytes: u64,
    /// Length of the plaintext.
    pub plain_bytes: u64,
}

impl SealedFile {
    /// True when `header` is the header this entry names.
    pub fn matches(&self, header: &StreamHeader) -> bool {
        hex::decode(&self.salt).is_ok_and(|salt| salt.len() == SALT_LEN && salt == header.salt)
    }
}

/// One fragmented-MP4 media segment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Segment {
    /// Presentation time of the segment's start, milliseconds.
    pub start_ms: u64,
    pub duration_ms: u64,
    pub file: SealedFile,
}

/// How the stored rendition was made from the original.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Preparation {
    /// The original's streams, rewrapped (`-c copy`).
    Remuxed,
    /// Re-encoded to H.264/AAC.
    Transcoded,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Manifest {
    pub version: u32,
    /// The rendition directory `r<rendition>` and the purpose labels `init/<rendition>`,
    /// `segment/<rendition>/<n>`.
    pub rendition: String,
    pub duration_ms: u64,
    pub width: u32,
    pub height: u32,
    /// For `MediaSource.isTypeSupported`: `video/mp4; codecs="avc1.64001f,mp4a.40.2"`.
    pub mime_codec: String,
    pub has_audio: bool,
    pub preparation: Preparation,
    pub init: SealedFile,
    pub segments: Vec<Segment>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub thumb: Option<SealedFile>,
}

impl Manifest {
    /// The segment playing at `time_ms` (the last one for times past the end).
    pub fn segment_at(&self, time_ms: u64) -> Option<usize> {
        if self.segments.is_empty() {
            return None;
        }
        let after = self.segments.partition_point(|s| s.start_ms <= time_ms);
        Some(after.saturating_sub(1))
    }
}

/// True for a well-formed rendition id.
pub fn is_rendition_id(s: &str) -> bool {
    s.len() == RENDITION_ID_LEN && s.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file() -> SealedFile {
        SealedFile {
            salt: "00".repeat(SALT_LEN),
            sealed_bytes: 10,
            plain_bytes: 1,
        }
    }

    #[test]
    fn segment_at_finds_the_segment_playing() {
        let seg = |start_ms| Segment {
            start_ms,
            duration_ms: 4000,
            file: file(),
        };
        let m = Manifest {
            version: MANIFEST_VERSION,
            rendition: "0123456789abcdef".into(),
            duration_ms: 12_000,
            width: 1280,
            height: 720,
            mime_codec: "video/mp4; codecs=\"avc1.64001f\"".into(),
            has_audio: false,
            preparation: Preparation::Remuxed,
            init: file(),
            segments: vec![seg(0), seg(4000), seg(8000)],
            thumb: None,
        };
        assert_eq!(m.segment_at(0), Some(0));
        assert_eq!(m.segment_at(3999), Some(0));
        assert_eq!(m.segment_at(4000), Some(1));
        assert_eq!(m.segment_at(60_000), Some(2));
        assert!(is_rendition_id("0123456789abcdef"));
        assert!(!is_rendition_id("../../etc"));
    }

    #[test]
    fn a_salt_matches_only_its_header() {
        let header = StreamHeader {
            chunk_size: 4,
            salt: [0; SALT_LEN],
        };
        assert!(file().matches(&header));
        let other = StreamHeader {
            chunk_size: 4,
            salt: [1; SALT_LEN],
        };
        assert!(!file().matches(&other));
    }
}
