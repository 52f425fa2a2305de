//! Checks on a sealed file before and after it is opened, and reading the opened manifest. A file
//! that fails any of them is treated as one that does not decrypt: the server cannot tell which
//! file it should have sent, only this tab can.

use cloister_shared::crypto::stream::StreamHeader;
use cloister_shared::manifest::{is_rendition_id, Manifest, SealedFile, MANIFEST_VERSION};

/// The sealed bytes are the file the manifest names: its length, and the salt in its header (so a
/// file from another processing run, or another segment's, cannot stand in for it).
pub fn is_named_file(entry: &SealedFile, sealed: &[u8]) -> bool {
    sealed.len() as u64 == entry.sealed_bytes
        && StreamHeader::parse(sealed).is_ok_and(|header| entry.matches(&header))
}

/// The opened bytes have the length the manifest gives.
pub fn has_named_length(entry: &SealedFile, plain: &[u8]) -> bool {
    plain.len() as u64 == entry.plain_bytes
}

/// Why an opened manifest cannot be used.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ManifestProblem {
    /// Not the JSON a manifest is, or not for the rendition the server published: treated as a
    /// manifest that does not decrypt.
    Unreadable,
    /// Written by a newer Cloister than this page.
    NewerVersion,
}

/// Reads an opened manifest of the published `rendition`.
pub fn read_manifest(plain: &[u8], rendition: &str) -> Result<Manifest, ManifestProblem> {
    let manifest: Manifest =
        serde_json::from_slice(plain).map_err(|_| ManifestProblem::Unreadable)?;
    if manifest.version > MANIFEST_VERSION {
        return Err(ManifestProblem::NewerVersion);
    }
    if manifest.rendition != rendition || !is_rendition_id(&manifest.rendition) {
        return Err(ManifestProblem::Unreadable);
    }
    Ok(manifest)
}

#[cfg(test)]
mod tests {
    use super::*;
    use cloister_shared::crypto::stream::{seal_all, DEFAULT_CHUNK_SIZE, HEADER_LEN};
    use cloister_shared::manifest::Preparation;
    use cloister_shared::{Dek, Purpose, VideoId};

    fn sealed_segment() -> (SealedFile, Vec<u8>) {
        let dek = Dek::from_bytes([3; 32]);
        let video = VideoId::from_bytes([4; 16]);
        let purpose = Purpose::segment("0123456789abcdef", 0).expect("purpose");
        let sealed =
            seal_all(&dek, &video, &purpose, DEFAULT_CHUNK_SIZE, b"moof mdat").expect("seal");
        let entry = SealedFile {
            salt: hex::encode(&sealed[9..HEADER_LEN]),
            sealed_bytes: sealed.len() as u64,
            plain_bytes: 9,
        };
        (entry, sealed)
    }

    #[test]
    fn only_the_named_file_passes() {
        let (entry, sealed) = sealed_segment();
        assert!(is_named_file(&entry, &sealed));
        assert!(has_named_length(&entry, b"moof mdat"));
        assert!(!has_named_length(&entry, b"moof"));
        // Cut short, or one byte more.
        assert!(!is_named_file(&entry, &sealed[..sealed.len() - 1]));
        let mut longer = sealed.clone();
        longer.push(0);
        assert!(!is_named_file(&entry, &longer));
        // Another run's file: same length, another salt.
        let (_, other) = sealed_segment();
        assert!(!is_named_file(&entry, &other));
        // Not a sealed stream at all.
        assert!(!is_named_file(&entry, &vec![0; sealed.len()]));
    }

    #[test]
    fn a_manifest_must_be_for_the_published_rendition() {
        let manifest = Manifest {
            version: MANIFEST_VERSION,
            rendition: "0123456789abcdef".into(),
            duration_ms: 4000,
            width: 640,
            height: 360,
            mime_codec: "video/mp4; codecs=\"avc1.64001e\"".into(),
            has_audio: false,
            preparation: Preparation::Transcoded,
            init: sealed_segment().0,
            segments: vec![],
            thumb: None,
        };
        let json = serde_json::to_vec(&manifest).expect("json");
        assert_eq!(
            read_manifest(&json, "0123456789abcdef"),
            Ok(manifest.clone())
        );
        assert_eq!(
            read_manifest(&json, "fedcba9876543210"),
            Err(ManifestProblem::Unreadable)
        );
        assert_eq!(
            read_manifest(b"{}", "0123456789abcdef"),
            Err(ManifestProblem::Unreadable)
        );
        let newer = Manifest {
            version: MANIFEST_VERSION + 1,
            ..manifest
        };
        let json = serde_json::to_vec(&newer).expect("json");
        assert_eq!(
            read_manifest(&json, "0123456789abcdef"),
            Err(ManifestProblem::NewerVersion)
        );
    }
}
