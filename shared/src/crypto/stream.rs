//! The sealed stream: the one format for every encrypted byte (docs/format.md).
//!
//! `header ‖ chunk 0 ‖ chunk 1 ‖ …` where each chunk is AES-256-GCM under a
//! per-stream subkey, with the chunk index and a last-chunk flag in the
//! nonce and the header as associated data. Every chunk opens on its own
//! (seeking, Range requests), yet truncation, reordering and swapping fail.

use aes_gcm::aead::{Aead, KeyInit, Payload};
use aes_gcm::Aes256Gcm;
use hkdf::Hkdf;
use sha2::Sha256;
use zeroize::Zeroizing;

use super::keys::Dek;
use super::{random, CryptoError};
use crate::ids::VideoId;

pub use super::purpose::{Purpose, PurposeId};

pub const MAGIC: [u8; 4] = *b"CLST";
pub const FORMAT_VERSION: u8 = 1;
pub const SALT_LEN: usize = 32;
pub const HEADER_LEN: usize = MAGIC.len() + 1 + 4 + SALT_LEN;
pub const TAG_LEN: usize = 16;
pub const DEFAULT_CHUNK_SIZE: u32 = 4 * 1024 * 1024;
pub const MAX_CHUNK_SIZE: u32 = 16 * 1024 * 1024;

const HKDF_INFO_PREFIX: &[u8] = b"cloister/sealed-stream/v1";

/// `MAGIC ‖ version ‖ chunk_size (u32 BE) ‖ salt`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StreamHeader {
    pub chunk_size: u32,
    pub salt: [u8; SALT_LEN],
}

impl StreamHeader {
    pub fn to_bytes(&self) -> [u8; HEADER_LEN] {
        let mut out = [0u8; HEADER_LEN];
        out[..4].copy_from_slice(&MAGIC);
        out[4] = FORMAT_VERSION;
        out[5..9].copy_from_slice(&self.chunk_size.to_be_bytes());
        out[9..].copy_from_slice(&self.salt);
        out
    }

    /// Parses the first `HEADER_LEN` bytes of `bytes` (the rest is ignored).
    pub fn parse(bytes: &[u8]) -> Result<Self, CryptoError> {
        let h: &[u8; HEADER_LEN] = bytes
            .get(..HEADER_LEN)
            .and_then(|h| h.try_into().ok())
            .ok_or(CryptoError::Truncated)?;
        if h[..4] != MAGIC {
            return Err(CryptoError::BadHeader);
        }
        if h[4] != FORMAT_VERSION {
            return Err(CryptoError::UnsupportedVersion(h[4]));
        }
        let chunk_size = u32::from_be_bytes([h[5], h[6], h[7], h[8]]);
        check_chunk_size(chunk_size)?;
        let mut salt = [0u8; SALT_LEN];
        salt.copy_from_slice(&h[9..]);
        Ok(Self { chunk_size, salt })
    }
}

fn check_chunk_size(chunk_size: u32) -> Result<(), CryptoError> {
    if (1..=MAX_CHUNK_SIZE).contains(&chunk_size) {
        Ok(())
    } else {
        Err(CryptoError::BadChunkSize(chunk_size))
    }
}

/// HKDF-SHA256(ikm = DEK, salt, info = prefix ‖ 0 ‖ video id hex ‖ 0 ‖ label).
/// Public only for the fixed test vectors.
#[doc(hidden)]
pub fn derive_subkey(
    dek: &Dek,
    video: &VideoId,
    purpose: &Purpose,
    salt: &[u8; SALT_LEN],
) -> Result<Zeroizing<[u8; 32]>, CryptoError> {
    let mut info = HKDF_INFO_PREFIX.to_vec();
    info.push(0);
    info.extend_from_slice(video.to_string().as_bytes());
    info.push(0);
    info.extend_from_slice(purpose.label().as_bytes());
    let mut okm = Zeroizing::new([0u8; 32]);
    Hkdf::<Sha256>::new(Some(salt), dek.as_bytes())
        .expand(&info, okm.as_mut())
        .map_err(|_| CryptoError::KeyDerivation)?;
    Ok(okm)
}

/// The cipher and AAD shared by sealer and opener.
struct ChunkCipher {
    header: StreamHeader,
    aad: [u8; HEADER_LEN],
    aead: Aes256Gcm,
}

