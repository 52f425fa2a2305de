//! Fixed test vectors for the sealed stream and key hierarchy. The same
//! file runs natively (`cargo test`) and in headless Chromium (wasm), so
//! browser and server provably produce the same bytes.
//!
//! Cross-check: every expected value below was computed independently with
//! Python `cryptography` 48.0.0 (its HKDF-SHA256, AESGCM and Argon2id, i.e.
//! OpenSSL), not by this crate, and this crate reproduces them exactly. The
//! script is at the end of this file.

use cloister_shared::crypto::keys::{unwrap_dek, unwrap_library_key, KdfParams, WrappedKey};
use cloister_shared::crypto::stream::{
    derive_subkey, open_all, seal_all_with, Purpose, StreamSealer, DEFAULT_CHUNK_SIZE,
};
use cloister_shared::{Dek, LibraryKey, PassphraseKey, VideoId};

#[cfg(target_arch = "wasm32")]
wasm_bindgen_test::wasm_bindgen_test_configure!(run_in_browser);

const DEK: &str = "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f";
const SALT: &str = "202122232425262728292a2b2c2d2e2f303132333435363738393a3b3c3d3e3f";
const VIDEO: &str = "00112233445566778899aabbccddeeff";
const PLAINTEXT: &[u8] = b"The quick brown fox jumps over the lazy dog";
const CHUNK_SIZE: u32 = 16;

/// HKDF-SHA256 subkey for purpose `segment/720p/3`.
const SUBKEY: &str = "7d9f4730b5746a7452ab64458235f949a03056005936abed1965c0682b6c21c8";

/// PLAINTEXT sealed for `segment/720p/3` with 16-byte chunks (16+16+11).
const SEALED: &str = concat!(
    "434c5354010000001020212223242526",
    "2728292a2b2c2d2e2f30313233343536",
    "3738393a3b3c3d3e3f2d6ba95df026c0",
    "ab815c65ccdeb3eb31ae9c47dec35d96",
    "db6b24fe312d702d03afda5d8c3a0939",
    "71d4ccdf726723f1b95eb14fb981a77e",
    "d67a93c9957a5b4907a4f192a4908a3f",
    "5eee9d1fcc2f296f5e77adf496b6a2b6",
    "27944c38",
);

/// Empty plaintext sealed for `title` with 4 MiB chunks: header ‖ tag.
const SEALED_EMPTY: &str = concat!(
    "434c5354010040000020212223242526",
    "2728292a2b2c2d2e2f30313233343536",
    "3738393a3b3c3d3e3f0fb481cb0e6b73",
    "15d07cc6a68da6bc02",
);

/// Argon2id v1.3 (m = 64 MiB, t = 3, p = 1, 32 bytes) of PASSPHRASE/KDF_SALT.
const PASSPHRASE: &[u8] = b"correct horse battery staple";
const KDF_SALT: &[u8; 16] = b"cloister-salt-01";
const PASSPHRASE_KEY: &str = "f6f9c30dcdefb16aaff8d33649a149f487f3a7dabf771deeb72e2ab5b7b7e5da";

/// LIBRARY_KEY wrapped under PASSPHRASE_KEY (nonce a0..ab).
const LIBRARY_KEY: &str = "404142434445464748494a4b4c4d4e4f505152535455565758595a5b5c5d5e5f";
const WRAPPED_LK: &str = concat!(
    "a0a1a2a3a4a5a6a7a8a9aaab2ce130f4030a8cfc1a8078be2377d584941780191743",
    "a3d1b0429c5ba95a662adad8422ab8673f0d4b58d617ddd348be",
);
/// DEK wrapped under LIBRARY_KEY for VIDEO (nonce b0..bb).
const WRAPPED_DEK: &str = concat!(
    "b0b1b2b3b4b5b6b7b8b9babb03018286c54fed9e33e72df3e1fb42c4ae19963b5000",
    "c088ebdf7a2095adec8f0a78fd977df4ed3633bbe792c6325a32",
);

fn arr<const N: usize>(s: &str) -> [u8; N] {
    let mut out = [0u8; N];
    hex::decode_to_slice(s, &mut out).unwrap();
    out
}
fn dek() -> Dek {
    Dek::from_bytes(arr(DEK))
}
fn video() -> VideoId {
    VideoId::parse(VIDEO).unwrap()
}
fn segment() -> Purpose {
    Purpose::segment("720p", 3).unwrap()
}

