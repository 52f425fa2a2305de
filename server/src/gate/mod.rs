//! The resource gate (docs/architecture.md): a processing job starts only when the machine can afford it.
//! Readings come through the `ResourceMonitor` trait, so tests feed them and production reads the
//! machine; `policy` turns readings into a verdict with its reasons in words and numbers.

pub mod estimate;
mod monitor;
mod policy;

use std::sync::Arc;

use cloister_shared::api::ResourceReadings;

pub use monitor::{FixedReadings, ReadingsFile, ResourceMonitor, SystemMonitor};
pub use policy::{
    in_plain_words, machine_reasons, machine_shortages, reasons_against, shortages_for_job,
    Shortage, UNREADABLE_IN_PLAIN_WORDS,
};

use crate::config::GateConfig;

/// What the gate said about starting a job now.
#[derive(Debug, Clone, PartialEq)]
pub struct Verdict {
    /// None when the machine could not be read.
    pub readings: Option<ResourceReadings>,
    /// Empty when the gate is open.
    pub reasons: Vec<String>,
    /// The same reasons in plain words for members, without figures; empty when open.
    pub plain_reasons: Vec<String>,
    /// Disk space is among the reasons: that does not clear up by itself.
    pub disk_short: bool,
}

impl Verdict {
    pub fn open(&self) -> bool {
        self.reasons.is_empty()
    }
}

#[derive(Clone)]
pub struct Gate {
    monitor: Arc<dyn ResourceMonitor>,
    config: GateConfig,
}

impl Gate {
    pub fn new(monitor: Arc<dyn ResourceMonitor>, config: GateConfig) -> Self {
        Self { monitor, config }
    }

    /// Reads the machine (blocking, but quick: a few /proc files and one statvfs).
    pub fn readings(&self) -> std::io::Result<ResourceReadings> {
        self.monitor.read()
    }

    /// May a job of `job_size` bytes start now? A machine that cannot be read keeps the gate
    /// closed: starting ffmpeg blind on a 2 GB server is what the gate exists to prevent.
    pub fn check(&self, job_size: u64) -> Verdict {
        self.verdict(|config, readings| shortages_for_job(config, readings, job_size))
    }

    /// May a server-side decrypted download start now? Memory, swap and load only.
    pub fn check_download(&self) -> Verdict {
        self.verdict(machine_shortages)
    }

    fn verdict(&self, rule: impl Fn(&GateConfig, &ResourceReadings) -> Vec<Shortage>) -> Verdict {
        match self.monitor.read() {
            Ok(readings) => {
                let shortages = rule(&self.config, &readings);
                Verdict {
                    reasons: shortages.iter().map(Shortage::in_numbers).collect(),
                    plain_reasons: in_plain_words(&shortages),
                    disk_short: shortages.iter().any(|s| matches!(s, Shortage::Disk { .. })),
                    readings: Some(readings),
                }
            }
            Err(err) => {
                tracing::warn!(error = %err, "cannot read the machine's resources");
                Verdict {
                    readings: None,
                    reasons: vec!["the server's memory and load could not be read".to_owned()],
                    plain_reasons: vec![UNREADABLE_IN_PLAIN_WORDS.to_owned()],
                    disk_short: false,
                }
            }
        }
    }
}
