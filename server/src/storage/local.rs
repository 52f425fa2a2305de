//! The object storage interface on the local filesystem: each key is a file below the storage
//! root (the data directory), written with today's durability: a temp name in the same
//! directory, fsync the file, rename, fsync the directory.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::ops::Range;
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use bytes::Bytes;
use futures_util::stream::{self, StreamExt};

use super::backend::{
    check_range, ByteStream, Capacity, Created, Listed, ObjectStorage, StoreError, StoreErrorKind,
    StoreFuture, StoreOp, StoreResult,
};
use super::key::{KeyPrefix, ObjectKey};
use super::DiskSpace;

/// The most a ranged read holds in memory at once per stream.
const READ_PIECE: usize = 256 * 1024;

pub struct LocalStorage {
    root: PathBuf,
    disk: Arc<dyn DiskSpace>,
}

impl LocalStorage {
    /// `root` is the data directory (keys start with `videos/`); `disk` reads its free space.
    pub fn new(root: PathBuf, disk: Arc<dyn DiskSpace>) -> Self {
        Self { root, disk }
    }

    /// The key's file: keys are made of parsed ids and fixed names, so this stays below `root`.
    fn file(&self, key: &ObjectKey) -> PathBuf {
        self.root.join(key.path())
    }

    fn dir(&self, prefix: &KeyPrefix) -> PathBuf {
        self.root.join(prefix.path())
    }
}

/// Runs blocking filesystem work off the async threads.
async fn blocking<T: Send + 'static>(
    op: StoreOp,
    key: String,
    work: impl FnOnce() -> StoreResult<T> + Send + 'static,
) -> StoreResult<T> {
    match tokio::task::spawn_blocking(work).await {
        Ok(result) => result,
        Err(err) => Err(StoreError::new(
            op,
            key,
            StoreErrorKind::Other,
            format!("the storage task failed: {err}"),
        )),
    }
}

fn sync_dir(dir: &Path) -> io::Result<()> {
    File::open(dir)?.sync_all()
}

/// Creates the directories from `root` down to `dir`, syncing the parent of each one created, so
/// a new directory entry survives a crash too.
fn ensure_dir(root: &Path, dir: &Path) -> io::Result<()> {
    let rel = dir
        .strip_prefix(root)
        .map_err(|_| io::Error::other("an object directory is outside the storage root"))?;
    let mut path = root.to_path_buf();
    for part in rel.components() {
        let next = path.join(part);
        match fs::create_dir(&next) {
            Ok(()) => sync_dir(&path)?,
            Err(err) if err.kind() == io::ErrorKind::AlreadyExists => {}
            Err(err) => return Err(err),
        }
        path = next;
    }
    Ok(())
}

/// A name in the target's directory that no key parses as, unique across processes and calls.
fn temp_beside(target: &Path) -> io::Result<PathBuf> {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let name = target
        .file_name()
        .and_then(|n| n.to_str())
        .ok_or_else(|| io::Error::other("an object path has no file name"))?;
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    Ok(target.with_file_name(format!(".{name}.tmp-{}-{n}", std::process::id())))
}

fn parent(path: &Path) -> io::Result<&Path> {
    path.parent()
        .ok_or_else(|| io::Error::other("an object path has no directory"))
}

/// Writes `bytes` to a fresh temp file beside `target` and makes it durable; returns its name.
fn write_temp(root: &Path, target: &Path, bytes: &[u8]) -> io::Result<PathBuf> {
    ensure_dir(root, parent(target)?)?;
    let temp = temp_beside(target)?;
    let written = (|| {
        let mut file = OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&temp)?;
        file.write_all(bytes)?;
        file.sync_all()
    })();
    match written {
        Ok(()) => Ok(temp),
        Err(err) => {
            let _ = fs::remove_file(&temp);
            Err(err)
        }
    }
}

fn ignore_missing(result: io::Result<()>) -> io::Result<()> {
    match result {
        Err(err) if err.kind() == io::ErrorKind::NotFound => Ok(()),
        other => other,
    }
}

fn put_blocking(root: &Path, target: &Path, bytes: &[u8]) -> io::Result<()> {
    let temp = write_temp(root, target, bytes)?;
    if let Err(err) = fs::rename(&temp, target) {
        let _ = fs::remove_file(&temp);
        return Err(err);
    }
    sync_dir(parent(target)?)
}

