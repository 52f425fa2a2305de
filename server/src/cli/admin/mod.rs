//! `cloister admin …`: the admin console from a terminal (docs/admin.md), over the same HTTP API
//! as the web page. Signs in like every client command; `retry` also unlocks the library, since
//! the server needs the video's key again.

mod print;

use anyhow::{bail, Context};
use clap::Subcommand;
use cloister_shared::api::admin::{CleanupKind, PriorityRequest, MAX_PRIORITY};

use super::remote::{sign_in, sign_in_and_unlock};
use super::ClientArgs;

#[derive(Debug, Subcommand)]
pub enum AdminCommand {
    /// Jobs with status, phase, percent, attempts, timings and errors (queue order first).
    Jobs {
        /// Only queued, waiting and running jobs.
        #[arg(long)]
        active: bool,
        #[command(flatten)]
        client: ClientArgs,
    },
    /// Run a failed or cancelled job again from its first attempt. Asks for the library
    /// passphrase: the server erased the video's key when the job ended and needs it again.
    Retry {
        #[arg(value_parser = clap::value_parser!(i64).range(1..))]
        id: i64,
        #[command(flatten)]
        client: ClientArgs,
    },
    /// Kill a running job's ffmpeg: the attempt ends as if the server had crashed, and the job is
    /// tried again after a backoff (or fails, if that was its last attempt).
    Kill {
        #[arg(value_parser = clap::value_parser!(i64).range(1..))]
        id: i64,
        #[command(flatten)]
        client: ClientArgs,
    },
    /// Cancel a job for good (a running ffmpeg is killed); `retry` can bring it back.
    Cancel {
        #[arg(value_parser = clap::value_parser!(i64).range(1..))]
        id: i64,
        #[command(flatten)]
        client: ClientArgs,
    },
    /// Move a queued or waiting job: `top`, `bottom`, or a priority (higher runs first).
    Priority {
        #[arg(value_parser = clap::value_parser!(i64).range(1..))]
        id: i64,
        /// top, bottom, or a whole number from -1000000 to 1000000.
        #[arg(allow_hyphen_values = true, value_parser = parse_priority)]
        to: PriorityRequest,
        #[command(flatten)]
        client: ClientArgs,
    },
    /// RAM, swap, load and disk against the gate's limits, its verdict, and processing speed.
    Load {
        #[command(flatten)]
        client: ClientArgs,
    },
    /// Accounts with their quota, what it counts, and what their videos take on disk.
    Users {
        #[command(flatten)]
        client: ClientArgs,
    },
    /// What housekeeping can free, by category; `--clean KIND` removes one category.
    Housekeeping {
        /// abandoned_uploads, failed_leftovers or temp_files.
        #[arg(long, value_parser = parse_kind)]
        clean: Option<CleanupKind>,
        #[command(flatten)]
        client: ClientArgs,
    },
}

fn parse_priority(raw: &str) -> Result<PriorityRequest, String> {
    match raw {
        "top" => Ok(PriorityRequest::Top),
        "bottom" => Ok(PriorityRequest::Bottom),
        number => number
            .parse::<i64>()
            .ok()
            .filter(|p| p.abs() <= MAX_PRIORITY)
            .map(|priority| PriorityRequest::Value { priority })
            .ok_or_else(|| {
                format!("say top, bottom, or a whole number from -{MAX_PRIORITY} to {MAX_PRIORITY}")
            }),
    }
}

fn parse_kind(raw: &str) -> Result<CleanupKind, String> {
    CleanupKind::parse(raw).ok_or_else(|| {
        let names: Vec<&str> = CleanupKind::ALL.iter().map(|k| k.as_str()).collect();
        format!("say one of {}", names.join(", "))
    })
}

pub async fn run(command: AdminCommand) -> anyhow::Result<()> {
    match command {
        AdminCommand::Jobs { active, client } => {
            let (client, _) = sign_in(&client).await?;
            print::jobs(&client.admin_jobs(active).await?.jobs);
        }
        AdminCommand::Retry { id, client } => retry(id, &client).await?,
        AdminCommand::Kill { id, client } => {
            let (client, _) = sign_in(&client).await?;
            let job = client.kill_job(id).await?;
            println!("Job {id} killed; {}.", print::after_kill(&job));
        }
        AdminCommand::Cancel { id, client } => {
            let (client, _) = sign_in(&client).await?;
            client.cancel_job(id).await?;
            println!("Job {id} cancelled. `cloister admin retry {id}` runs it again.");
        }
        AdminCommand::Priority { id, to, client } => {
            let (client, _) = sign_in(&client).await?;
            let job = client.set_job_priority(id, to).await?;
            println!("{}", print::moved(&job));
        }
        AdminCommand::Load { client } => {
            let (client, _) = sign_in(&client).await?;
            print::machine(&client.machine().await?);
            print::speed(&client.speed_history().await?);
        }
        AdminCommand::Users { client } => {
            let (client, _) = sign_in(&client).await?;
            print::storage(&client.storage_report().await?);
        }
        AdminCommand::Housekeeping { clean, client } => {
            let (client, _) = sign_in(&client).await?;
            if let Some(kind) = clean {
                let done = client.clean(kind).await?;
                println!("{}", print::cleaned(&done));
            }
            print::housekeeping(&client.housekeeping().await?);
        }
    }
    Ok(())
}

/// Opens the video's key here and hands it to the server again, as finishing the upload did.
async fn retry(id: i64, args: &ClientArgs) -> anyhow::Result<()> {
    let (client, unlocked) = sign_in_and_unlock(args).await?;
    let job = client.job(id).await?;
    let summary = client
        .video(&job.video_id)
        .await
        .context("cannot read the job's video")?;
    let Ok(dek) = unlocked.unwrap_dek(&job.video_id, &summary.wrapped_dek) else {
        bail!("Unable to decrypt the video's key. Check passphrase.");
    };
    let job = client.retry_job(id, hex::encode(dek.as_bytes())).await?;
    println!(
        "Job {id} is queued again ({}).",
        super::jobs::describe(&job.job)
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn priorities_are_words_or_bounded_numbers() {
        assert_eq!(parse_priority("top"), Ok(PriorityRequest::Top));
        assert_eq!(parse_priority("bottom"), Ok(PriorityRequest::Bottom));
        assert_eq!(
            parse_priority("-3"),
            Ok(PriorityRequest::Value { priority: -3 })
        );
        assert!(parse_priority("1000001").is_err());
        assert!(parse_priority("first").is_err());
        assert_eq!(parse_kind("temp_files"), Ok(CleanupKind::TempFiles));
        assert!(parse_kind("all").is_err());
    }
}
