//! The upload fingerprint and resuming a sealed stream.

use cloister_shared::crypto::stream::{open_all, seal_all_with, DEFAULT_CHUNK_SIZE};
use cloister_shared::{upload_fingerprint, Dek, LibraryKey, Purpose, StreamSealer, VideoId};

#[test]
fn fingerprint_is_stable_and_changes_with_name_size_mtime_and_key() {
    let key = LibraryKey::from_bytes([7; 32]);
    let base = upload_fingerprint(&key, "holiday.mp4", 1000, 42);
    assert_eq!(base, upload_fingerprint(&key, "holiday.mp4", 1000, 42));
    assert_ne!(base, upload_fingerprint(&key, "holiday.mp5", 1000, 42));
    assert_ne!(base, upload_fingerprint(&key, "holiday.mp4", 1001, 42));
    assert_ne!(base, upload_fingerprint(&key, "holiday.mp4", 1000, 43));
    let other = LibraryKey::from_bytes([8; 32]);
    assert_ne!(base, upload_fingerprint(&other, "holiday.mp4", 1000, 42));
    // The separator keeps name/size boundaries apart.
    assert_ne!(
        upload_fingerprint(&key, "a", 0, 0),
        upload_fingerprint(&key, "a\0", 0, 0)
    );
}

#[test]
fn fingerprint_vector_is_fixed() {
    // Pinned (computed independently with HMAC-SHA256 HKDF) so the browser and the CLI, and any
    // later version, agree byte for byte.
    let key = LibraryKey::from_bytes([1; 32]);
    let fp = upload_fingerprint(&key, "clip.mov", 123_456_789, 1_700_000_000_000);
    assert_eq!(
        hex_of(&fp),
        "dddf741ab8cf21ccd85b7c4ff4c9b6734449f5fd463569d7f4bd945d982a33a7"
    );
}

fn hex_of(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[test]
fn a_resumed_sealer_reproduces_the_same_bytes() {
    let dek = Dek::from_bytes([3; 32]);
    let video = VideoId::from_bytes([9; 16]);
    let first =
        StreamSealer::new(&dek, &video, &Purpose::Original, DEFAULT_CHUNK_SIZE).expect("sealer");
    let plain = vec![0x5a_u8; 100_000];
    let once = seal_all_with(&first, &plain).expect("seal");
    let resumed =
        StreamSealer::resume(&dek, &video, &Purpose::Original, first.header()).expect("resume");
    assert_eq!(resumed.header(), first.header());
    assert_eq!(seal_all_with(&resumed, &plain).expect("seal"), once);
    assert_eq!(
        open_all(&dek, &video, &Purpose::Original, &once).expect("open"),
        plain
    );
}