impl ChunkCipher {
    fn new(
        dek: &Dek,
        video: &VideoId,
        purpose: &Purpose,
        header: StreamHeader,
    ) -> Result<Self, CryptoError> {
        check_chunk_size(header.chunk_size)?;
        let subkey = derive_subkey(dek, video, purpose, &header.salt)?;
        Ok(Self {
            header,
            aad: header.to_bytes(),
            aead: Aes256Gcm::new(&(*subkey).into()),
        })
    }

    fn nonce(index: u64, is_last: bool) -> [u8; 12] {
        chunk_nonce(index, is_last)
    }

    fn check_plain_len(&self, index: u64, len: usize, is_last: bool) -> Result<(), CryptoError> {
        check_plain_len(self.header.chunk_size, index, len, is_last)
    }
}

/// index (u64 BE) ‖ 0 0 0 ‖ last flag: unique per chunk within a stream,
/// and the flag makes a stream cut at a chunk boundary fail to open.
pub(crate) fn chunk_nonce(index: u64, is_last: bool) -> [u8; 12] {
    let mut n = [0u8; 12];
    n[..8].copy_from_slice(&index.to_be_bytes());
    n[11] = u8::from(is_last);
    n
}

/// Plaintext length rules: full chunks except the last, which holds
/// 1..=chunk_size bytes, or 0 only when it is the sole chunk.
pub(crate) fn check_plain_len(
    chunk_size: u32,
    index: u64,
    len: usize,
    is_last: bool,
) -> Result<(), CryptoError> {
    let cs = chunk_size as usize;
    if len > cs {
        return Err(CryptoError::ChunkTooLong);
    }
    let ok = if is_last {
        len > 0 || index == 0
    } else {
        len == cs
    };
    if ok {
        Ok(())
    } else {
        Err(CryptoError::BadChunkLength)
    }
}

/// Seals chunks of one stream. Chunks may be sealed in any order or in
/// parallel (each by index); every stream gets a fresh random salt.
pub struct StreamSealer(ChunkCipher);

impl StreamSealer {
    pub fn new(
        dek: &Dek,
        video: &VideoId,
        purpose: &Purpose,
        chunk_size: u32,
    ) -> Result<Self, CryptoError> {
        Self::with_salt(dek, video, purpose, chunk_size, random::array()?)
    }

    /// Deterministic salt, for test vectors only: reusing a salt under the
    /// same DEK and purpose reuses nonces.
    #[doc(hidden)]
    pub fn with_salt(
        dek: &Dek,
        video: &VideoId,
        purpose: &Purpose,
        chunk_size: u32,
        salt: [u8; SALT_LEN],
    ) -> Result<Self, CryptoError> {
        let header = StreamHeader { chunk_size, salt };
        ChunkCipher::new(dek, video, purpose, header).map(Self)
    }

    /// A sealer for a stream begun earlier, with that stream's header (and so its salt): only for
    /// re-sealing the very same plaintext, e.g. resuming an interrupted upload. Re-sealing chunk
    /// `i` of the same bytes yields the same ciphertext, so nothing new is revealed; sealing other
    /// plaintext with it would reuse (key, nonce) pairs.
    pub fn resume(
        dek: &Dek,
        video: &VideoId,
        purpose: &Purpose,
        header: &StreamHeader,
    ) -> Result<Self, CryptoError> {
        ChunkCipher::new(dek, video, purpose, *header).map(Self)
    }

    pub fn header(&self) -> &StreamHeader {
        &self.0.header
    }

    /// Returns `plaintext` sealed as chunk `index` (ciphertext ‖ 16-byte tag).
    pub fn seal_chunk(
        &self,
        index: u64,
        plaintext: &[u8],
        is_last: bool,
    ) -> Result<Vec<u8>, CryptoError> {
        self.0.check_plain_len(index, plaintext.len(), is_last)?;
        let nonce = ChunkCipher::nonce(index, is_last);
        let aad = &self.0.aad;
        self.0
            .aead
            .encrypt(
                &nonce.into(),
                Payload {
                    msg: plaintext,
                    aad,
                },
            )
            .map_err(|_| CryptoError::Encrypt)
    }
}

/// Opens chunks of one stream; each chunk opens on its own.
pub struct StreamOpener(ChunkCipher);

impl StreamOpener {
    pub fn new(
        dek: &Dek,
        video: &VideoId,
        purpose: &Purpose,
        header: &StreamHeader,
    ) -> Result<Self, CryptoError> {
        ChunkCipher::new(dek, video, purpose, *header).map(Self)
    }

