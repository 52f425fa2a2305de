//! Free disk space, behind a trait so tests can make the server's storage "low".

use std::io;
use std::path::Path;

pub trait DiskSpace: Send + Sync + 'static {
    /// Bytes an unprivileged process can still write on the filesystem holding `path`.
    fn available_bytes(&self, path: &Path) -> io::Result<u64>;
}

/// The real reading: `statvfs(2)` (blocks available to non-root × fragment size).
#[derive(Debug, Clone, Copy, Default)]
pub struct StatvfsDiskSpace;

impl DiskSpace for StatvfsDiskSpace {
    fn available_bytes(&self, path: &Path) -> io::Result<u64> {
        let stat = rustix::fs::statvfs(path)?;
        Ok(stat.f_bavail.saturating_mul(stat.f_frsize))
    }
}

/// A fixed reading, for tests.
#[derive(Debug, Clone, Copy)]
pub struct FixedDiskSpace(pub u64);

impl DiskSpace for FixedDiskSpace {
    fn available_bytes(&self, _path: &Path) -> io::Result<u64> {
        Ok(self.0)
    }
}

/// A reading a test changes as it goes (the disk "fills" between two requests).
#[derive(Debug, Default)]
pub struct SettableDiskSpace(std::sync::atomic::AtomicU64);

impl SettableDiskSpace {
    pub fn new(bytes: u64) -> Self {
        Self(bytes.into())
    }

    pub fn set(&self, bytes: u64) {
        self.0.store(bytes, std::sync::atomic::Ordering::Relaxed);
    }
}

impl DiskSpace for SettableDiskSpace {
    fn available_bytes(&self, _path: &Path) -> io::Result<u64> {
        Ok(self.0.load(std::sync::atomic::Ordering::Relaxed))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statvfs_reads_something_for_the_temp_dir() {
        let free = StatvfsDiskSpace
            .available_bytes(&std::env::temp_dir())
            .expect("statvfs");
        assert!(free > 0);
    }
}
