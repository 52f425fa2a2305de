//! Sealing processed files and opening the original, streamed chunk by chunk so memory stays
//! near one chunk whatever the file size. Blocking: call from `spawn_blocking`.

use std::io::{self, Read, Write};
use std::path::Path;

use cloister_shared::crypto::stream::{
    chunk_count, sealed_chunk_len, DEFAULT_CHUNK_SIZE, HEADER_LEN,
};
use cloister_shared::manifest::SealedFile;
use cloister_shared::{Dek, Purpose, StreamHeader, StreamOpener, StreamSealer, VideoId};
use fs_err::os::unix::fs::OpenOptionsExt;
use fs_err::{File, OpenOptions};
use tokio_util::sync::CancellationToken;

use crate::storage::VideoStorage;

/// Plaintext the server writes is for its eyes only.
pub fn create_private(path: &Path) -> io::Result<File> {
    OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
}

fn crypto_err(err: cloister_shared::CryptoError) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, err.to_string())
}

/// Fills `buf` from `reader` as far as it goes; returns how many bytes were read.
fn read_full(reader: &mut impl Read, buf: &mut [u8]) -> io::Result<usize> {
    let mut filled = 0;
    while filled < buf.len() {
        let Some(rest) = buf.get_mut(filled..) else {
            break;
        };
        match reader.read(rest)? {
            0 => break,
            n => filled += n,
        }
    }
    Ok(filled)
}

/// Seals the file `src` into a new file `dst` under `purpose` with a fresh salt.
pub fn seal_file(
    dek: &Dek,
    video: &VideoId,
    purpose: &Purpose,
    src: &Path,
    dst: &Path,
) -> io::Result<SealedFile> {
    let sealer = StreamSealer::new(dek, video, purpose, DEFAULT_CHUNK_SIZE).map_err(crypto_err)?;
    let mut input = File::open(src)?;
    let plain_len = input.metadata()?.len();
    let count = chunk_count(plain_len, DEFAULT_CHUNK_SIZE);
    let mut output = create_private(dst)?;
    output.write_all(&sealer.header().to_bytes())?;
    let mut sealed_bytes = HEADER_LEN as u64;
    let mut buf = vec![0u8; DEFAULT_CHUNK_SIZE as usize];
    for index in 0..count {
        let n = read_full(&mut input, &mut buf)?;
        let plain = buf.get(..n).unwrap_or_default();
        let sealed = sealer
            .seal_chunk(index, plain, index + 1 == count)
            .map_err(crypto_err)?;
        output.write_all(&sealed)?;
        sealed_bytes += sealed.len() as u64;
    }
    output.flush()?;
    Ok(SealedFile {
        salt: hex::encode(sealer.header().salt),
        sealed_bytes,
        plain_bytes: plain_len,
    })
}

/// Seals a small buffer (the manifest) into a new file.
pub fn seal_bytes(
    dek: &Dek,
    video: &VideoId,
    purpose: &Purpose,
    plain: &[u8],
    dst: &Path,
) -> io::Result<()> {
    let sealed =
        cloister_shared::crypto::stream::seal_all(dek, video, purpose, DEFAULT_CHUNK_SIZE, plain)
            .map_err(crypto_err)?;
    let mut output = create_private(dst)?;
    output.write_all(&sealed)?;
    output.flush()
}

/// Why the original could not be opened.
#[derive(Debug, thiserror::Error)]
pub enum OpenOriginalError {
    #[error("the stored original does not decrypt with the key held for it")]
    Decrypt,
    #[error("cancelled")]
    Cancelled,
    #[error(transparent)]
    Io(#[from] io::Error),
}

/// The original's layout, from its video row.
#[derive(Debug, Clone, Copy)]
pub struct OriginalLayout {
    pub size_bytes: u64,
    pub chunk_size: u32,
}

/// Decrypts the sealed original of `video` into the new private file `dst`, calling `progress`
/// with the fraction done after each chunk.
pub fn open_original(
    storage: &dyn VideoStorage,
    dek: &Dek,
    video: &VideoId,
    layout: OriginalLayout,
    dst: &Path,
    cancel: &CancellationToken,
    progress: &dyn Fn(f32),
) -> Result<(), OpenOriginalError> {
    let head = storage.read_original(video, 0, HEADER_LEN)?;
    let header = StreamHeader::parse(&head).map_err(|_| OpenOriginalError::Decrypt)?;
    if header.chunk_size != layout.chunk_size {
        return Err(OpenOriginalError::Decrypt);
    }
    let opener = StreamOpener::new(dek, video, &Purpose::Original, &header)
        .map_err(|_| OpenOriginalError::Decrypt)?;
    let count = chunk_count(layout.size_bytes, layout.chunk_size);
    let mut output = create_private(dst)?;
    let mut offset = HEADER_LEN as u64;
    for index in 0..count {
        if cancel.is_cancelled() {
            return Err(OpenOriginalError::Cancelled);
        }
        let len = sealed_chunk_len(layout.size_bytes, layout.chunk_size, index)
            .and_then(|l| usize::try_from(l).ok())
            .ok_or(OpenOriginalError::Decrypt)?;
        let sealed = storage.read_original(video, offset, len)?;
        if sealed.len() != len {
            return Err(OpenOriginalError::Decrypt);
        }
        let plain = opener
            .open_chunk(index, &sealed, index + 1 == count)
            .map_err(|_| OpenOriginalError::Decrypt)?;
        output.write_all(&plain)?;
        offset += len as u64;
        progress((index + 1) as f32 / count as f32);
    }
    // No fsync: this plaintext is deleted when the job ends and a crash restarts the job, so
    // forcing it onto the disk would only cost time (and put plaintext on the platter).
    output.flush()?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_sealed_file_opens_to_its_plaintext_with_the_salt_it_reports() {
        let dir = tempfile::tempdir().expect("tempdir");
        let src = dir.path().join("plain");
        let plain: Vec<u8> = (0..(DEFAULT_CHUNK_SIZE as usize + 1000))
            .map(|i| (i % 251) as u8)
            .collect();
        std::fs::write(&src, &plain).expect("write");
        let dek = Dek::from_bytes([7; 32]);
        let video = VideoId::from_bytes([3; 16]);
        let purpose = Purpose::segment("0123456789abcdef", 4).expect("purpose");
        let dst = dir.path().join("sealed");
        let entry = seal_file(&dek, &video, &purpose, &src, &dst).expect("seal");
        let sealed = std::fs::read(&dst).expect("read");
        assert_eq!(entry.sealed_bytes, sealed.len() as u64);
        assert_eq!(entry.plain_bytes, plain.len() as u64);
        let header = StreamHeader::parse(&sealed).expect("header");
        assert!(entry.matches(&header));
        let opened = cloister_shared::crypto::stream::open_all(&dek, &video, &purpose, &sealed)
            .expect("open");
        assert_eq!(opened, plain);
        // Under another purpose (another segment's place) it does not open.
        let elsewhere = Purpose::segment("0123456789abcdef", 5).expect("purpose");
        assert!(
            cloister_shared::crypto::stream::open_all(&dek, &video, &elsewhere, &sealed).is_err()
        );
    }
}