    pub fn header(&self) -> &StreamHeader {
        &self.0.header
    }

    /// `is_last` must come from the caller's knowledge of the stream length,
    /// never from the data: that is what detects a dropped tail.
    pub fn open_chunk(
        &self,
        index: u64,
        ciphertext: &[u8],
        is_last: bool,
    ) -> Result<Vec<u8>, CryptoError> {
        let body_len = ciphertext
            .len()
            .checked_sub(TAG_LEN)
            .ok_or(CryptoError::Truncated)?;
        self.0.check_plain_len(index, body_len, is_last)?;
        let nonce = ChunkCipher::nonce(index, is_last);
        let aad = &self.0.aad;
        self.0
            .aead
            .decrypt(
                &nonce.into(),
                Payload {
                    msg: ciphertext,
                    aad,
                },
            )
            .map_err(|_| CryptoError::Decrypt)
    }
}

/// Number of chunks for a plaintext; an empty plaintext is one empty chunk.
pub fn chunk_count(plaintext_len: u64, chunk_size: u32) -> u64 {
    // A chunk size of 0 is never valid (parse refuses it); clamp rather
    // than divide by zero.
    let cs = u64::from(chunk_size.max(1));
    plaintext_len.div_ceil(cs).max(1)
}

/// Sealed length of chunk `index` (tag included), or `None` past the end.
pub fn sealed_chunk_len(plaintext_len: u64, chunk_size: u32, index: u64) -> Option<u64> {
    let cs = u64::from(chunk_size.max(1));
    let last = chunk_count(plaintext_len, chunk_size) - 1;
    let plain = match index.cmp(&last) {
        std::cmp::Ordering::Less => cs,
        std::cmp::Ordering::Equal => plaintext_len - last * cs,
        std::cmp::Ordering::Greater => return None,
    };
    Some(plain + TAG_LEN as u64)
}

/// Total sealed length, header included (saturates instead of overflowing).
pub fn sealed_len(plaintext_len: u64, chunk_size: u32) -> u64 {
    let tags = chunk_count(plaintext_len, chunk_size).saturating_mul(TAG_LEN as u64);
    (HEADER_LEN as u64)
        .saturating_add(plaintext_len)
        .saturating_add(tags)
}

/// Seals a whole buffer: header ‖ chunks.
pub fn seal_all(
    dek: &Dek,
    video: &VideoId,
    purpose: &Purpose,
    chunk_size: u32,
    plaintext: &[u8],
) -> Result<Vec<u8>, CryptoError> {
    let sealer = StreamSealer::new(dek, video, purpose, chunk_size)?;
    seal_all_with(&sealer, plaintext)
}

/// `seal_all` with a given sealer (test vectors use a fixed salt).
#[doc(hidden)]
pub fn seal_all_with(sealer: &StreamSealer, plaintext: &[u8]) -> Result<Vec<u8>, CryptoError> {
    let cs = sealer.header().chunk_size;
    let mut out =
        Vec::with_capacity(usize::try_from(sealed_len(plaintext.len() as u64, cs)).unwrap_or(0));
    out.extend_from_slice(&sealer.header().to_bytes());
    if plaintext.is_empty() {
        out.extend_from_slice(&sealer.seal_chunk(0, &[], true)?);
        return Ok(out);
    }
    let n = plaintext.chunks(cs as usize).count();
    for (i, chunk) in plaintext.chunks(cs as usize).enumerate() {
        out.extend_from_slice(&sealer.seal_chunk(i as u64, chunk, i + 1 == n)?);
    }
    Ok(out)
}

/// Opens a whole sealed buffer. The final piece is opened as the last
/// chunk, so a stream cut anywhere fails.
pub fn open_all(
    dek: &Dek,
    video: &VideoId,
    purpose: &Purpose,
    sealed: &[u8],
) -> Result<Vec<u8>, CryptoError> {
    let header = StreamHeader::parse(sealed)?;
    let body = sealed.get(HEADER_LEN..).unwrap_or_default();
    if body.is_empty() {
        return Err(CryptoError::Truncated);
    }
    let opener = StreamOpener::new(dek, video, purpose, &header)?;
    let piece = header.chunk_size as usize + TAG_LEN;
    let n = body.len().div_ceil(piece);
    let mut out = Vec::with_capacity(body.len());
    for (i, chunk) in body.chunks(piece).enumerate() {
        out.extend_from_slice(&opener.open_chunk(i as u64, chunk, i + 1 == n)?);
    }
    Ok(out)
}