#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
#[cfg_attr(not(target_arch = "wasm32"), test)]
fn hkdf_subkey_vector() {
    let k = derive_subkey(&dek(), &video(), &segment(), &arr(SALT)).unwrap();
    assert_eq!(hex::encode(*k), SUBKEY);
}

#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
#[cfg_attr(not(target_arch = "wasm32"), test)]
fn sealed_stream_vector() {
    let s = StreamSealer::with_salt(&dek(), &video(), &segment(), CHUNK_SIZE, arr(SALT)).unwrap();
    assert_eq!(hex::encode(seal_all_with(&s, PLAINTEXT).unwrap()), SEALED);
    let sealed = hex::decode(SEALED).unwrap();
    assert_eq!(
        open_all(&dek(), &video(), &segment(), &sealed).unwrap(),
        PLAINTEXT
    );
}

#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
#[cfg_attr(not(target_arch = "wasm32"), test)]
fn sealed_empty_stream_vector() {
    let title = Purpose::Title;
    let s =
        StreamSealer::with_salt(&dek(), &video(), &title, DEFAULT_CHUNK_SIZE, arr(SALT)).unwrap();
    assert_eq!(hex::encode(seal_all_with(&s, &[]).unwrap()), SEALED_EMPTY);
    let sealed = hex::decode(SEALED_EMPTY).unwrap();
    assert_eq!(open_all(&dek(), &video(), &title, &sealed).unwrap(), b"");
}

/// Uses the real floor parameters (64 MiB, t = 3), also in the browser.
#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
#[cfg_attr(not(target_arch = "wasm32"), test)]
fn argon2id_and_wrapped_key_vectors() {
    let pk = PassphraseKey::derive(PASSPHRASE, KDF_SALT, &KdfParams::default()).unwrap();
    assert_eq!(hex::encode(pk.as_bytes()), PASSPHRASE_KEY);

    let wrapped = WrappedKey::from_hex(WRAPPED_LK).unwrap();
    let lk = unwrap_library_key(&pk, &wrapped).unwrap();
    assert_eq!(hex::encode(lk.as_bytes()), LIBRARY_KEY);

    let wrapped = WrappedKey::from_hex(WRAPPED_DEK).unwrap();
    let dek = unwrap_dek(
        &LibraryKey::from_bytes(arr(LIBRARY_KEY)),
        &video(),
        &wrapped,
    )
    .unwrap();
    assert_eq!(dek.as_bytes(), &arr::<32>(DEK));
}

#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
#[cfg_attr(not(target_arch = "wasm32"), test)]
fn random_works_on_this_target() {
    let (a, b) = (VideoId::random().unwrap(), VideoId::random().unwrap());
    assert_ne!(a, b);
}

// Reference script (pip install cryptography==48.0.0; python3 vectors.py):
//
// # Independent reference for shared/tests/vectors.rs (Python `cryptography`).
// from cryptography.hazmat.primitives.ciphers.aead import AESGCM
// from cryptography.hazmat.primitives.kdf.hkdf import HKDF
// from cryptography.hazmat.primitives.kdf.argon2 import Argon2id
// from cryptography.hazmat.primitives import hashes
//
// dek = bytes(range(0, 32))
// salt = bytes(range(0x20, 0x40))
// video = "00112233445566778899aabbccddeeff"
// label = "segment/720p/3"
// cs = 16
// pt = b"The quick brown fox jumps over the lazy dog"
//
// header = b"CLST" + bytes([1]) + cs.to_bytes(4, "big") + salt
// info = b"cloister/sealed-stream/v1" + b"\0" + video.encode() + b"\0" + label.encode()
// sub = HKDF(algorithm=hashes.SHA256(), length=32, salt=salt, info=info).derive(dek)
// print("SUBKEY", sub.hex())
// g = AESGCM(sub)
// pieces = [pt[i:i+cs] for i in range(0, len(pt), cs)]
// out = header
// for i, p in enumerate(pieces):
//     nonce = i.to_bytes(8, "big") + b"\0\0\0" + bytes([1 if i == len(pieces) - 1 else 0])
//     out += g.encrypt(nonce, p, header)
// print("SEALED", out.hex())
//
// # Empty plaintext, purpose title, chunk size 4 MiB, same DEK/salt/video.
// h2 = b"CLST" + bytes([1]) + (4 << 20).to_bytes(4, "big") + salt
// info2 = b"cloister/sealed-stream/v1\0" + video.encode() + b"\0title"
// sub2 = HKDF(algorithm=hashes.SHA256(), length=32, salt=salt, info=info2).derive(dek)
// print("SEALED_EMPTY", (h2 + AESGCM(sub2).encrypt(b"\0" * 11 + b"\1", b"", h2)).hex())
//
// pw = b"correct horse battery staple"
// ksalt = b"cloister-salt-01"
// pk = Argon2id(salt=ksalt, length=32, iterations=3, lanes=1, memory_cost=65536).derive(pw)
// print("PASSPHRASE_KEY", pk.hex())
// lk = bytes(range(0x40, 0x60))
// n1 = bytes(range(0xa0, 0xac))
// print("WRAPPED_LK", (n1 + AESGCM(pk).encrypt(n1, lk, b"cloister/library-key/v1")).hex())
// n2 = bytes(range(0xb0, 0xbc))
// print("WRAPPED_DEK", (n2 + AESGCM(lk).encrypt(n2, dek, b"cloister/dek/v1\0" + video.encode())).hex())

