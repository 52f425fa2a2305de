//! The async, streaming object storage interface (docs/architecture.md, "Storage and database"),
//! with two backends: the local filesystem (`local`) and S3-compatible object storage (`s3`).
//!
//! The trait's methods return boxed futures written out by hand rather than `async fn`: callers
//! hold an `Arc<dyn ObjectStorage>` chosen at start-up, and a trait with native `async fn` cannot
//! be used as `dyn`; boxing by hand needs no macro crate, and one allocation per call is nothing
//! next to the I/O it starts.

use std::fmt;
use std::ops::Range;
use std::path::Path;

use bytes::Bytes;
use futures_util::future::BoxFuture;
use futures_util::stream::BoxStream;

use super::key::{KeyPrefix, ObjectKey};

pub type StoreResult<T> = Result<T, StoreError>;
pub type StoreFuture<'a, T> = BoxFuture<'a, StoreResult<T>>;
/// The bytes of a ranged read, in bounded pieces.
pub type ByteStream = BoxStream<'static, StoreResult<Bytes>>;

/// What a conditional create found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Created {
    Created,
    AlreadyThere,
}

/// An object a listing found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Listed {
    pub key: ObjectKey,
    pub len: u64,
}

/// Room left for new objects.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Capacity {
    /// Bytes that can still be written; `None` when unknown or unlimited (object storage with no
    /// configured quota).
    pub available: Option<u64>,
}

pub trait ObjectStorage: Send + Sync + 'static {
    /// Writes the whole object, atomically and durably replacing what was there.
    fn put<'a>(&'a self, key: &'a ObjectKey, bytes: Bytes) -> StoreFuture<'a, ()>;

    /// Writes the object only if there is none under the key. Atomic on the local backend and on
    /// object storage that honours `If-None-Match: *` (of two concurrent callers, exactly one
    /// creates it); where the store ignores that header (Garage) it is check-then-write, so
    /// callers that may race on one key must serialize (docs/decisions.md, "Object storage").
    fn put_if_absent<'a>(&'a self, key: &'a ObjectKey, bytes: Bytes) -> StoreFuture<'a, Created>;

    /// Stores the local file `from` (e.g. a rendition made in `tmp/`) as the object, streamed,
    /// atomically and durably replacing what was there. `from` is consumed: on success it no
    /// longer exists (the local backend renames it into place when it can).
    fn put_file<'a>(&'a self, key: &'a ObjectKey, from: &'a Path) -> StoreFuture<'a, ()>;

    /// Bytes `range` of the object, streamed in bounded pieces. A range that is empty or does
    /// not lie within the object is an `OutOfRange` error, found before the stream starts.
    fn read_range<'a>(
        &'a self,
        key: &'a ObjectKey,
        range: Range<u64>,
    ) -> StoreFuture<'a, ByteStream>;

    /// The object's length; `None` when there is no such object.
    fn len<'a>(&'a self, key: &'a ObjectKey) -> StoreFuture<'a, Option<u64>>;

    /// The objects under the prefix, in no particular order; names that are not objects of this
    /// layout (temp files, another layout's files) are left out.
    fn list<'a>(&'a self, prefix: &'a KeyPrefix) -> StoreFuture<'a, Vec<Listed>>;

    /// Deletes the object; one that does not exist is not an error.
    fn delete<'a>(&'a self, key: &'a ObjectKey) -> StoreFuture<'a, ()>;

    /// Deletes everything under the prefix (a whole video, its original or one rendition);
    /// nothing there is not an error.
    fn delete_all<'a>(&'a self, prefix: &'a KeyPrefix) -> StoreFuture<'a, ()>;

    /// Room left: free space of the storage root's filesystem, or a configured quota minus the
    /// bytes stored.
    fn capacity(&self) -> StoreFuture<'_, Capacity>;
}

/// What the HTTP layer needs to know about a failure to answer it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StoreErrorKind {
    /// No such object.
    NotFound,
    /// A read asked for bytes the object does not have (truncated, or a wrong range).
    OutOfRange,
    /// No room: the disk is full (ENOSPC, a disk quota), object storage answered 507, or the
    /// configured quota would be exceeded.
    StorageFull,
    /// The storage cannot be used right now: unreachable, timed out, or it refused the
    /// credentials.
    Unavailable,
    /// Anything else: an I/O error, a damaged object, an answer that makes no sense.
    Other,
}

/// The operation that failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StoreOp {
    Open,
    Write,
    Read,
    Measure,
    List,
    Delete,
    Capacity,
}

impl fmt::Display for StoreOp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Open => "opening",
            Self::Write => "writing",
            Self::Read => "reading",
            Self::Measure => "measuring",
            Self::List => "listing",
            Self::Delete => "deleting",
            Self::Capacity => "measuring the free space of",
        })
    }
}

/// A storage failure: the operation, the key (or prefix, or storage) it was on, a kind and a
/// plain description. Never holds a secret.
#[derive(Debug, Clone)]
pub struct StoreError {
    pub op: StoreOp,
    /// The key, prefix or storage location the operation was on.
    pub key: String,
    pub kind: StoreErrorKind,
    pub detail: String,
}

impl StoreError {
    pub fn new(
        op: StoreOp,
        key: impl fmt::Display,
        kind: StoreErrorKind,
        detail: impl Into<String>,
    ) -> Self {
        Self {
            op,
            key: key.to_string(),
            kind,
            detail: detail.into(),
        }
    }

    pub fn not_found(op: StoreOp, key: impl fmt::Display) -> Self {
        Self::new(op, key, StoreErrorKind::NotFound, "no such object")
    }

    /// `range` is not within an object of `len` bytes.
    pub fn out_of_range(key: impl fmt::Display, range: &Range<u64>, len: u64) -> Self {
        Self::new(
            StoreOp::Read,
            key,
            StoreErrorKind::OutOfRange,
            format!(
                "bytes {}..{} asked for, but the object is {len} bytes long",
                range.start, range.end
            ),
        )
    }

    /// Classifies a local I/O error.
    pub fn io(op: StoreOp, key: impl fmt::Display, err: &std::io::Error) -> Self {
        use std::io::ErrorKind as Io;
        let kind = match err.kind() {
            Io::NotFound => StoreErrorKind::NotFound,
            Io::StorageFull | Io::QuotaExceeded => StoreErrorKind::StorageFull,
            Io::TimedOut => StoreErrorKind::Unavailable,
            _ => StoreErrorKind::Other,
        };
        Self::new(op, key, kind, err.to_string())
    }
}

impl fmt::Display for StoreError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}: {}", self.op, self.key, self.detail)
    }
}

impl std::error::Error for StoreError {}

/// `Err(OutOfRange)` unless `range` is non-empty and within an object of `len` bytes.
pub(super) fn check_range(key: &ObjectKey, range: &Range<u64>, len: u64) -> StoreResult<()> {
    if range.start < range.end && range.end <= len {
        Ok(())
    } else {
        Err(StoreError::out_of_range(key, range, len))
    }
}