fn put_if_absent_blocking(root: &Path, target: &Path, bytes: &[u8]) -> io::Result<Created> {
    let temp = write_temp(root, target, bytes)?;
    // link(2) never replaces: it fails with EEXIST when the name is taken, atomically.
    let linked = fs::hard_link(&temp, target);
    let removed = fs::remove_file(&temp);
    let created = match linked {
        Ok(()) => Created::Created,
        Err(err) if err.kind() == io::ErrorKind::AlreadyExists => Created::AlreadyThere,
        Err(err) => return Err(err),
    };
    removed?;
    sync_dir(parent(target)?)?;
    Ok(created)
}

fn put_file_blocking(root: &Path, target: &Path, from: &Path) -> io::Result<()> {
    File::open(from)?.sync_all()?;
    ensure_dir(root, parent(target)?)?;
    match fs::rename(from, target) {
        Ok(()) => {}
        // Another filesystem (tmp/ on its own mount): copy to a temp name, then rename.
        Err(err) if err.raw_os_error() == Some(libc::EXDEV) => {
            let temp = temp_beside(target)?;
            let copied = fs::copy(from, &temp)
                .and_then(|_| File::open(&temp)?.sync_all())
                .and_then(|()| fs::rename(&temp, target));
            if let Err(err) = copied {
                let _ = fs::remove_file(&temp);
                return Err(err);
            }
            fs::remove_file(from)?;
        }
        Err(err) => return Err(err),
    }
    sync_dir(parent(target)?)
}

/// Up to `len` bytes at `offset`; fewer only at the end of the file.
fn read_at_most(file: &File, offset: u64, len: usize) -> io::Result<Vec<u8>> {
    let mut buf = vec![0u8; len];
    let mut filled = 0;
    while filled < len {
        let Some(rest) = buf.get_mut(filled..) else {
            break;
        };
        match file.read_at(rest, offset + filled as u64)? {
            0 => break,
            n => filled += n,
        }
    }
    buf.truncate(filled);
    Ok(buf)
}

fn list_blocking(root: &Path, dir: &Path) -> io::Result<Vec<Listed>> {
    let mut found = Vec::new();
    let mut pending = vec![dir.to_path_buf()];
    while let Some(dir) = pending.pop() {
        let entries = match fs::read_dir(&dir) {
            Ok(entries) => entries,
            Err(err) if err.kind() == io::ErrorKind::NotFound => continue,
            Err(err) => return Err(err),
        };
        for entry in entries {
            let entry = entry?;
            let kind = entry.file_type()?;
            let path = entry.path();
            if kind.is_dir() {
                pending.push(path);
            } else if kind.is_file() {
                let key = path
                    .strip_prefix(root)
                    .ok()
                    .and_then(|rel| rel.to_str())
                    .and_then(ObjectKey::parse);
                if let Some(key) = key {
                    found.push(Listed {
                        key,
                        len: entry.metadata()?.len(),
                    });
                }
            }
        }
    }
    Ok(found)
}

impl ObjectStorage for LocalStorage {
    fn put<'a>(&'a self, key: &'a ObjectKey, bytes: Bytes) -> StoreFuture<'a, ()> {
        let (root, target, name) = (self.root.clone(), self.file(key), key.to_string());
        Box::pin(blocking(StoreOp::Write, name.clone(), move || {
            put_blocking(&root, &target, &bytes)
                .map_err(|e| StoreError::io(StoreOp::Write, name, &e))
        }))
    }

    fn put_if_absent<'a>(&'a self, key: &'a ObjectKey, bytes: Bytes) -> StoreFuture<'a, Created> {
        let (root, target, name) = (self.root.clone(), self.file(key), key.to_string());
        Box::pin(blocking(StoreOp::Write, name.clone(), move || {
            put_if_absent_blocking(&root, &target, &bytes)
                .map_err(|e| StoreError::io(StoreOp::Write, name, &e))
        }))
    }

