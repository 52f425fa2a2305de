use cloister_shared::crypto::stream::{
    chunk_count, derive_subkey, open_all, seal_all, sealed_chunk_len, sealed_len, Purpose,
    PurposeId, StreamHeader, StreamOpener, StreamSealer, DEFAULT_CHUNK_SIZE, HEADER_LEN,
    MAX_CHUNK_SIZE, TAG_LEN,
};
use cloister_shared::{CryptoError, Dek, VideoId};

const CS: u32 = 64;

fn dek() -> Dek {
    Dek::from_bytes([7; 32])
}
fn vid() -> VideoId {
    VideoId::from_bytes([1; 16])
}
fn data(len: usize) -> Vec<u8> {
    (0..len).map(|i| (i * 31 + 7) as u8).collect()
}
/// Splits a sealed buffer into its chunks (tags included).
fn chunks(sealed: &[u8], cs: u32) -> Vec<Vec<u8>> {
    sealed[HEADER_LEN..]
        .chunks(cs as usize + TAG_LEN)
        .map(<[u8]>::to_vec)
        .collect()
}
fn join(header: &[u8], parts: &[&Vec<u8>]) -> Vec<u8> {
    let mut out = header[..HEADER_LEN].to_vec();
    for p in parts {
        out.extend_from_slice(p);
    }
    out
}

fn round_trip(len: usize, cs: u32) {
    let pt = data(len);
    let sealed = seal_all(&dek(), &vid(), &Purpose::Original, cs, &pt).unwrap();
    assert_eq!(sealed.len() as u64, sealed_len(len as u64, cs), "len {len}");
    let parts = chunks(&sealed, cs);
    assert_eq!(parts.len() as u64, chunk_count(len as u64, cs));
    for (i, p) in parts.iter().enumerate() {
        assert_eq!(
            Some(p.len() as u64),
            sealed_chunk_len(len as u64, cs, i as u64)
        );
    }
    assert_eq!(
        open_all(&dek(), &vid(), &Purpose::Original, &sealed).unwrap(),
        pt
    );
}

#[test]
fn round_trips_at_edge_sizes_small_chunks() {
    let cs = CS as usize;
    for len in [0, 1, cs - 1, cs, cs + 1, 2 * cs, 5 * cs + 7] {
        round_trip(len, CS);
    }
}

#[test]
fn round_trips_at_real_4mib_chunks() {
    let cs = DEFAULT_CHUNK_SIZE as usize;
    for len in [0, cs, 2 * cs + 123] {
        round_trip(len, DEFAULT_CHUNK_SIZE);
    }
}

#[test]
fn empty_plaintext_is_one_empty_last_chunk() {
    let sealed = seal_all(&dek(), &vid(), &Purpose::Title, CS, &[]).unwrap();
    assert_eq!(sealed.len(), HEADER_LEN + TAG_LEN);
    assert_eq!(chunk_count(0, CS), 1);
}

#[test]
fn chunks_seal_by_index_in_any_order_and_open_on_their_own() {
    let pt = data(3 * CS as usize + 5);
    let s = StreamSealer::new(&dek(), &vid(), &Purpose::Original, CS).unwrap();
    let pieces: Vec<&[u8]> = pt.chunks(CS as usize).collect();
    let mut sealed = vec![Vec::new(); pieces.len()];
    for i in [3usize, 1, 0, 2] {
        sealed[i] = s.seal_chunk(i as u64, pieces[i], i == 3).unwrap();
    }
    let mut whole = s.header().to_bytes().to_vec();
    sealed.iter().for_each(|c| whole.extend_from_slice(c));
    assert_eq!(
        open_all(&dek(), &vid(), &Purpose::Original, &whole).unwrap(),
        pt
    );

    let header = StreamHeader::parse(&whole).unwrap();
    let o = StreamOpener::new(&dek(), &vid(), &Purpose::Original, &header).unwrap();
    assert_eq!(o.open_chunk(2, &sealed[2], false).unwrap(), pieces[2]);
    assert_eq!(o.open_chunk(3, &sealed[3], true).unwrap(), pieces[3]);
}

