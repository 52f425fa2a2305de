//! The resume record's MAC and the client's decision to resume (`crypto::upload`): a record is
//! only resumed when it was made by this library for this very file.

use cloister_shared::api::{UploadState, VideoStatus};
use cloister_shared::crypto::upload::{
    check_resume, new_upload, resume_mac, LocalFile, NewUpload, NotResumable, UploadTexts,
};
use cloister_shared::{
    sample_ranges, upload_fingerprint, ContentSample, LibraryKey, StreamHeader, VideoId,
};

const MTIME: u64 = 1_700_000_000_000;

fn key() -> LibraryKey {
    LibraryKey::from_bytes([1; 32])
}

/// What a client computes for a file `bytes` called `name`.
fn local(name: &str, bytes: &[u8]) -> LocalFile {
    let size = bytes.len() as u64;
    let parts = sample_ranges(size).map(|r| &bytes[r.start as usize..r.end as usize]);
    let content = ContentSample::of(size, parts).expect("sample");
    LocalFile {
        size,
        fingerprint: upload_fingerprint(&key(), name, size, MTIME, &content),
    }
}

fn create(file: &LocalFile) -> NewUpload {
    let texts = UploadTexts {
        title: "Beach",
        description: None,
        file_name: "beach.mp4",
    };
    new_upload(&key(), 1, file, &texts).expect("new upload")
}

/// The record an honest server answers for `upload` with `received` chunks held.
fn record(upload: &NewUpload, received: Vec<u64>) -> UploadState {
    let r = &upload.request;
    UploadState {
        video_id: r.video_id,
        size_bytes: r.size_bytes,
        chunk_size: upload.header.chunk_size,
        chunk_count: r.chunk_count,
        received,
        status: VideoStatus::Uploading,
        stream_header: r.stream_header.clone(),
        wrapped_dek: r.wrapped_dek.clone(),
        resume_mac: r.resume_mac.clone(),
    }
}

fn bytes(len: usize, seed: u8) -> Vec<u8> {
    (0..len).map(|i| (i % 251) as u8 ^ seed).collect()
}

#[test]
fn an_honest_record_of_the_same_file_resumes_with_its_key_and_header() {
    let file = local("beach.mp4", &bytes(9 << 20, 0));
    let upload = create(&file);
    let ok = check_resume(&key(), &record(&upload, vec![2, 0, 0, 7]), &file).expect("resumable");
    assert_eq!(ok.video, upload.request.video_id);
    assert_eq!(ok.dek.as_bytes(), upload.dek.as_bytes());
    assert_eq!(ok.header, upload.header);
    // Sorted, without repeats, and nothing past the file's 3 chunks.
    assert_eq!(ok.held, vec![0, 2]);
}

#[test]
fn a_different_file_with_the_same_name_size_and_mtime_does_not_resume() {
    // The old upload's record, looked up with the new file's facts: even if the server returned
    // it, its MAC binds the old file's fingerprint.
    let old = local("beach.mp4", &bytes(9 << 20, 0));
    let new = local("beach.mp4", &bytes(9 << 20, 1));
    assert_ne!(old.fingerprint, new.fingerprint);
    let upload = create(&old);
    assert_eq!(
        check_resume(&key(), &record(&upload, vec![0]), &new).err(),
        Some(NotResumable::BadMac)
    );
}

#[test]
fn another_uploads_record_is_detected_by_its_mac() {
    let file_a = local("a.mp4", &bytes(5 << 20, 0));
    let file_b = local("b.mp4", &bytes(5 << 20, 2));
    let a = create(&file_a);
    let b = create(&file_b);
    // A hostile server answers A's lookup with B's whole record.
    assert_eq!(
        check_resume(&key(), &record(&b, vec![0]), &file_a).err(),
        Some(NotResumable::BadMac)
    );
    // Or keeps A's id but swaps in B's header and MAC (B's salt under A's DEK).
    let mut swapped = record(&a, vec![0]);
    swapped.stream_header = b.request.stream_header.clone();
    swapped.resume_mac = b.request.resume_mac.clone();
    assert_eq!(
        check_resume(&key(), &swapped, &file_a).err(),
        Some(NotResumable::BadMac)
    );
    // Or only B's header, keeping A's MAC.
    let mut header_only = record(&a, vec![0]);
    header_only.stream_header = b.request.stream_header.clone();
    assert_eq!(
        check_resume(&key(), &header_only, &file_a).err(),
        Some(NotResumable::BadMac)
    );
    // A MAC made under another library's key does not pass either.
    let other_key = LibraryKey::from_bytes([2; 32]);
    assert_eq!(
        check_resume(&other_key, &record(&a, vec![]), &file_a).err(),
        Some(NotResumable::BadMac)
    );
}

