//! Where readings come from: the machine (sysinfo + statvfs), a fixed value (tests), or a JSON
//! file that, while it exists, stands in for the machine (end-to-end tests force a busy gate).

use std::io;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use cloister_shared::api::ResourceReadings;

use crate::storage::DiskSpace;

pub trait ResourceMonitor: Send + Sync + 'static {
    fn read(&self) -> io::Result<ResourceReadings>;
}

/// The real machine: RAM, swap and load from sysinfo, free disk of the data directory.
pub struct SystemMonitor {
    system: Mutex<sysinfo::System>,
    disk: Arc<dyn DiskSpace>,
    data_root: PathBuf,
}

impl SystemMonitor {
    pub fn new(disk: Arc<dyn DiskSpace>, data_root: PathBuf) -> Self {
        Self {
            system: Mutex::new(sysinfo::System::new()),
            disk,
            data_root,
        }
    }
}

impl ResourceMonitor for SystemMonitor {
    fn read(&self) -> io::Result<ResourceReadings> {
        let (total, available, swap_used) = {
            let mut system = self
                .system
                .lock()
                .map_err(|_| io::Error::other("resource monitor poisoned"))?;
            system.refresh_memory();
            (
                system.total_memory(),
                system.available_memory(),
                system.used_swap(),
            )
        };
        if total == 0 {
            return Err(io::Error::other("the machine reports no memory"));
        }
        let used = total.saturating_sub(available);
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        Ok(ResourceReadings {
            total_ram_bytes: total,
            available_ram_bytes: available,
            ram_percent: used as f64 * 100.0 / total as f64,
            swap_used_bytes: swap_used,
            load_1m: sysinfo::System::load_average().one,
            cores: u32::try_from(cores).unwrap_or(u32::MAX),
            disk_free_bytes: self.disk.available_bytes(&self.data_root)?,
        })
    }
}

/// Readings set by a test.
pub struct FixedReadings(Mutex<ResourceReadings>);

impl FixedReadings {
    pub fn new(readings: ResourceReadings) -> Self {
        Self(Mutex::new(readings))
    }

    /// A roomy machine: every default threshold passes.
    pub fn idle() -> ResourceReadings {
        ResourceReadings {
            total_ram_bytes: 2048 << 20,
            available_ram_bytes: 1500 << 20,
            ram_percent: 27.0,
            swap_used_bytes: 0,
            load_1m: 0.1,
            cores: 2,
            disk_free_bytes: 100 << 30,
        }
    }

    pub fn set(&self, readings: ResourceReadings) {
        if let Ok(mut current) = self.0.lock() {
            *current = readings;
        }
    }
}

impl ResourceMonitor for FixedReadings {
    fn read(&self) -> io::Result<ResourceReadings> {
        self.0
            .lock()
            .map(|r| r.clone())
            .map_err(|_| io::Error::other("fixed readings poisoned"))
    }
}

/// While `path` exists, its JSON `ResourceReadings` are the readings; otherwise `fallback`'s.
/// Only for testing a busy server end to end (`--gate-readings-file`); a file that does not
/// parse is an error, which keeps the gate closed rather than silently reading the machine.
pub struct ReadingsFile {
    pub path: PathBuf,
    pub fallback: Arc<dyn ResourceMonitor>,
}

impl ResourceMonitor for ReadingsFile {
    fn read(&self) -> io::Result<ResourceReadings> {
        match fs_err::read(&self.path) {
            Ok(bytes) => serde_json::from_slice(&bytes).map_err(|err| {
                io::Error::new(
                    io::ErrorKind::InvalidData,
                    format!("{}: {err}", self.path.display()),
                )
            }),
            Err(err) if err.kind() == io::ErrorKind::NotFound => self.fallback.read(),
            Err(err) => Err(err),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::storage::FixedDiskSpace;

    #[test]
    fn the_machine_can_be_read() {
        let monitor = SystemMonitor::new(Arc::new(FixedDiskSpace(5)), std::env::temp_dir());
        let r = monitor.read().expect("readings");
        assert!(r.total_ram_bytes > 0);
        assert!(r.available_ram_bytes <= r.total_ram_bytes);
        assert!((0.0..=100.0).contains(&r.ram_percent));
        assert!(r.cores >= 1);
        assert_eq!(r.disk_free_bytes, 5);
    }

    #[test]
    fn a_readings_file_stands_in_only_while_it_exists() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("readings.json");
        let source = ReadingsFile {
            path: path.clone(),
            fallback: Arc::new(FixedReadings::new(FixedReadings::idle())),
        };
        assert_eq!(source.read().expect("fallback"), FixedReadings::idle());
        let busy = ResourceReadings {
            ram_percent: 91.0,
            ..FixedReadings::idle()
        };
        std::fs::write(&path, serde_json::to_vec(&busy).expect("json")).expect("write");
        assert_eq!(source.read().expect("file"), busy);
        std::fs::write(&path, b"{not json").expect("write");
        assert!(source.read().is_err());
    }
}
