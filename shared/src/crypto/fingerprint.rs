//! The upload fingerprint: how a client finds its own unfinished upload of a file again (after a
//! reload, a crash or a lost connection) without telling the server anything about the file
//! (docs/uploads.md, "Upload fingerprint").

use std::ops::Range;

use hkdf::Hkdf;
use sha2::{Digest, Sha256};

use super::keys::LibraryKey;
use super::CryptoError;

const INFO_LABEL: &[u8] = b"cloister/upload-fingerprint/v2";
const SAMPLE_LABEL: &[u8] = b"cloister/upload-sample/v1";

/// Bytes read at each of the three sample points.
pub const SAMPLE_LEN: u64 = 64 * 1024;

/// The parts of a file of `size` bytes that go into its fingerprint: the first, the middle and the
/// last `SAMPLE_LEN` bytes. They overlap (or are the whole file) when the file is small.
pub fn sample_ranges(size: u64) -> [Range<u64>; 3] {
    let len = SAMPLE_LEN.min(size);
    let middle = (size / 2).saturating_sub(len / 2);
    [0..len, middle..middle + len, size - len..size]
}

/// SHA-256 over the file's size and its sampled bytes: two files that agree on name, size and
/// modification time but differ at a sample point get different fingerprints.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct ContentSample([u8; 32]);

impl ContentSample {
    /// `samples` must be the bytes at `sample_ranges(size)`, in that order; a sample of another
    /// length (the file shrank while it was read) is refused.
    pub fn of(size: u64, samples: [&[u8]; 3]) -> Result<Self, CryptoError> {
        let mut hash = Sha256::new();
        hash.update(SAMPLE_LABEL);
        hash.update(size.to_be_bytes());
        for (range, sample) in sample_ranges(size).iter().zip(samples) {
            if sample.len() as u64 != range.end - range.start {
                return Err(CryptoError::Truncated);
            }
            hash.update(sample);
        }
        Ok(Self(hash.finalize().into()))
    }
}

/// HKDF-SHA256(ikm = library key, no salt, info = label ‖ 0 ‖ name ‖ 0 ‖ size BE ‖ modified BE ‖
/// content sample). The name is the only field of variable length and the rest has a fixed
/// length, so two different inputs never make the same info.
///
/// A keyed PRF of the file's name, size, modification time and sampled content: equal for the same
/// file on every client of the library, and meaningless to the server, which has no library key.
/// Resuming re-seals chunks with the stored DEK and salt, so it must only ever match the very same
/// file; the size and chunk-count comparison and the record's MAC (`crypto::upload`) guard the
/// rest.
pub fn upload_fingerprint(
    library_key: &LibraryKey,
    file_name: &str,
    size: u64,
    modified_ms: u64,
    content: &ContentSample,
) -> [u8; 32] {
    let mut info = Vec::with_capacity(INFO_LABEL.len() + file_name.len() + 50);
    info.extend_from_slice(INFO_LABEL);
    info.push(0);
    info.extend_from_slice(file_name.as_bytes());
    info.push(0);
    info.extend_from_slice(&size.to_be_bytes());
    info.extend_from_slice(&modified_ms.to_be_bytes());
    info.extend_from_slice(&content.0);
    let mut out = [0u8; 32];
    // 32 bytes is far below HKDF-SHA256's 8160-byte output limit, so expand cannot fail; the
    // fallback keeps this function total without a panic path.
    if Hkdf::<Sha256>::new(None, library_key.as_bytes())
        .expand(&info, &mut out)
        .is_err()
    {
        out = [0u8; 32];
    }
    out
}

const CONTENT_LABEL: &[u8] = b"cloister/content-fingerprint/v1";

/// The duplicate fingerprint (docs/format.md, "Content fingerprint"): HKDF-SHA256(ikm = library
/// key, no salt, info = label ‖ 0 ‖ content sample). Unlike [`upload_fingerprint`] it leaves out the
/// file's name and modification time, so the same video copied, renamed or shared from a phone
/// gives the same value; the server stores it with the video and can only compare it for
/// equality. It samples rather than hashes the whole file: see `ContentSample` and
/// docs/decisions.md.
pub fn content_fingerprint(library_key: &LibraryKey, content: &ContentSample) -> [u8; 32] {
    let mut info = Vec::with_capacity(CONTENT_LABEL.len() + 33);
    info.extend_from_slice(CONTENT_LABEL);
    info.push(0);
    info.extend_from_slice(&content.0);
    let mut out = [0u8; 32];
    // As above: 32 bytes cannot exceed HKDF's output limit.
    if Hkdf::<Sha256>::new(None, library_key.as_bytes())
        .expand(&info, &mut out)
        .is_err()
    {
        out = [0u8; 32];
    }
    out
}