    fn put_file<'a>(&'a self, key: &'a ObjectKey, from: &'a Path) -> StoreFuture<'a, ()> {
        let (root, target, name) = (self.root.clone(), self.file(key), key.to_string());
        let from = from.to_path_buf();
        Box::pin(blocking(StoreOp::Write, name.clone(), move || {
            put_file_blocking(&root, &target, &from)
                .map_err(|e| StoreError::io(StoreOp::Write, name, &e))
        }))
    }

    fn read_range<'a>(
        &'a self,
        key: &'a ObjectKey,
        range: Range<u64>,
    ) -> StoreFuture<'a, ByteStream> {
        let (path, name) = (self.file(key), key.to_string());
        let key = key.clone();
        Box::pin(async move {
            let opened = range.clone();
            let file = blocking(StoreOp::Read, name.clone(), move || {
                let io = |e: io::Error| StoreError::io(StoreOp::Read, &key, &e);
                let file = File::open(&path).map_err(io)?;
                let len = file.metadata().map_err(io)?.len();
                check_range(&key, &opened, len)?;
                Ok(Arc::new(file))
            })
            .await?;
            // Each piece is one positioned read on a blocking thread; nothing reads ahead of the
            // consumer.
            let pieces = stream::try_unfold(range.start, move |offset| {
                let (file, name) = (file.clone(), name.clone());
                let end = range.end;
                async move {
                    if offset >= end {
                        return Ok(None);
                    }
                    let want =
                        usize::try_from(end - offset).map_or(READ_PIECE, |n| n.min(READ_PIECE));
                    let read_name = name.clone();
                    let piece = blocking(StoreOp::Read, name.clone(), move || {
                        read_at_most(&file, offset, want)
                            .map_err(|e| StoreError::io(StoreOp::Read, read_name, &e))
                    })
                    .await?;
                    if piece.is_empty() {
                        return Err(StoreError::new(
                            StoreOp::Read,
                            name,
                            StoreErrorKind::OutOfRange,
                            format!("the object ended at byte {offset}, before byte {end}"),
                        ));
                    }
                    let next = offset + piece.len() as u64;
                    Ok(Some((Bytes::from(piece), next)))
                }
            });
            Ok(pieces.boxed())
        })
    }

    fn len<'a>(&'a self, key: &'a ObjectKey) -> StoreFuture<'a, Option<u64>> {
        let (path, name) = (self.file(key), key.to_string());
        Box::pin(blocking(
            StoreOp::Measure,
            name.clone(),
            move || match fs::metadata(&path) {
                Ok(meta) if meta.is_file() => Ok(Some(meta.len())),
                Ok(_) => Err(StoreError::new(
                    StoreOp::Measure,
                    name,
                    StoreErrorKind::Other,
                    "not a regular file",
                )),
                Err(err) if err.kind() == io::ErrorKind::NotFound => Ok(None),
                Err(err) => Err(StoreError::io(StoreOp::Measure, name, &err)),
            },
        ))
    }

    fn list<'a>(&'a self, prefix: &'a KeyPrefix) -> StoreFuture<'a, Vec<Listed>> {
        let (root, dir, name) = (self.root.clone(), self.dir(prefix), prefix.to_string());
        Box::pin(blocking(StoreOp::List, name.clone(), move || {
            list_blocking(&root, &dir).map_err(|e| StoreError::io(StoreOp::List, name, &e))
        }))
    }

    fn delete<'a>(&'a self, key: &'a ObjectKey) -> StoreFuture<'a, ()> {
        let (path, name) = (self.file(key), key.to_string());
        Box::pin(blocking(StoreOp::Delete, name.clone(), move || {
            let io = |e: io::Error| StoreError::io(StoreOp::Delete, &name, &e);
            ignore_missing(fs::remove_file(&path)).map_err(io)?;
            ignore_missing(parent(&path).and_then(sync_dir)).map_err(io)
        }))
    }

    fn delete_all<'a>(&'a self, prefix: &'a KeyPrefix) -> StoreFuture<'a, ()> {
        let (dir, name) = (self.dir(prefix), prefix.to_string());
        Box::pin(blocking(StoreOp::Delete, name.clone(), move || {
            let io = |e: io::Error| StoreError::io(StoreOp::Delete, &name, &e);
            ignore_missing(fs::remove_dir_all(&dir)).map_err(io)?;
            ignore_missing(parent(&dir).and_then(sync_dir)).map_err(io)
        }))
    }

    fn capacity(&self) -> StoreFuture<'_, Capacity> {
        let (root, disk) = (self.root.clone(), self.disk.clone());
        let name = root.display().to_string();
        Box::pin(blocking(StoreOp::Capacity, name.clone(), move || {
            disk.available_bytes(&root)
                .map(|free| Capacity {
                    available: Some(free),
                })
                .map_err(|e| StoreError::io(StoreOp::Capacity, name, &e))
        }))
    }
}
