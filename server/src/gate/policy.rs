//! The thresholds of docs/architecture.md (the seed's numbers, all configurable). Each broken
//! threshold is a [`Shortage`], told two ways: in numbers for the admin page and the logs ("RAM in
//! use 74 % (limit 72 %)"), and in plain words for members ("It is short of memory"), who are
//! never shown load averages (docs/architecture.md, "Messages members see").

use cloister_shared::api::ResourceReadings;

use crate::cli::user::human_bytes;
use crate::config::GateConfig;

const MIB: u64 = 1024 * 1024;

fn mb(bytes: u64) -> u64 {
    bytes / MIB
}

/// One threshold the readings break, with the figures that break it.
#[derive(Debug, Clone, PartialEq)]
pub enum Shortage {
    FewRamAvailable { available: u64, needs_mb: u64 },
    RamInUse { percent: f64, limit: f64 },
    SwapInUse { used: u64, limit_mb: u64 },
    Load { load: f64, ceiling: f64, cores: u32 },
    Disk { free: u64, needed: u64 },
}

impl Shortage {
    /// For admins and logs: the reading and its limit.
    pub fn in_numbers(&self) -> String {
        match self {
            Self::FewRamAvailable {
                available,
                needs_mb,
            } => format!(
                "only {} MB of RAM available (needs more than {needs_mb} MB)",
                mb(*available)
            ),
            Self::RamInUse { percent, limit } => {
                format!("RAM in use {percent:.0} % (limit {limit:.0} %)")
            }
            Self::SwapInUse { used, limit_mb } => {
                format!("swap in use {} MB (limit {limit_mb} MB)", mb(*used))
            }
            Self::Load {
                load,
                ceiling,
                cores,
            } => {
                format!("load {load:.1} over the last minute (limit {ceiling:.1} on {cores} cores)")
            }
            Self::Disk { free, needed } => format!(
                "disk free {}, needs more than {} for this video",
                human_bytes(*free),
                human_bytes(*needed)
            ),
        }
    }

    /// For members: what is short, without figures. Memory and swap are one thing to a member.
    pub const fn in_plain_words(&self) -> &'static str {
        match self {
            Self::FewRamAvailable { .. } | Self::RamInUse { .. } | Self::SwapInUse { .. } => {
                "It is short of memory."
            }
            Self::Load { .. } => "It is busy with other work.",
            Self::Disk { .. } => "It is short of disk space.",
        }
    }
}

/// What members read when the machine could not be read at all.
pub const UNREADABLE_IN_PLAIN_WORDS: &str = "It cannot check its own memory and load right now.";

/// Every threshold `readings` break for a job of `job_size` bytes; empty means go.
pub fn shortages_for_job(
    config: &GateConfig,
    readings: &ResourceReadings,
    job_size: u64,
) -> Vec<Shortage> {
    let mut found = machine_shortages(config, readings);
    let needed = job_size
        .saturating_mul(2)
        .saturating_add(config.disk_reserve_bytes);
    if readings.disk_free_bytes <= needed {
        found.push(Shortage::Disk {
            free: readings.disk_free_bytes,
            needed,
        });
    }
    found
}

/// The thresholds on memory, swap and load: what a decrypting download needs (it writes nothing
/// to disk, so free space does not hold it back).
pub fn machine_shortages(config: &GateConfig, readings: &ResourceReadings) -> Vec<Shortage> {
    let mut found = Vec::new();
    if readings.available_ram_bytes <= config.min_available_ram_mb.saturating_mul(MIB) {
        found.push(Shortage::FewRamAvailable {
            available: readings.available_ram_bytes,
            needs_mb: config.min_available_ram_mb,
        });
    }
    if readings.ram_percent >= config.max_ram_percent {
        found.push(Shortage::RamInUse {
            percent: readings.ram_percent,
            limit: config.max_ram_percent,
        });
    }
    if readings.swap_used_bytes >= config.max_swap_used_mb.saturating_mul(MIB) {
        found.push(Shortage::SwapInUse {
            used: readings.swap_used_bytes,
            limit_mb: config.max_swap_used_mb,
        });
    }
    let cores = usize::try_from(readings.cores).unwrap_or(1);
    let ceiling = config.load_ceiling(cores);
    if readings.load_1m >= ceiling {
        found.push(Shortage::Load {
            load: readings.load_1m,
            ceiling,
            cores: readings.cores,
        });
    }
    found
}

