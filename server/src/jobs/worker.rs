//! A worker: takes due jobs in priority order, asks the resource gate, runs the pipeline while a
//! ticker renews its lease and reports progress, and records the outcome. `serve` runs W of these
//! in process; `cloister worker` runs them alone against the same data directory.

use std::sync::Arc;
use std::time::{Duration, Instant};

use cloister_shared::api::jobs::JobPhase;
use tokio_util::sync::CancellationToken;
use tracing::Instrument;

pub use super::holders::mark_interrupted_jobs;
use super::holders::worker_id;
use super::pipeline::{self, PipelineError, ProgressCell, WorkDir};
use super::transitions::{self, Claimed};
use super::{eta, housekeeping};
use crate::accounts::unix_now;
use crate::error::AppResult;
use crate::state::Core;

/// Progress is written at most this often (and only when it moved).
const PROGRESS_EVERY: Duration = Duration::from_secs(1);

/// Starts `count` workers; they stop (releasing running jobs) when `shutdown` is cancelled.
pub fn spawn(
    core: &Core,
    count: u32,
    shutdown: &CancellationToken,
) -> Vec<tokio::task::JoinHandle<()>> {
    let sweeper = core.clone();
    tokio::spawn(async move {
        if let Err(err) = mark_interrupted_jobs(&sweeper).await {
            tracing::warn!(error = %err, "could not look for interrupted jobs");
        }
        if count > 0 {
            if let Err(err) = housekeeping::remove_orphaned_work_dirs(&sweeper).await {
                tracing::warn!(error = %err, "could not sweep leftover temp files");
            }
        }
    });
    (0..count)
        .map(|_| {
            let worker = Worker {
                core: core.clone(),
                id: worker_id(),
            };
            let shutdown = shutdown.clone();
            tokio::spawn(async move { worker.run(shutdown).await })
        })
        .collect()
}

pub struct Worker {
    core: Core,
    id: String,
}

impl Worker {
    async fn run(self, shutdown: CancellationToken) {
        tracing::info!(worker = %self.id, "processing worker started");
        let mut wake = self.core.jobs.subscribe();
        while !shutdown.is_cancelled() {
            let worked = match self.step(&shutdown).await {
                Ok(worked) => worked,
                Err(err) => {
                    tracing::error!(worker = %self.id, error = %err, "worker step failed");
                    false
                }
            };
            if worked {
                continue;
            }
            let nap = self.nap().await;
            tokio::select! {
                () = shutdown.cancelled() => break,
                _ = wake.changed() => {},
                () = tokio::time::sleep(nap) => {},
            }
        }
        tracing::info!(worker = %self.id, "processing worker stopped");
    }

    /// Until the earliest waiting job is due, at most the poll interval.
    async fn nap(&self) -> Duration {
        let poll = Duration::from_secs(self.core.config.jobs.poll_secs);
        match transitions::next_retry_at(&self.core).await {
            Ok(Some(at)) => {
                let until = u64::try_from(at - unix_now()).unwrap_or(0);
                poll.min(Duration::from_secs(until.max(1)))
            }
            _ => poll,
        }
    }

    /// Recovers lapsed jobs, then tries the next due job. True if there may be more to do now.
    async fn step(&self, shutdown: &CancellationToken) -> AppResult<bool> {
        mark_interrupted_jobs(&self.core).await?;
        for lapsed in transitions::recover_lapsed(&self.core).await? {
            tracing::warn!(
                job = lapsed.id,
                will_retry = lapsed.will_retry,
                "took back a job whose worker stopped"
            );
            housekeeping::remove_attempt_leftovers(
                &self.core,
                lapsed.id,
                &lapsed.video,
                lapsed.rendition.as_ref(),
            )
            .await;
        }
        // Read before picking: a picked job may hold a connection (`transitions::pick`), and a
        // worker must never wait for a second one while holding it.
        let per_gb = eta::seconds_per_gb(&self.core.db)
            .await?
            .unwrap_or(eta::DEFAULT_SECONDS_PER_GB);
        let Some(picked) = transitions::pick(&self.core).await? else {
            return Ok(false);
        };
        let candidate = picked.candidate.clone();
        let estimate = eta::processing_seconds(candidate.size_bytes, per_gb);
        if !candidate.run_anyway {
            let gate = self.core.gate.clone();
            let size = candidate.size_bytes;
            let verdict = tokio::task::spawn_blocking(move || gate.check(size))
                .await
                .map_err(|err| crate::error::AppError::Internal(err.to_string()))?;
            if !verdict.open() {
                let recheck = self.core.config.gate.recheck_secs;
                let retry_at = unix_now() + i64::try_from(recheck).unwrap_or(30);
                tracing::info!(job = candidate.id, reasons = ?verdict.reasons, "resource gate closed; job deferred");
                transitions::defer_picked(
                    &self.core,
                    picked,
                    &verdict.reasons,
                    retry_at,
                    Some(recheck + estimate),
                )
                .await?;
                return Ok(true);
            }
        }
        let Some(job) = transitions::claim_picked(&self.core, picked, &self.id, estimate).await?
        else {
            // Another worker took it, or it was cancelled: look again.
            return Ok(true);
        };
        run_attempt(&self.core, &self.id, job, estimate, shutdown).await;
        Ok(true)
    }
}

/// Aborts a task when dropped: a ticker must not outlive its attempt, however the attempt ends.
struct AbortOnDrop<T>(tokio::task::JoinHandle<T>);