fn sample() -> (Vec<u8>, Vec<u8>) {
    let pt = data(2 * CS as usize + 10);
    let sealed = seal_all(&dek(), &vid(), &Purpose::Original, CS, &pt).unwrap();
    (pt, sealed)
}
fn open(sealed: &[u8]) -> Result<Vec<u8>, CryptoError> {
    open_all(&dek(), &vid(), &Purpose::Original, sealed)
}

#[test]
fn every_flipped_bit_is_detected() {
    let (_, sealed) = sample();
    for bit in 0..sealed.len() * 8 {
        let mut t = sealed.clone();
        t[bit / 8] ^= 1 << (bit % 8);
        assert!(open(&t).is_err(), "bit {bit} not detected");
    }
}

#[test]
fn every_truncation_is_detected() {
    let (_, sealed) = sample();
    for len in 0..sealed.len() {
        assert!(open(&sealed[..len]).is_err(), "prefix {len}");
    }
    assert_eq!(open(&sealed[..HEADER_LEN]), Err(CryptoError::Truncated));
    assert_eq!(open(&sealed[..10]), Err(CryptoError::Truncated));
}

#[test]
fn dropped_last_chunk_is_detected() {
    let (_, sealed) = sample();
    let c = chunks(&sealed, CS);
    assert_eq!(
        open(&join(&sealed, &[&c[0], &c[1]])),
        Err(CryptoError::Decrypt)
    );
}

#[test]
fn reordered_and_duplicated_chunks_are_detected() {
    let (_, sealed) = sample();
    let c = chunks(&sealed, CS);
    assert_eq!(
        open(&join(&sealed, &[&c[1], &c[0], &c[2]])),
        Err(CryptoError::Decrypt)
    );
    assert_eq!(
        open(&join(&sealed, &[&c[0], &c[0], &c[2]])),
        Err(CryptoError::Decrypt)
    );
    assert_eq!(
        open(&join(&sealed, &[&c[0], &c[1], &c[1], &c[2]])),
        Err(CryptoError::Decrypt)
    );
    assert!(open(&join(&sealed, &[&c[0], &c[1], &c[2], &c[2]])).is_err());
}

#[test]
fn chunk_from_another_stream_of_same_video_is_detected() {
    let (pt, sealed) = sample();
    let other = seal_all(&dek(), &vid(), &Purpose::Original, CS, &pt).unwrap();
    let (c, o) = (chunks(&sealed, CS), chunks(&other, CS));
    assert_eq!(
        open(&join(&sealed, &[&c[0], &o[1], &c[2]])),
        Err(CryptoError::Decrypt)
    );
    // The other stream's header with this stream's chunks fails too.
    assert_eq!(
        open(&join(&other, &[&c[0], &c[1], &c[2]])),
        Err(CryptoError::Decrypt)
    );
}

#[test]
fn chunk_from_another_video_is_detected() {
    let (pt, sealed) = sample();
    let v2 = VideoId::from_bytes([2; 16]);
    let other = seal_all(&dek(), &v2, &Purpose::Original, CS, &pt).unwrap();
    let (c, o) = (chunks(&sealed, CS), chunks(&other, CS));
    assert_eq!(
        open(&join(&sealed, &[&c[0], &o[1], &c[2]])),
        Err(CryptoError::Decrypt)
    );
}

