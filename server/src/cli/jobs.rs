//! `cloister jobs`: the processing queue and the server's load; and the progress display that
//! `cloister upload --wait` shows while a video is processed.

use std::time::Duration;

use anyhow::bail;
use clap::Args;
use cloister_shared::api::jobs::{
    deferred_message, describe_wait, failed_message, JobInfo, JobStatus, OVERDUE_MESSAGE,
};
use indicatif::{ProgressBar, ProgressStyle};

use super::remote::sign_in;
use super::user::human_bytes;
use super::ClientArgs;
use crate::client::ApiClient;

#[derive(Debug, Args)]
pub struct JobsArgs {
    /// Show finished jobs too (the last 500), not only queued, waiting and running ones.
    #[arg(long)]
    pub all: bool,
    #[command(flatten)]
    pub client: ClientArgs,
}

/// "queued, position 2", "waiting: RAM in use 80 % (limit 72 %)", "42 % converting", "failed: …".
pub fn describe(job: &JobInfo) -> String {
    match job.status {
        JobStatus::Queued => match job.queue_position {
            Some(position) => format!("queued, position {position}"),
            None => "queued".to_owned(),
        },
        JobStatus::WaitingResource => format!("waiting: {}", job.wait_reasons.join("; ")),
        JobStatus::Running => match job.phase {
            Some(phase) => format!("{:.0} % {}", job.percent, phase.label().to_lowercase()),
            None => format!("{:.0} %", job.percent),
        },
        JobStatus::Failed => format!("failed: {}", job.error.as_deref().unwrap_or("unknown")),
        other => other.to_string(),
    }
}

pub async fn run(args: JobsArgs) -> anyhow::Result<()> {
    let (client, _) = sign_in(&args.client).await?;
    let load = client.load_status().await?;
    let verdict = if load.gate_open {
        "open".to_owned()
    } else {
        format!("closed ({})", load.reasons.join("; "))
    };
    println!(
        "Server: RAM {:.0} % used, load {:.2} on {} cores, {} free on disk; gate {verdict}.",
        load.readings.ram_percent,
        load.readings.load_1m,
        load.readings.cores,
        human_bytes(load.readings.disk_free_bytes),
    );
    let jobs = client.jobs(args.all).await?.jobs;
    if jobs.is_empty() {
        println!(
            "No jobs {}.",
            if args.all { "yet" } else { "queued or running" }
        );
        return Ok(());
    }
    println!(
        "{:>6}  {:<32}  {:<12}  {:>10}  {:>8}  {:>12}  status",
        "job", "video", "owner", "size", "attempts", "eta"
    );
    for job in &jobs {
        println!(
            "{:>6}  {}  {:<12}  {:>10}  {:>8}  {:>12}  {}",
            job.job_id,
            job.video_id,
            job.owner,
            human_bytes(job.size_bytes),
            format!("{}/{}", job.attempts, job.max_attempts),
            job.eta_seconds
                .map_or_else(String::new, |s| describe_wait(s).replace("about ", "~")),
            describe(job)
        );
    }
    Ok(())
}

/// Follows job `id` until it ends, with a progress bar; an error if it did not end `done`.
pub async fn wait(client: &ApiClient, id: i64) -> anyhow::Result<()> {
    let bar = ProgressBar::new(100);
    bar.set_style(
        ProgressStyle::with_template("{bar:30.cyan/blue} {pos:>3}% {msg}")
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    let mut misses = 0;
    loop {
        let job = match client.job(id).await {
            Ok(job) => {
                misses = 0;
                job
            }
            // A server restarting is no reason to give up on the job.
            Err(err) if misses < 30 => {
                misses += 1;
                bar.set_message(format!("server unreachable, retrying ({err})"));
                tokio::time::sleep(Duration::from_secs(2)).await;
                continue;
            }
            Err(err) => return Err(err.into()),
        };
        bar.set_position(job.percent.clamp(0.0, 100.0) as u64);
        let message = match job.status {
            JobStatus::WaitingResource if job.overdue => OVERDUE_MESSAGE.to_owned(),
            JobStatus::WaitingResource => deferred_message(&job.wait_reasons, job.eta_seconds),
            JobStatus::Queued if job.error.is_some() => {
                failed_message(job.error.as_deref().unwrap_or_default(), true)
            }
            _ => describe(&job),
        };
        bar.set_message(message);
        match job.status {
            JobStatus::Done => {
                bar.finish_with_message("ready to watch");
                return Ok(());
            }
            JobStatus::Failed => {
                bar.abandon();
                bail!(
                    "{}",
                    failed_message(job.error.as_deref().unwrap_or("unknown"), false)
                );
            }
            JobStatus::Cancelled => {
                bar.abandon();
                bail!("processing was cancelled");
            }
            _ => tokio::time::sleep(Duration::from_secs(1)).await,
        }
    }
}