impl<T> Drop for AbortOnDrop<T> {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// Runs one attempt of `job`, claimed by `worker`, as its own task beside a ticker renewing the
/// lease, and records its outcome: a panic in processing is a failed attempt like any other.
/// Its span holds both tasks, so every line they log names the job, video, attempt and worker.
#[tracing::instrument(name = "attempt", skip_all, fields(job = job.id, video = %job.video, attempt = job.attempt, worker = worker))]
pub async fn run_attempt(
    core: &Core,
    worker: &str,
    job: Claimed,
    estimate: u64,
    shutdown: &CancellationToken,
) {
    tracing::info!(worker, job = job.id, video = %job.video, attempt = job.attempt, "processing started");
    let cancel = shutdown.child_token();
    let _registered = core.jobs.register(job.id, cancel.clone());
    let progress = Arc::new(ProgressCell::default());
    let ticker = AbortOnDrop(tokio::spawn(
        tick(
            core.clone(),
            job.clone(),
            worker.to_owned(),
            progress.clone(),
            cancel.clone(),
            estimate,
        )
        .in_current_span(),
    ));
    let started = Instant::now();
    let mut task = AbortOnDrop(tokio::spawn({
        let (core, job, worker, cancel) =
            (core.clone(), job.clone(), worker.to_owned(), cancel.clone());
        async move { pipeline::process(&core, &job, &worker, &cancel, &progress).await }
            .in_current_span()
    }));
    let outcome = match (&mut task.0).await {
        Ok(outcome) => outcome,
        Err(err) if err.is_panic() => Err(PipelineError::Panicked(panic_message(err))),
        Err(_) => Err(PipelineError::Cancelled),
    };
    drop(ticker);
    let seconds = started.elapsed().as_secs_f64();
    if let Err(err) = record(core, worker, &job, outcome, seconds, shutdown).await {
        tracing::error!(job = job.id, error = %err, "could not record a job's outcome");
    }
}

fn panic_message(err: tokio::task::JoinError) -> String {
    let payload = err.into_panic();
    payload
        .downcast_ref::<&str>()
        .map(|s| (*s).to_owned())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "no message".to_owned())
}

async fn record(
    core: &Core,
    worker: &str,
    job: &Claimed,
    outcome: Result<transitions::Published, PipelineError>,
    seconds: f64,
    shutdown: &CancellationToken,
) -> AppResult<()> {
    match outcome {
        Ok(published) => {
            if transitions::finish(core, job, worker, &published).await? {
                eta::record(&core.db, job.id, job.size_bytes, seconds, unix_now()).await?;
                housekeeping::remove_other_renditions(core, &job.video, &published.rendition).await;
                tracing::info!(job = job.id, video = %job.video, seconds, "processing done");
            } else {
                tracing::warn!(
                    job = job.id,
                    "job was taken from this worker as it finished"
                );
            }
        }
        Err(err) => {
            housekeeping::remove_attempt_leftovers(core, job.id, &job.video, Some(&job.rendition))
                .await;
            match err {
                PipelineError::Cancelled if shutdown.is_cancelled() => {
                    transitions::release(core, job, worker).await?;
                    tracing::info!(job = job.id, "job handed back to the queue at shutdown");
                    return Ok(());
                }
                PipelineError::Cancelled => {
                    tracing::info!(job = job.id, "job cancelled while running");
                    return Ok(());
                }
                PipelineError::Superseded => {
                    tracing::warn!(
                        job = job.id,
                        attempt = job.attempt,
                        "another attempt holds this job now; this one stopped without publishing"
                    );
                    return Ok(());
                }
                _ => {}
            }
            let reason = err.short_reason();
            let will_retry = transitions::fail(core, job, worker, &reason, err.retryable()).await?;
            tracing::warn!(job = job.id, video = %job.video, error = %err, will_retry, "processing failed");
        }
    }
    Ok(())
}

/// Renews the lease (every third of it) and writes progress (each second it moved). Cancels the
/// attempt when the job is no longer this worker's.
async fn tick(
    core: Core,
    job: Claimed,
    worker: String,
    progress: Arc<ProgressCell>,
    cancel: CancellationToken,
    estimate: u64,
) {
    let renew_every = Duration::from_secs((core.config.jobs.lease_secs / 3).max(1));
    let started = Instant::now();
    let mut last_written: Option<(JobPhase, f32)> = None;
    let mut last_renewal = Instant::now();
    let mut every = tokio::time::interval(PROGRESS_EVERY);
    loop {
        every.tick().await;
        let now = progress.get();
        let moved = match (now, last_written) {
            (Some((phase, percent)), Some((old_phase, old_percent))) => {
                phase != old_phase || (percent - old_percent).abs() >= 1.0
            }
            (Some(_), None) => true,
            _ => false,
        };
        if !moved && last_renewal.elapsed() < renew_every {
            continue;
        }
        let report = now.filter(|_| moved).map(|(phase, percent)| {
            let elapsed = started.elapsed().as_secs();
            (
                phase,
                percent,
                Some(eta::remaining_seconds(estimate, elapsed, percent)),
            )
        });
        match transitions::heartbeat(&core, &job, &worker, report).await {
            Ok(true) => {
                last_renewal = Instant::now();
                if report.is_some() {
                    last_written = now;
                }
            }
            Ok(false) => {
                tracing::info!(job = job.id, "job is no longer this worker's; stopping it");
                cancel.cancel();
                return;
            }
            Err(err) => tracing::warn!(job = job.id, error = %err, "could not renew a job's lease"),
        }
    }
}

/// Where an attempt's plaintext lives, for housekeeping (`None`: the one directory per job of
/// earlier versions).
pub fn work_dir(
    core: &Core,
    job_id: i64,
    rendition: Option<&crate::storage::RenditionId>,
) -> std::path::PathBuf {
    WorkDir::path_for(&core.data.tmp(), job_id, rendition)
}