/// Every threshold `readings` break for a job of `job_size` bytes, in numbers; empty means go.
pub fn reasons_against(
    config: &GateConfig,
    readings: &ResourceReadings,
    job_size: u64,
) -> Vec<String> {
    in_numbers(&shortages_for_job(config, readings, job_size))
}

/// The memory, swap and load thresholds `readings` break, in numbers.
pub fn machine_reasons(config: &GateConfig, readings: &ResourceReadings) -> Vec<String> {
    in_numbers(&machine_shortages(config, readings))
}

fn in_numbers(shortages: &[Shortage]) -> Vec<String> {
    shortages.iter().map(Shortage::in_numbers).collect()
}

/// The shortages in plain words, each said once.
pub fn in_plain_words(shortages: &[Shortage]) -> Vec<String> {
    let mut words: Vec<String> = Vec::new();
    for shortage in shortages {
        let said = shortage.in_plain_words();
        if !words.iter().any(|w| w == said) {
            words.push(said.to_owned());
        }
    }
    words
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Config;
    use crate::gate::FixedReadings;

    /// Readings past every threshold of `config()` at once (for a 1 GiB video).
    fn short_of_everything() -> ResourceReadings {
        ResourceReadings {
            available_ram_bytes: 512 * MIB,
            ram_percent: 74.4,
            swap_used_bytes: 350 * MIB,
            load_1m: 3.125,
            cores: 2,
            disk_free_bytes: 2 << 30,
            ..FixedReadings::idle()
        }
    }

    fn config() -> GateConfig {
        Config::with_data_dir("/tmp/x").gate
    }

    #[test]
    fn an_idle_machine_passes() {
        assert!(reasons_against(&config(), &FixedReadings::idle(), 1 << 30).is_empty());
    }

    #[test]
    fn each_threshold_is_told_in_numbers() {
        let busy = short_of_everything();
        let reasons = reasons_against(&config(), &busy, 1 << 30);
        assert_eq!(
            reasons,
            vec![
                "only 512 MB of RAM available (needs more than 600 MB)",
                "RAM in use 74 % (limit 72 %)",
                "swap in use 350 MB (limit 200 MB)",
                "load 3.1 over the last minute (limit 2.0 on 2 cores)",
                "disk free 2.0 GiB, needs more than 3.0 GiB for this video",
            ]
        );
    }

    #[test]
    fn members_get_each_shortage_once_in_plain_words_without_figures() {
        let busy = short_of_everything();
        let words = in_plain_words(&shortages_for_job(&config(), &busy, 1 << 30));
        assert_eq!(
            words,
            vec![
                "It is short of memory.",
                "It is busy with other work.",
                "It is short of disk space.",
            ]
        );
        assert!(words.iter().all(|w| !w.chars().any(|c| c.is_ascii_digit())));
        assert!(
            in_plain_words(&shortages_for_job(&config(), &FixedReadings::idle(), 0)).is_empty()
        );
    }

    #[test]
    fn the_disk_check_scales_with_the_job() {
        let r = ResourceReadings {
            disk_free_bytes: 5 << 30,
            ..FixedReadings::idle()
        };
        assert!(reasons_against(&config(), &r, 1 << 30).is_empty());
        assert_eq!(reasons_against(&config(), &r, 2 << 30).len(), 1);
    }

    #[test]
    fn small_disk_figures_keep_their_precision() {
        let mut gate = config();
        gate.disk_reserve_bytes = 0;
        let r = ResourceReadings {
            disk_free_bytes: 700 * 1024,
            ..FixedReadings::idle()
        };
        assert_eq!(
            reasons_against(&gate, &r, 3 << 19),
            vec!["disk free 700.0 KiB, needs more than 3.0 MiB for this video"]
        );
        let empty = ResourceReadings {
            disk_free_bytes: 0,
            ..FixedReadings::idle()
        };
        assert_eq!(
            reasons_against(&gate, &empty, 12),
            vec!["disk free 0 B, needs more than 24 B for this video"]
        );
    }

    #[test]
    fn a_configured_load_ceiling_wins_over_cores() {
        let mut gate = config();
        gate.max_load = Some(1.0);
        let r = ResourceReadings {
            load_1m: 1.5,
            ..FixedReadings::idle()
        };
        assert_eq!(
            reasons_against(&gate, &r, 0),
            vec!["load 1.5 over the last minute (limit 1.0 on 2 cores)"]
        );
    }
}
