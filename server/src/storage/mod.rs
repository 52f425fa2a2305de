//! Where sealed files live (docs/architecture.md). One trait, so S3-compatible object storage can replace
//! the filesystem when a group outgrows one machine; the filesystem implementation is `fs`.
//!
//! Every location is built from a parsed `VideoId` and fixed names, never from request input.

mod backend;
mod disk;
mod fs;
mod key;
mod local;
mod object;
mod s3;

use std::io;

use cloister_shared::VideoId;

pub use disk::{DiskSpace, FixedDiskSpace, SettableDiskSpace, StatvfsDiskSpace};
pub use fs::{FsStorage, ORIGINAL_FILE, PARTIAL_FILE};
pub use object::{RenditionId, StoredObject};

// The async object storage interface and its backends; callers move to it from `VideoStorage`.
pub use backend::{
    ByteStream, Capacity, Created, Listed, ObjectStorage, StoreError, StoreErrorKind, StoreFuture,
    StoreOp, StoreResult,
};
pub use key::{KeyPrefix, ObjectKey, VideoObject};
pub use local::LocalStorage;
pub use s3::{S3Config, S3Location, S3Storage};

use std::path::Path;

/// A partial original being written chunk by chunk, at known offsets and in any order. (An
/// object store would map each chunk to a part of a multipart upload.)
pub trait PartialOriginal: Send + Sync {
    fn write_at(&self, bytes: &[u8], offset: u64) -> io::Result<()>;
    /// Makes what was written durable.
    fn sync(&self) -> io::Result<()>;
}

/// The blocking storage operations; callers run them on a blocking thread.
pub trait VideoStorage: Send + Sync + 'static {
    /// Creates the video's partial original holding just `header` (replacing any left over).
    fn begin_original(&self, video: &VideoId, header: &[u8]) -> io::Result<()>;
    /// Opens the partial original for positioned writes.
    fn open_partial(&self, video: &VideoId) -> io::Result<Box<dyn PartialOriginal>>;
    /// Reads up to `len` bytes at `offset` of the original, partial or finished.
    fn read_original(&self, video: &VideoId, offset: u64, len: usize) -> io::Result<Vec<u8>>;
    /// The original's current length, partial or finished.
    fn original_len(&self, video: &VideoId) -> io::Result<u64>;
    /// Syncs the partial original and moves it, atomically and durably, to its final name.
    /// Idempotent: a finished original is left as it is.
    fn finish_original(&self, video: &VideoId) -> io::Result<()>;
    /// Removes every file of the video; a video with no files is not an error.
    fn remove_video(&self, video: &VideoId) -> io::Result<()>;

    /// Moves the finished sealed file `from` (on the same filesystem, e.g. in `tmp/`) into place
    /// as `object`, atomically and durably, replacing what was there.
    fn import_object(&self, video: &VideoId, object: &StoredObject, from: &Path) -> io::Result<()>;
    /// Reads up to `len` bytes at `offset` of a processed object.
    fn read_object(
        &self,
        video: &VideoId,
        object: &StoredObject,
        offset: u64,
        len: usize,
    ) -> io::Result<Vec<u8>>;
    fn object_len(&self, video: &VideoId, object: &StoredObject) -> io::Result<u64>;
    /// The renditions stored for the video.
    fn renditions(&self, video: &VideoId) -> io::Result<Vec<RenditionId>>;
    /// Removes a rendition's files; one that does not exist is not an error.
    fn remove_rendition(&self, video: &VideoId, rendition: &RenditionId) -> io::Result<()>;
    /// Bytes every file of the video takes (0 when it has none).
    fn video_bytes(&self, video: &VideoId) -> io::Result<u64>;
    /// Bytes a rendition's files take (0 when it does not exist).
    fn rendition_bytes(&self, video: &VideoId, rendition: &RenditionId) -> io::Result<u64>;
}

/// The bytes of every regular file below `path` (a file counts itself; nothing there is 0).
/// Links are not followed.
pub fn tree_bytes(path: &Path) -> io::Result<u64> {
    let meta = match fs_err::symlink_metadata(path) {
        Ok(meta) => meta,
        Err(err) if err.kind() == io::ErrorKind::NotFound => return Ok(0),
        Err(err) => return Err(err),
    };
    if !meta.is_dir() {
        return Ok(if meta.is_file() { meta.len() } else { 0 });
    }
    let mut total = 0u64;
    for entry in fs_err::read_dir(path)? {
        total = total.saturating_add(tree_bytes(&entry?.path())?);
    }
    Ok(total)
}