/// The browser's WebCrypto path must produce the very bytes of the vector above.
#[cfg(target_arch = "wasm32")]
#[wasm_bindgen_test::wasm_bindgen_test]
async fn webcrypto_sealer_matches_the_sealed_stream_vector() {
    use cloister_shared::crypto::webcrypto::WebSealer;
    use cloister_shared::StreamHeader;
    let header = StreamHeader {
        chunk_size: CHUNK_SIZE,
        salt: arr(SALT),
    };
    let sealer = WebSealer::new(&dek(), &video(), &segment(), &header)
        .await
        .unwrap();
    let mut out = header.to_bytes().to_vec();
    let chunks: Vec<&[u8]> = PLAINTEXT.chunks(CHUNK_SIZE as usize).collect();
    for (i, chunk) in chunks.iter().enumerate() {
        let last = i + 1 == chunks.len();
        out.extend(sealer.seal_chunk(i as u64, chunk, last).await.unwrap());
    }
    assert_eq!(hex::encode(out), SEALED);
    // The same length rules as the portable sealer.
    assert!(sealer.seal_chunk(0, b"short", false).await.is_err());
}

/// The WebCrypto opener gives back exactly what the portable opener does, and refuses what it
/// refuses: a flipped byte, a dropped tail, another purpose.
#[cfg(target_arch = "wasm32")]
#[wasm_bindgen_test::wasm_bindgen_test]
async fn webcrypto_opener_opens_the_sealed_stream_vector() {
    use cloister_shared::crypto::stream::{StreamOpener, HEADER_LEN, TAG_LEN};
    use cloister_shared::crypto::webcrypto::{self, WebOpener};
    use cloister_shared::{CryptoError, StreamHeader};
    let sealed = hex::decode(SEALED).unwrap();
    let header = StreamHeader::parse(&sealed).unwrap();
    let web = WebOpener::new(&dek(), &video(), &segment(), &header)
        .await
        .unwrap();
    let portable = StreamOpener::new(&dek(), &video(), &segment(), &header).unwrap();
    let pieces: Vec<&[u8]> = sealed[HEADER_LEN..]
        .chunks(CHUNK_SIZE as usize + TAG_LEN)
        .collect();
    for (i, piece) in pieces.iter().enumerate() {
        let last = i + 1 == pieces.len();
        let opened = web.open_chunk(i as u64, piece, last).await.unwrap();
        assert_eq!(opened, portable.open_chunk(i as u64, piece, last).unwrap());
    }
    // The last-chunk flag is part of the nonce: a stream cut after chunk 0 does not open.
    assert_eq!(
        web.open_chunk(0, pieces[0], true).await,
        Err(CryptoError::Decrypt)
    );
    assert_eq!(
        webcrypto::open_all(&dek(), &video(), &segment(), &sealed)
            .await
            .unwrap(),
        PLAINTEXT
    );
    let mut flipped = sealed.clone();
    flipped[HEADER_LEN + 3] ^= 1;
    assert_eq!(
        webcrypto::open_all(&dek(), &video(), &segment(), &flipped).await,
        Err(CryptoError::Decrypt)
    );
    let elsewhere = Purpose::segment("720p", 4).unwrap();
    assert!(webcrypto::open_all(&dek(), &video(), &elsewhere, &sealed)
        .await
        .is_err());
    let empty = hex::decode(SEALED_EMPTY).unwrap();
    assert_eq!(
        webcrypto::open_all(&dek(), &video(), &Purpose::Title, &empty)
            .await
            .unwrap(),
        b""
    );
}
