//! The client's side of a resumable upload, written once for the browser and the CLI
//! (docs/uploads.md): making a new upload, and deciding whether the server's record of an
//! unfinished one may be resumed.
//!
//! Resuming re-seals chunks under the record's DEK and salt, so a record that belongs to another
//! file (a fingerprint collision, a stale record) or that a hostile server swapped in would seal
//! different plaintext under a (key, nonce) already used. The record therefore carries a MAC made
//! at create time under a key only the library's members have, over everything resuming relies
//! on; the client checks it, and the size and chunk count, before it uses the record.

use hkdf::hmac::{Hmac, Mac};
use hkdf::Hkdf;
use sha2::Sha256;
use thiserror::Error;
use zeroize::Zeroizing;

use super::keys::{unwrap_dek, wrap_dek, Dek, LibraryKey};
use super::stream::{
    chunk_count, seal_all, Purpose, StreamHeader, StreamSealer, DEFAULT_CHUNK_SIZE, HEADER_LEN,
};
use super::CryptoError;
use crate::api::uploads::{CreateUploadRequest, UploadState, FINGERPRINT_LEN, RESUME_MAC_LEN};
use crate::api::VideoStatus;
use crate::ids::VideoId;

/// The MAC key's HKDF label: the library key itself never keys a MAC.
const MAC_KEY_LABEL: &[u8] = b"cloister/upload-resume-mac/v1";

/// What the client knows of the file it is about to send.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LocalFile {
    pub size: u64,
    /// `upload_fingerprint(..)` of the file.
    pub fingerprint: [u8; FINGERPRINT_LEN],
}

impl LocalFile {
    pub fn chunk_count(&self) -> u64 {
        chunk_count(self.size, DEFAULT_CHUNK_SIZE)
    }
}

/// HMAC-SHA256 under HKDF(library key, info = label) over video id (16) ‖ stream header (41) ‖
/// size (u64 BE) ‖ chunk count (u64 BE) ‖ fingerprint (32): every field has a fixed length.
pub fn resume_mac(
    library_key: &LibraryKey,
    video: &VideoId,
    header: &StreamHeader,
    file: &LocalFile,
) -> Result<[u8; RESUME_MAC_LEN], CryptoError> {
    Ok(keyed_mac(library_key, video, header, file)?
        .finalize()
        .into_bytes()
        .into())
}

fn keyed_mac(
    library_key: &LibraryKey,
    video: &VideoId,
    header: &StreamHeader,
    file: &LocalFile,
) -> Result<Hmac<Sha256>, CryptoError> {
    let mut key = Zeroizing::new([0u8; 32]);
    Hkdf::<Sha256>::new(None, library_key.as_bytes())
        .expand(MAC_KEY_LABEL, key.as_mut())
        .map_err(|_| CryptoError::KeyDerivation)?;
    let mut mac =
        Hmac::<Sha256>::new_from_slice(key.as_ref()).map_err(|_| CryptoError::KeyDerivation)?;
    mac.update(video.as_bytes());
    mac.update(&header.to_bytes());
    mac.update(&file.size.to_be_bytes());
    mac.update(&file.chunk_count().to_be_bytes());
    mac.update(&file.fingerprint);
    Ok(mac)
}

/// Text sealed into a new upload's record.
pub struct UploadTexts<'a> {
    pub title: &'a str,
    pub description: Option<&'a str>,
    pub file_name: &'a str,
}

/// A new upload: the request to send, and the DEK and header to seal its chunks with.
pub struct NewUpload {
    pub request: CreateUploadRequest,
    pub dek: Dek,
    pub header: StreamHeader,
}