#[test]
fn wrong_key_video_or_purpose_is_detected() {
    let (_, sealed) = sample();
    let err = Err(CryptoError::Decrypt);
    let o = Purpose::Original;
    assert_eq!(
        open_all(&Dek::from_bytes([8; 32]), &vid(), &o, &sealed),
        err
    );
    assert_eq!(
        open_all(&dek(), &VideoId::from_bytes([2; 16]), &o, &sealed),
        err
    );
    for p in [
        Purpose::Manifest,
        Purpose::Thumb,
        Purpose::Title,
        Purpose::Description,
        Purpose::init("r1").unwrap(),
        Purpose::segment("r1", 0).unwrap(),
        Purpose::comment("c1").unwrap(),
    ] {
        assert_eq!(open_all(&dek(), &vid(), &p, &sealed), err, "{p}");
    }
    let seg = seal_all(
        &dek(),
        &vid(),
        &Purpose::segment("r1", 3).unwrap(),
        CS,
        b"x",
    )
    .unwrap();
    for p in [
        Purpose::segment("r1", 4).unwrap(),
        Purpose::segment("r2", 3).unwrap(),
    ] {
        assert_eq!(open_all(&dek(), &vid(), &p, &seg), err, "{p}");
    }
}

#[test]
fn two_sealers_never_share_salt_subkey_or_ciphertext() {
    let (a, b) = (
        StreamSealer::new(&dek(), &vid(), &Purpose::Original, CS).unwrap(),
        StreamSealer::new(&dek(), &vid(), &Purpose::Original, CS).unwrap(),
    );
    assert_ne!(a.header().salt, b.header().salt);
    let ka = derive_subkey(&dek(), &vid(), &Purpose::Original, &a.header().salt).unwrap();
    let kb = derive_subkey(&dek(), &vid(), &Purpose::Original, &b.header().salt).unwrap();
    assert_ne!(*ka, *kb);
    let pt = data(CS as usize);
    assert_ne!(
        a.seal_chunk(0, &pt, false).unwrap(),
        b.seal_chunk(0, &pt, false).unwrap()
    );
}

#[test]
fn sealer_refuses_chunks_of_the_wrong_length() {
    let s = StreamSealer::new(&dek(), &vid(), &Purpose::Original, CS).unwrap();
    let cs = CS as usize;
    assert_eq!(
        s.seal_chunk(0, &data(cs - 1), false),
        Err(CryptoError::BadChunkLength)
    );
    assert_eq!(
        s.seal_chunk(0, &data(cs + 1), false),
        Err(CryptoError::ChunkTooLong)
    );
    assert_eq!(
        s.seal_chunk(2, &data(cs + 1), true),
        Err(CryptoError::ChunkTooLong)
    );
    assert_eq!(s.seal_chunk(1, &[], true), Err(CryptoError::BadChunkLength));
    assert!(s.seal_chunk(0, &[], true).is_ok());
    assert!(s.seal_chunk(5, &data(cs), true).is_ok());
}

#[test]
fn opener_refuses_malformed_chunk_lengths() {
    let s = StreamSealer::new(&dek(), &vid(), &Purpose::Original, CS).unwrap();
    let o = StreamOpener::new(&dek(), &vid(), &Purpose::Original, s.header()).unwrap();
    assert_eq!(o.open_chunk(0, &[0; 15], true), Err(CryptoError::Truncated));
    assert_eq!(
        o.open_chunk(0, &[0; 64 + 17], true),
        Err(CryptoError::ChunkTooLong)
    );
    assert_eq!(
        o.open_chunk(0, &[0; 40], false),
        Err(CryptoError::BadChunkLength)
    );
    assert_eq!(o.open_chunk(0, &[0; 40], true), Err(CryptoError::Decrypt));
    // A full chunk opened as the last one fails (flag in the nonce).
    let c = s.seal_chunk(0, &data(CS as usize), false).unwrap();
    assert_eq!(o.open_chunk(0, &c, true), Err(CryptoError::Decrypt));
    assert_eq!(o.open_chunk(1, &c, false), Err(CryptoError::Decrypt));
}

