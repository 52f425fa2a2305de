//! The thresholds of docs/architecture.md (the seed's numbers, all configurable), each failure told in
//! words and numbers a member can understand: "RAM in use 74 % (limit 72 %)".

use cloister_shared::api::ResourceReadings;

use crate::cli::user::human_bytes;
use crate::config::GateConfig;

const MIB: u64 = 1024 * 1024;

fn mb(bytes: u64) -> u64 {
    bytes / MIB
}

/// Every threshold `readings` break for a job of `job_size` bytes; empty means go.
pub fn reasons_against(
    config: &GateConfig,
    readings: &ResourceReadings,
    job_size: u64,
) -> Vec<String> {
    let mut reasons = machine_reasons(config, readings);
    let disk_needed = job_size
        .saturating_mul(2)
        .saturating_add(config.disk_reserve_bytes);
    if readings.disk_free_bytes <= disk_needed {
        reasons.push(format!(
            "disk free {}, needs more than {} for this video",
            human_bytes(readings.disk_free_bytes),
            human_bytes(disk_needed)
        ));
    }
    reasons
}

/// The thresholds on memory, swap and load: what a decrypting download needs (it writes nothing
/// to disk, so free space does not hold it back).
pub fn machine_reasons(config: &GateConfig, readings: &ResourceReadings) -> Vec<String> {
    let mut reasons = Vec::new();
    let min_available = config.min_available_ram_mb.saturating_mul(MIB);
    if readings.available_ram_bytes <= min_available {
        reasons.push(format!(
            "only {} MB of RAM available (needs more than {} MB)",
            mb(readings.available_ram_bytes),
            config.min_available_ram_mb
        ));
    }
    if readings.ram_percent >= config.max_ram_percent {
        reasons.push(format!(
            "RAM in use {:.0} % (limit {:.0} %)",
            readings.ram_percent, config.max_ram_percent
        ));
    }
    if readings.swap_used_bytes >= config.max_swap_used_mb.saturating_mul(MIB) {
        reasons.push(format!(
            "swap in use {} MB (limit {} MB)",
            mb(readings.swap_used_bytes),
            config.max_swap_used_mb
        ));
    }
    let cores = usize::try_from(readings.cores).unwrap_or(1);
    let ceiling = config.load_ceiling(cores);
    if readings.load_1m >= ceiling {
        reasons.push(format!(
            "load {:.1} over the last minute (limit {ceiling:.1} on {} cores)",
            readings.load_1m, readings.cores
        ));
    }
    reasons
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Config;
    use crate::gate::FixedReadings;

    fn config() -> GateConfig {
        Config::with_data_dir("/tmp/x").gate
    }

    #[test]
    fn an_idle_machine_passes() {
        assert!(reasons_against(&config(), &FixedReadings::idle(), 1 << 30).is_empty());
    }

    #[test]
    fn each_threshold_is_told_in_numbers() {
        let busy = ResourceReadings {
            available_ram_bytes: 512 * MIB,
            ram_percent: 74.4,
            swap_used_bytes: 350 * MIB,
            load_1m: 3.125,
            cores: 2,
            disk_free_bytes: 2 << 30,
            ..FixedReadings::idle()
        };
        let reasons = reasons_against(&config(), &busy, 1 << 30);
        assert_eq!(
            reasons,
            vec![
                "only 512 MB of RAM available (needs more than 600 MB)",
                "RAM in use 74 % (limit 72 %)",
                "swap in use 350 MB (limit 200 MB)",
                "load 3.1 over the last minute (limit 2.0 on 2 cores)",
                "disk free 2 GiB, needs more than 3 GiB for this video",
            ]
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
            vec!["disk free 700 KiB, needs more than 3.0 MiB for this video"]
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
