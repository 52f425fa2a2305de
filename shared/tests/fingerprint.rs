//! The upload fingerprint (name, size, mtime and sampled content under the library key) and
//! resuming a sealed stream.

use cloister_shared::crypto::fingerprint::SAMPLE_LEN;
use cloister_shared::crypto::stream::{open_all, seal_all_with, DEFAULT_CHUNK_SIZE};
use cloister_shared::{
    sample_ranges, upload_fingerprint, ContentSample, CryptoError, Dek, LibraryKey, Purpose,
    StreamSealer, VideoId,
};

/// The sample of `bytes` exactly as a client takes it.
fn sample(bytes: &[u8]) -> ContentSample {
    let size = bytes.len() as u64;
    let parts = sample_ranges(size).map(|r| &bytes[r.start as usize..r.end as usize]);
    ContentSample::of(size, parts).expect("sample")
}

fn pattern(len: usize) -> Vec<u8> {
    (0..len).map(|i| (i % 251) as u8).collect()
}

#[test]
fn fingerprint_is_stable_and_changes_with_name_size_mtime_content_and_key() {
    let key = LibraryKey::from_bytes([7; 32]);
    let content = sample(&pattern(1000));
    let base = upload_fingerprint(&key, "holiday.mp4", 1000, 42, &content);
    assert_eq!(
        base,
        upload_fingerprint(&key, "holiday.mp4", 1000, 42, &content)
    );
    assert_ne!(
        base,
        upload_fingerprint(&key, "holiday.mp5", 1000, 42, &content)
    );
    assert_ne!(
        base,
        upload_fingerprint(&key, "holiday.mp4", 1001, 42, &content)
    );
    assert_ne!(
        base,
        upload_fingerprint(&key, "holiday.mp4", 1000, 43, &content)
    );
    let mut other_bytes = pattern(1000);
    other_bytes[500] ^= 1;
    assert_ne!(
        base,
        upload_fingerprint(&key, "holiday.mp4", 1000, 42, &sample(&other_bytes))
    );
    let other = LibraryKey::from_bytes([8; 32]);
    assert_ne!(
        base,
        upload_fingerprint(&other, "holiday.mp4", 1000, 42, &content)
    );
    // The separator keeps name/size boundaries apart.
    let empty = sample(&[]);
    assert_ne!(
        upload_fingerprint(&key, "a", 0, 0, &empty),
        upload_fingerprint(&key, "a\0", 0, 0, &empty)
    );
}

#[test]
fn a_different_file_with_the_same_name_size_and_mtime_gets_another_fingerprint() {
    // A 20 MiB file changed at one byte in each sampled region (start, middle, end): each change
    // alone gives another fingerprint, so resuming never re-seals other bytes under the old key.
    let key = LibraryKey::from_bytes([7; 32]);
    let original = pattern(20 << 20);
    let size = original.len() as u64;
    let fp = |bytes: &[u8]| {
        upload_fingerprint(&key, "beach.mp4", size, 1_700_000_000_000, &sample(bytes))
    };
    let base = fp(&original);
    for at in [0, original.len() / 2, original.len() - 1] {
        let mut changed = original.clone();
        changed[at] ^= 0x80;
        assert_ne!(fp(&changed), base, "a change at byte {at} went unnoticed");
    }
}

#[test]
fn samples_are_the_first_middle_and_last_64_kib_or_the_whole_small_file() {
    let size = 10 * SAMPLE_LEN + 3;
    let [first, middle, last] = sample_ranges(size);
    assert_eq!(first, 0..SAMPLE_LEN);
    assert_eq!(last, size - SAMPLE_LEN..size);
    assert_eq!(middle.end - middle.start, SAMPLE_LEN);
    assert!(middle.start <= size / 2 && size / 2 < middle.end);
    for small in [0, 1, 100, SAMPLE_LEN] {
        assert_eq!(sample_ranges(small), [0..small, 0..small, 0..small]);
    }
}

#[test]
fn a_sample_of_the_wrong_length_is_refused() {
    // The file shrank between the size reading and the sample reading.
    let bytes = pattern(300_000);
    let short = &bytes[..1000];
    assert_eq!(
        ContentSample::of(300_000, [short, short, short]).err(),
        Some(CryptoError::Truncated)
    );
}

#[test]
fn fingerprint_vector_is_fixed() {
    // Pinned (computed independently with Python's hashlib and hmac: SHA-256 over the samples,
    // then HMAC-SHA256 HKDF) so the browser and the CLI, and any later version, agree byte for
    // byte.
    let key = LibraryKey::from_bytes([1; 32]);
    let bytes = pattern(200_000);
    let fp = upload_fingerprint(
        &key,
        "clip.mov",
        200_000,
        1_700_000_000_000,
        &sample(&bytes),
    );
    assert_eq!(
        hex::encode(fp),
        "c25cb36ef1ce187a7f08c8f5eecdedb9a5660e1a7ec02f50fe925a62990dbaaf"
    );
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
