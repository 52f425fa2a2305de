//! The upload fingerprint: how a client finds its own unfinished upload of a file again (after a
//! reload, a crash or a lost connection) without telling the server anything about the file.

use hkdf::Hkdf;
use sha2::Sha256;

use super::keys::LibraryKey;

const INFO_LABEL: &[u8] = b"cloister/upload-fingerprint/v1";

/// HKDF-SHA256(ikm = library key, no salt, info = label ‖ 0 ‖ name ‖ 0 ‖ size BE ‖ modified BE).
///
/// A keyed PRF of the file's name, size and modification time: equal for the same file on every
/// client of the library, and meaningless to the server, which has no library key. A file whose
/// name, size or mtime changed gets another fingerprint, so resuming (which re-seals chunks with
/// the stored DEK and salt) never seals different plaintext under the same (key, nonce).
pub fn upload_fingerprint(
    library_key: &LibraryKey,
    file_name: &str,
    size: u64,
    modified_ms: u64,
) -> [u8; 32] {
    let mut info = Vec::with_capacity(INFO_LABEL.len() + file_name.len() + 18);
    info.extend_from_slice(INFO_LABEL);
    info.push(0);
    info.extend_from_slice(file_name.as_bytes());
    info.push(0);
    info.extend_from_slice(&size.to_be_bytes());
    info.extend_from_slice(&modified_ms.to_be_bytes());
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