#[test]
fn size_chunk_count_missing_mac_and_bad_fields_each_refuse_the_record() {
    let file = local("beach.mp4", &bytes(9 << 20, 0));
    let upload = create(&file);
    let honest = record(&upload, vec![0]);
    let check = |edit: &dyn Fn(&mut UploadState)| {
        let mut r = honest.clone();
        edit(&mut r);
        check_resume(&key(), &r, &file).err()
    };
    assert_eq!(check(&|_| {}), None);
    assert_eq!(
        check(&|r| r.size_bytes += 1),
        Some(NotResumable::OtherSize {
            record: file.size + 1,
            local: file.size
        })
    );
    assert_eq!(
        check(&|r| r.chunk_count = 4),
        Some(NotResumable::OtherChunkCount {
            record: 4,
            local: 3
        })
    );
    // Rows from before the MAC existed are not resumable.
    assert_eq!(check(&|r| r.resume_mac = None), Some(NotResumable::NoMac));
    assert_eq!(
        check(&|r| r.resume_mac = Some("zz".into())),
        Some(NotResumable::BadMac)
    );
    assert_eq!(
        check(&|r| r.resume_mac = Some("00".repeat(32))),
        Some(NotResumable::BadMac)
    );
    assert_eq!(
        check(&|r| r.stream_header = "00".repeat(41)),
        Some(NotResumable::BadHeader)
    );
    assert_eq!(
        check(&|r| r.video_id = VideoId::from_bytes([3; 16])),
        Some(NotResumable::BadMac)
    );
    assert_eq!(
        check(&|r| r.status = VideoStatus::Uploaded),
        Some(NotResumable::Finished)
    );
}

#[test]
fn a_valid_mac_over_a_wrapped_key_of_another_video_is_still_refused() {
    // The MAC does not cover the wrapped DEK; the wrap's associated data (the video id) does.
    let file = local("beach.mp4", &bytes(1000, 0));
    let a = create(&file);
    let b = create(&local("other.mp4", &bytes(1000, 3)));
    let mut r = record(&a, vec![]);
    r.wrapped_dek = b.request.wrapped_dek.clone();
    assert_eq!(
        check_resume(&key(), &r, &file).err(),
        Some(NotResumable::BadKey)
    );
}

#[test]
fn every_new_upload_has_a_fresh_id_dek_and_salt() {
    let file = local("beach.mp4", &bytes(1000, 0));
    let (a, b) = (create(&file), create(&file));
    assert_ne!(a.request.video_id, b.request.video_id);
    assert_ne!(a.dek.as_bytes(), b.dek.as_bytes());
    assert_ne!(a.header.salt, b.header.salt);
}

#[test]
fn mac_vector_is_fixed_and_keyed_by_a_derived_key_not_the_library_key() {
    // Computed independently with Python's hmac: HKDF-SHA256(library key, no salt,
    // "cloister/upload-resume-mac/v1") keys HMAC-SHA256 over id ‖ header ‖ size ‖ count ‖ fp.
    let video = VideoId::from_bytes([9; 16]);
    let header = StreamHeader {
        chunk_size: 4 * 1024 * 1024,
        salt: [5; 32],
    };
    let mut fingerprint = [0u8; 32];
    hex::decode_to_slice(
        "c25cb36ef1ce187a7f08c8f5eecdedb9a5660e1a7ec02f50fe925a62990dbaaf",
        &mut fingerprint,
    )
    .expect("hex");
    let file = LocalFile {
        size: 200_000,
        fingerprint,
    };
    let mac = resume_mac(&key(), &video, &header, &file).expect("mac");
    assert_eq!(
        hex::encode(mac),
        "3898d4743bd5a4d339ad8148139222c73b5964d493c837abf8a8d5e68b7a86b2"
    );
    // HMAC keyed with the raw library key would give this; it must not be what is sent.
    assert_ne!(
        hex::encode(mac),
        "195ecd4420c6ce2b70200e33a0457bb6a49d30c969f8dfe4738f27228d77c64c"
    );
}