#[test]
fn chunk_size_is_range_checked() {
    for cs in [0, MAX_CHUNK_SIZE + 1, u32::MAX] {
        assert_eq!(
            StreamSealer::new(&dek(), &vid(), &Purpose::Original, cs).map(|_| ()),
            Err(CryptoError::BadChunkSize(cs))
        );
    }
    assert!(StreamSealer::new(&dek(), &vid(), &Purpose::Original, MAX_CHUNK_SIZE).is_ok());
}

#[test]
fn header_round_trips_and_rejects_garbage() {
    let h = StreamHeader {
        chunk_size: DEFAULT_CHUNK_SIZE,
        salt: [9; 32],
    };
    let b = h.to_bytes();
    assert_eq!(&b[..9], b"CLST\x01\x00\x40\x00\x00");
    assert_eq!(StreamHeader::parse(&b), Ok(h));
    let mut m = b;
    m[0] = b'X';
    assert_eq!(StreamHeader::parse(&m), Err(CryptoError::BadHeader));
    let mut m = b;
    m[4] = 2;
    assert_eq!(
        StreamHeader::parse(&m),
        Err(CryptoError::UnsupportedVersion(2))
    );
    for cs in [0u32, MAX_CHUNK_SIZE + 1] {
        let mut m = b;
        m[5..9].copy_from_slice(&cs.to_be_bytes());
        assert_eq!(StreamHeader::parse(&m), Err(CryptoError::BadChunkSize(cs)));
    }
    assert_eq!(StreamHeader::parse(&b[..40]), Err(CryptoError::Truncated));
}

#[test]
fn purpose_labels_and_validation() {
    assert_eq!(Purpose::Original.label(), "original");
    assert_eq!(Purpose::Manifest.label(), "manifest");
    assert_eq!(Purpose::Thumb.label(), "thumb");
    assert_eq!(Purpose::Title.label(), "title");
    assert_eq!(Purpose::Description.label(), "description");
    assert_eq!(Purpose::Metadata.label(), "metadata");
    assert_eq!(Purpose::init("720p").unwrap().label(), "init/720p");
    assert_eq!(
        Purpose::segment("720p", 12).unwrap().label(),
        "segment/720p/12"
    );
    assert_eq!(
        Purpose::comment("abc123").unwrap().label(),
        "comment/abc123"
    );
    let long = "a".repeat(64);
    assert!(PurposeId::new(&long).is_ok());
    for bad in [
        "",
        "a/b",
        "..",
        "../x",
        "A",
        "720P",
        "a b",
        "é",
        "a-b",
        &"a".repeat(65),
    ] {
        assert_eq!(PurposeId::new(bad), Err(CryptoError::BadPurpose), "{bad:?}");
        assert!(Purpose::init(bad).is_err());
        assert!(Purpose::segment(bad, 1).is_err());
        assert!(Purpose::comment(bad).is_err());
    }
}

#[test]
fn length_helpers_need_no_key() {
    assert_eq!(chunk_count(0, CS), 1);
    assert_eq!(chunk_count(1, CS), 1);
    assert_eq!(chunk_count(64, CS), 1);
    assert_eq!(chunk_count(65, CS), 2);
    assert_eq!(sealed_chunk_len(0, CS, 0), Some(16));
    assert_eq!(sealed_chunk_len(0, CS, 1), None);
    assert_eq!(sealed_chunk_len(65, CS, 0), Some(80));
    assert_eq!(sealed_chunk_len(65, CS, 1), Some(17));
    assert_eq!(sealed_chunk_len(65, CS, 2), None);
    assert_eq!(sealed_len(0, CS), 57);
    assert_eq!(sealed_len(65, CS), 41 + 65 + 32);
    // Garbage in, no panic out.
    assert_eq!(chunk_count(10, 0), 10);
    assert_eq!(sealed_len(u64::MAX, 1), u64::MAX);
    assert_eq!(sealed_chunk_len(u64::MAX, u32::MAX, u64::MAX), None);
}
