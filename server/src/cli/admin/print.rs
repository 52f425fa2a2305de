//! How `cloister admin` shows what the server answered.

use cloister_shared::api::admin::describe_span as span;
use cloister_shared::api::admin::{
    AdminJob, CleanResult, HousekeepingReport, MachineStatus, SpeedHistory, StorageReport,
};
use cloister_shared::api::JobStatus;

use crate::accounts::unix_now;
use crate::cli::jobs::describe;
use crate::cli::user::human_bytes;

fn ago(at: Option<i64>) -> String {
    at.map_or_else(
        || "-".to_owned(),
        |at| format!("{} ago", span(u64::try_from(unix_now() - at).unwrap_or(0))),
    )
}

pub fn jobs(jobs: &[AdminJob]) {
    if jobs.is_empty() {
        println!("No jobs.");
        return;
    }
    println!(
        "{:>6}  {:<12}  {:>10}  {:>5}  {:>8}  {:>14}  {:>14}  {:>9}  status",
        "job", "owner", "size", "prio", "attempts", "queued", "started", "took"
    );
    for admin in jobs {
        let job = &admin.job;
        let mut status = describe(job);
        if let (Some(error), false) = (&job.error, job.status == JobStatus::Failed) {
            status.push_str(&format!(" (last error: {error})"));
        }
        if admin.run_anyway && !job.status.is_final() {
            status.push_str(" [run anyway]");
        }
        println!(
            "{:>6}  {:<12}  {:>10}  {:>5}  {:>8}  {:>14}  {:>14}  {:>9}  {}",
            job.job_id,
            job.owner,
            human_bytes(job.size_bytes),
            job.priority,
            format!("{}/{}", job.attempts, job.max_attempts),
            ago(Some(job.queued_at)),
            ago(job.started_at),
            admin.duration_secs.map_or_else(|| "-".to_owned(), span),
            status,
        );
    }
}

pub fn after_kill(job: &AdminJob) -> String {
    match (job.job.status, job.job.retry_at) {
        (JobStatus::Failed, _) => "that was its last attempt, so it failed".to_owned(),
        (_, Some(at)) => format!(
            "it will be tried again in about {}",
            span(u64::try_from(at - unix_now()).unwrap_or(0))
        ),
        _ => "it is queued again".to_owned(),
    }
}

pub fn moved(job: &AdminJob) -> String {
    let place = job
        .job
        .queue_position
        .map_or_else(String::new, |p| format!(", position {p} in the queue"));
    format!(
        "Job {} now has priority {}{place}.",
        job.job.job_id, job.job.priority
    )
}

pub fn machine(status: &MachineStatus) {
    let (r, l) = (&status.load.readings, &status.limits);
    println!(
        "RAM   {:>5.1} % used, {} available of {}   (limits: under {:.0} %, over {} available)",
        r.ram_percent,
        human_bytes(r.available_ram_bytes),
        human_bytes(r.total_ram_bytes),
        l.max_ram_percent,
        human_bytes(l.min_available_ram_bytes)
    );
    println!(
        "Swap  {} used   (limit: under {})",
        human_bytes(r.swap_used_bytes),
        human_bytes(l.max_swap_used_bytes)
    );
    println!(
        "Load  {:.2} over 1 minute on {} cores   (limit: under {:.1})",
        r.load_1m, r.cores, l.max_load
    );
    println!(
        "Disk  {} free   (a job needs twice its size plus {})",
        human_bytes(r.disk_free_bytes),
        human_bytes(l.disk_reserve_bytes)
    );
    if status.load.gate_open {
        println!("Gate  open: a job of ordinary size may start now.");
    } else {
        println!("Gate  closed: {}.", status.load.reasons.join("; "));
    }
    println!(
        "Queue {} job(s), {} running on {} worker(s).",
        status.load.queue_length, status.load.running_jobs, status.load.workers
    );
}

/// One character per job, from lowest to highest seconds per GB.
fn sparkline(values: &[f64]) -> String {
    const BARS: [char; 8] = ['▁', '▂', '▃', '▄', '▅', '▆', '▇', '█'];
    let max = values.iter().copied().fold(0.0_f64, f64::max);
    values
        .iter()
        .map(|v| {
            let step = if max > 0.0 { v / max * 7.0 } else { 0.0 };
            BARS[(step.round() as usize).min(7)]
        })
        .collect()
}

pub fn speed(history: &SpeedHistory) {
    match history.median_seconds_per_gb {
        Some(median) => println!(
            "Speed {median:.0} s per GB (median of the last {} jobs; estimates use it).",
            history.window
        ),
        None => println!(
            "Speed no job finished yet; estimates assume {:.0} s per GB.",
            history.default_seconds_per_gb
        ),
    }
    if !history.points.is_empty() {
        let values: Vec<f64> = history.points.iter().map(|p| p.seconds_per_gb).collect();
        println!("      {} (oldest to newest)", sparkline(&values));
    }
}

pub fn storage(report: &StorageReport) {
    println!(
        "{:<16}  {:<6}  {:>6}  {:>22}  {:>5}  {:>10}",
        "username", "role", "videos", "quota used", "%", "on disk"
    );
    for user in &report.users {
        let percent = if user.quota_bytes == 0 {
            0.0
        } else {
            user.quota_used_bytes as f64 * 100.0 / user.quota_bytes as f64
        };
        println!(
            "{:<16}  {:<6}  {:>6}  {:>22}  {:>4.0}%  {:>10}",
            user.username,
            user.role.to_string(),
            user.videos,
            format!(
                "{} / {}",
                human_bytes(user.quota_used_bytes),
                human_bytes(user.quota_bytes)
            ),
            percent,
            human_bytes(user.stored_bytes)
        );
    }
    println!("Disk free: {}.", human_bytes(report.disk_free_bytes));
}

pub fn housekeeping(report: &HousekeepingReport) {
    for category in &report.categories {
        println!(
            "{:<18} {:>4} item(s), frees {:>10}   `--clean {}`\n    {}",
            category.kind.as_str(),
            category.items,
            human_bytes(category.bytes),
            category.kind.as_str(),
            category.description
        );
    }
}

pub fn cleaned(result: &CleanResult) -> String {
    format!(
        "{}: removed {} item(s), freed {}.",
        result.kind.label(),
        result.removed,
        human_bytes(result.freed_bytes)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sparklines_read_at_a_glance() {
        assert_eq!(sparkline(&[0.0, 50.0, 100.0]), "▁▅█");
        assert_eq!(sparkline(&[]), "");
    }
}