/// A fresh video id, DEK and salt; title, description and file name sealed; the DEK wrapped under
/// the library key of `key_generation`; the record's MAC made.
pub fn new_upload(
    library_key: &LibraryKey,
    key_generation: u32,
    file: &LocalFile,
    texts: &UploadTexts<'_>,
) -> Result<NewUpload, CryptoError> {
    let video = VideoId::random()?;
    let dek = Dek::generate()?;
    let header = *StreamSealer::new(&dek, &video, &Purpose::Original, DEFAULT_CHUNK_SIZE)?.header();
    let seal = |text: &str, purpose: Purpose| -> Result<String, CryptoError> {
        seal_all(&dek, &video, &purpose, DEFAULT_CHUNK_SIZE, text.as_bytes()).map(hex::encode)
    };
    let request = CreateUploadRequest {
        video_id: video,
        size_bytes: file.size,
        chunk_count: file.chunk_count(),
        stream_header: hex::encode(header.to_bytes()),
        wrapped_dek: wrap_dek(library_key, &video, &dek)?,
        title_sealed: seal(texts.title, Purpose::Title)?,
        description_sealed: texts
            .description
            .map(|d| seal(d, Purpose::Description))
            .transpose()?,
        file_name_sealed: Some(seal(texts.file_name, Purpose::FileName)?),
        fingerprint: hex::encode(file.fingerprint),
        resume_mac: Some(hex::encode(resume_mac(library_key, &video, &header, file)?)),
        content_fingerprint: None,
        key_generation,
    };
    Ok(NewUpload {
        request,
        dek,
        header,
    })
}

/// A record that passed every check: resume it with this DEK and header.
pub struct Resumable {
    pub video: VideoId,
    pub dek: Dek,
    pub header: StreamHeader,
    /// Chunk indexes the server holds, ascending, each below the file's chunk count.
    pub held: Vec<u64>,
}

/// Why a record must not be resumed. The client then starts a fresh upload (new DEK, new salt).
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum NotResumable {
    #[error("that upload is already finished")]
    Finished,
    #[error("it is for a file of {record} bytes, and this file has {local}")]
    OtherSize { record: u64, local: u64 },
    #[error("it has {record} chunks, and this file has {local}")]
    OtherChunkCount { record: u64, local: u64 },
    #[error("it has no check value (it was made by an older version)")]
    NoMac,
    #[error("its check value does not match this file and this library")]
    BadMac,
    #[error("its stream header is malformed")]
    BadHeader,
    #[error("its key does not open with this library's key")]
    BadKey,
}

impl NotResumable {
    /// What the member is told: what happened and what the client does about it.
    pub fn message(&self) -> String {
        format!(
            "The server's unfinished upload of this file was not resumed: {self}. \
             Uploading it again from the start, with a new key."
        )
    }
}

/// Checks the server's record against the local file and the library key; only a record that
/// passes is resumed. The MAC is checked in constant time.
pub fn check_resume(
    library_key: &LibraryKey,
    record: &UploadState,
    file: &LocalFile,
) -> Result<Resumable, NotResumable> {
    if record.status != VideoStatus::Uploading {
        return Err(NotResumable::Finished);
    }
    if record.size_bytes != file.size {
        return Err(NotResumable::OtherSize {
            record: record.size_bytes,
            local: file.size,
        });
    }
    if record.chunk_count != file.chunk_count() || record.chunk_size != DEFAULT_CHUNK_SIZE {
        return Err(NotResumable::OtherChunkCount {
            record: record.chunk_count,
            local: file.chunk_count(),
        });
    }
    let claimed = record
        .resume_mac
        .as_deref()
        .ok_or(NotResumable::NoMac)
        .and_then(|h| hex::decode(h).map_err(|_| NotResumable::BadMac))?;
    let header = hex::decode(&record.stream_header)
        .ok()
        .filter(|h| h.len() == HEADER_LEN)
        .and_then(|h| StreamHeader::parse(&h).ok())
        .filter(|h| h.chunk_size == DEFAULT_CHUNK_SIZE)
        .ok_or(NotResumable::BadHeader)?;
    keyed_mac(library_key, &record.video_id, &header, file)
        .map_err(|_| NotResumable::BadMac)?
        .verify_slice(&claimed)
        .map_err(|_| NotResumable::BadMac)?;
    let dek = unwrap_dek(library_key, &record.video_id, &record.wrapped_dek)
        .map_err(|_| NotResumable::BadKey)?;
    let count = file.chunk_count();
    let mut held: Vec<u64> = record
        .received
        .iter()
        .copied()
        .filter(|&i| i < count)
        .collect();
    held.sort_unstable();
    held.dedup();
    Ok(Resumable {
        video: record.video_id,
        dek,
        header,
        held,
    })
}
