//! Every change of a job's state, each one SQL transaction that also records the event telling
//! members about it (docs/architecture.md). Conditions in each `WHERE` make the transitions safe against
//! a second worker, a cancel, or a lapsed lease: whoever loses the race changes nothing. The
//! statements themselves are in `transitions_store`.

use cloister_shared::api::jobs::JobPhase;
use cloister_shared::api::Event;
use cloister_shared::VideoId;

use super::store;
use super::transitions_store as sql;
use crate::accounts::unix_now;
use crate::db::{Backend, Tx};
use crate::error::{AppError, AppResult};
use crate::events;
use crate::state::Core;
use crate::storage::RenditionId;

/// Records `event` in the transition's own transaction, commits both together, then wakes this
/// process's event hub so local sockets hear of it at once.
pub(super) async fn commit_announcing(
    core: &Core,
    mut tx: Tx<'_>,
    event: Event,
    at: i64,
) -> AppResult<()> {
    events::record(&mut tx, &event, at).await?;
    tx.commit().await?;
    core.events.poke();
    Ok(())
}

/// The next job a worker may take: queued, or waiting with its retry time come.
#[derive(Debug, Clone)]
pub struct Candidate {
    pub id: i64,
    pub size_bytes: u64,
    pub run_anyway: bool,
}

/// A job this worker holds the lease of.
#[derive(Debug, Clone)]
pub struct Claimed {
    pub id: i64,
    pub video: VideoId,
    pub attempt: u32,
    pub size_bytes: u64,
    pub wrapped_dek: Vec<u8>,
    pub rendition: RenditionId,
}

pub(super) fn video_of(raw: &str) -> AppResult<VideoId> {
    VideoId::parse(raw).map_err(|_| AppError::Internal(format!("a job names bad video {raw}")))
}

pub async fn next_candidate(core: &Core, now: i64) -> AppResult<Option<Candidate>> {
    let row = sql::next_due(&core.db, now).await?;
    Ok(row.map(|(id, size, run_anyway)| Candidate {
        id,
        size_bytes: u64::try_from(size).unwrap_or(0),
        run_anyway: run_anyway != 0,
    }))
}

/// The next due job as a worker takes it (`pick`, then `claim_picked` or `defer_picked`): on
/// PostgreSQL its row stays locked (`FOR UPDATE SKIP LOCKED`) from the pick until it is claimed or
/// deferred, so other workers pass on to the next due job instead of racing for this one. On
/// SQLite nothing is held: one writer at a time, and `claim` rechecks the row.
pub struct Picked {
    pub candidate: Candidate,
    held: Option<Tx<'static>>,
}

pub async fn pick(core: &Core) -> AppResult<Option<Picked>> {
    if crate::db::backend(&core.db) != Backend::Postgres {
        let candidate = next_candidate(core, unix_now()).await?;
        return Ok(candidate.map(|candidate| Picked {
            candidate,
            held: None,
        }));
    }
    let mut tx = core.db.begin().await?;
    let row = sql::lock_next_due(&mut tx).await?;
    Ok(row.map(|(id, size, run_anyway)| Picked {
        candidate: Candidate {
            id,
            size_bytes: u64::try_from(size).unwrap_or(0),
            run_anyway: run_anyway != 0,
        },
        held: Some(tx),
    }))
}

/// Claims a picked job for `worker` (see `claim`).
pub async fn claim_picked(
    core: &Core,
    picked: Picked,
    worker: &str,
    eta_seconds: u64,
) -> AppResult<Option<Claimed>> {
    let tx = match picked.held {
        Some(tx) => tx,
        None => core.db.begin().await?,
    };
    claim_in(core, tx, &picked.candidate, worker, eta_seconds).await
}

/// Defers a picked job (see `defer`).
pub async fn defer_picked(
    core: &Core,
    picked: Picked,
    reasons: &[String],
    retry_at: i64,
    eta_seconds: Option<u64>,
) -> AppResult<()> {
    let tx = match picked.held {
        Some(tx) => tx,
        None => core.db.begin().await?,
    };
    defer_in(
        core,
        tx,
        picked.candidate.id,
        reasons,
        retry_at,
        eta_seconds,
    )
    .await
}

/// The earliest time a waiting job may be tried again, if any waits.
pub async fn next_retry_at(core: &Core) -> AppResult<Option<i64>> {
    sql::earliest_retry_at(&core.db).await
}

/// Takes `candidate` for `worker`, if nobody else took, cancelled or deferred it meanwhile.
pub async fn claim(
    core: &Core,
    candidate: &Candidate,
    worker: &str,
    eta_seconds: u64,
) -> AppResult<Option<Claimed>> {
    let tx = core.db.begin().await?;
    claim_in(core, tx, candidate, worker, eta_seconds).await
}

#[tracing::instrument(level = "debug", name = "claim", skip_all, fields(job = candidate.id, worker = worker, video = tracing::field::Empty, attempt = tracing::field::Empty))]
async fn claim_in(
    core: &Core,
    mut tx: Tx<'static>,
    candidate: &Candidate,
    worker: &str,
    eta_seconds: u64,
) -> AppResult<Option<Claimed>> {
    let rendition = RenditionId::generate().map_err(|err| AppError::Internal(err.to_string()))?;
    let now = store::clock(&mut tx).await?;
    let lease_until = now + i64::try_from(core.config.jobs.lease_secs).unwrap_or(30);
    let lease = sql::Lease {
        worker,
        until: lease_until,
        now,
        rendition: rendition.as_str(),
        eta_seconds: i64::try_from(eta_seconds).unwrap_or(i64::MAX),
    };
    let Some(sql::ClaimedRow {
        video_id,
        attempts,
        wrapped_dek: wrapped,
    }) = sql::claim_due(&mut tx, candidate.id, &lease).await?
    else {
        return Ok(None);
    };
    let video = video_of(&video_id)?;
    sql::mark_video_processing(&mut tx, &video_id, now).await?;
    let attempt = u32::try_from(attempts).unwrap_or(u32::MAX);
    tracing::Span::current()
        .record("video", tracing::field::display(video))
        .record("attempt", attempt);
    commit_announcing(
        core,
        tx,
        Event::JobStarted {
            job_id: candidate.id,
            video_id: video,
            attempt,
        },
        now,
    )
    .await?;
    Ok(Some(Claimed {
        id: candidate.id,
        video,
        attempt,
        size_bytes: candidate.size_bytes,
        wrapped_dek: wrapped.unwrap_or_default(),
        rendition,
    }))
}

/// The gate said no: the job waits until `retry_at`, its uploader is told why.
pub async fn defer(
    core: &Core,
    job_id: i64,
    reasons: &[String],
    retry_at: i64,
    eta_seconds: Option<u64>,
) -> AppResult<()> {
    let tx = core.db.begin().await?;
    defer_in(core, tx, job_id, reasons, retry_at, eta_seconds).await
}

#[tracing::instrument(level = "debug", name = "defer", skip_all, fields(job = job_id, retry_at = retry_at))]
async fn defer_in(
    core: &Core,
    mut tx: Tx<'static>,
    job_id: i64,
    reasons: &[String],
    retry_at: i64,
    eta_seconds: Option<u64>,
) -> AppResult<()> {
    let now = unix_now();
    let stored =
        serde_json::to_string(reasons).map_err(|err| AppError::Internal(err.to_string()))?;
    let row = sql::defer_due(&mut tx, job_id, retry_at, stored, now).await?;
    let Some((video_id, since)) = row else {
        return Ok(());
    };
    let overdue = u64::try_from(now - since).unwrap_or(0) >= core.config.gate.overdue_after_secs;
    commit_announcing(
        core,
        tx,
        Event::JobDeferred {
            job_id,
            video_id: video_of(&video_id)?,
            reasons: reasons.to_vec(),
            retry_at,
            eta_seconds,
            overdue,
        },
        now,
    )
    .await?;
    Ok(())
}

/// Renews the lease and records progress. False when the job is no longer this worker's
/// (cancelled, or its lease lapsed and another worker took it): the worker must stop.
#[tracing::instrument(level = "debug", skip_all, fields(job = job.id, worker = worker))]
pub async fn heartbeat(
    core: &Core,
    job: &Claimed,
    worker: &str,
    progress: Option<(JobPhase, f32, Option<u64>)>,
) -> AppResult<bool> {
    let mut tx = core.db.begin().await?;
    let now = store::clock(&mut tx).await?;
    let lease_until = now + i64::try_from(core.config.jobs.lease_secs).unwrap_or(30);
    let reported = sql::Progress {
        phase: progress.map(|(phase, _, _)| phase.as_str()),
        percent: progress.map(|(_, percent, _)| f64::from(percent)),
        eta_seconds: progress
            .and_then(|(_, _, eta)| eta.map(|e| i64::try_from(e).unwrap_or(i64::MAX))),
    };
    let updated = sql::renew_lease(&mut tx, job.id, worker, lease_until, reported).await?;
    if updated != 1 {
        return Ok(false);
    }
    match progress {
        Some((phase, percent, eta_seconds)) => {
            let event = Event::JobProgress {
                job_id: job.id,
                video_id: job.video,
                phase,
                percent,
                eta_seconds,
            };
            commit_announcing(core, tx, event, now).await?;
        }
        // A bare lease renewal tells nobody anything.
        None => tx.commit().await?,
    }
    Ok(true)
}

/// What a successful attempt published.
#[derive(Debug, Clone)]
pub struct Published {
    pub rendition: RenditionId,
    pub duration_ms: u64,
    pub has_thumb: bool,
}

/// The video is ready. False if the job stopped being this worker's before the end.
#[tracing::instrument(level = "debug", skip_all, fields(job = job.id, video = %job.video, attempt = job.attempt, worker = worker))]
pub async fn finish(
    core: &Core,
    job: &Claimed,
    worker: &str,
    published: &Published,
) -> AppResult<bool> {
    let now = unix_now();
    let mut tx = core.db.begin().await?;
    if sql::finish_running(&mut tx, job.id, worker, now).await? != 1 {
        return Ok(false);
    }
    let row = sql::PublishedRow {
        rendition: published.rendition.as_str(),
        thumb_path: published.has_thumb.then_some("thumb.sealed"),
        duration_ms: i64::try_from(published.duration_ms).unwrap_or(i64::MAX),
    };
    sql::mark_video_ready(&mut tx, job.video.to_string(), row, now).await?;
    let event = Event::JobDone {
        job_id: job.id,
        video_id: job.video,
    };
    commit_announcing(core, tx, event, now).await?;
    Ok(true)
}

/// An attempt failed. It is retried after an exponential backoff while attempts remain and the
/// failure is one a retry could cure; otherwise the job fails for good, the original kept.
/// Returns whether it will be retried.
#[tracing::instrument(level = "debug", skip_all, fields(job = job.id, video = %job.video, attempt = job.attempt, worker = worker, retryable = retryable))]
pub async fn fail(
    core: &Core,
    job: &Claimed,
    worker: &str,
    reason: &str,
    retryable: bool,
) -> AppResult<bool> {
    let now = unix_now();
    let max_attempts = core.config.limits.max_retries.saturating_add(1);
    let will_retry = retryable && job.attempt < max_attempts;
    let backoff = core
        .config
        .jobs
        .retry_backoff_secs
        .saturating_mul(1u64 << job.attempt.saturating_sub(1).min(16));
    let retry_at = will_retry.then(|| now + i64::try_from(backoff).unwrap_or(i64::MAX / 2));
    let mut tx = core.db.begin().await?;
    let ending = sql::Ending {
        reason,
        will_retry,
        retry_at,
        now,
    };
    if sql::end_attempt(&mut tx, job.id, worker, ending).await? != 1 {
        return Ok(false);
    }
    settle_video(&mut tx, &job.video, will_retry, now).await?;
    let event = Event::JobFailed {
        job_id: job.id,
        video_id: job.video,
        reason: reason.to_owned(),
        will_retry,
        retry_at,
    };
    commit_announcing(core, tx, event, now).await?;
    Ok(will_retry)
}

/// A video whose job will run again waits as `uploaded`; one whose job gave up is `failed`.
pub(super) async fn settle_video(
    tx: &mut sqlx::AnyConnection,
    video: &VideoId,
    will_retry: bool,
    now: i64,
) -> AppResult<()> {
    sql::settle_processing_video(tx, video.to_string(), will_retry, now).await
}

/// The worker is shutting down: the job goes back to the queue as if never started.
#[tracing::instrument(level = "debug", skip_all, fields(job = job.id, video = %job.video, worker = worker))]
pub async fn release(core: &Core, job: &Claimed, worker: &str) -> AppResult<()> {
    let now = unix_now();
    let mut tx = core.db.begin().await?;
    if sql::requeue_running(&mut tx, job.id, worker).await? == 1 {
        settle_video(&mut tx, &job.video, true, now).await?;
    }
    tx.commit().await?;
    Ok(())
}

/// Cancels a job that has not finished. Returns the job's status before, or `None` when it had
/// already finished.
#[tracing::instrument(level = "debug", skip_all, fields(job = job_id))]
pub async fn cancel(core: &Core, job_id: i64) -> AppResult<Option<String>> {
    let now = unix_now();
    let mut tx = core.db.begin().await?;
    let Some((status, video_id)) = sql::active_status(&mut tx, job_id).await? else {
        return Ok(None);
    };
    sql::mark_cancelled(&mut tx, job_id, now).await?;
    let video = video_of(&video_id)?;
    settle_video(&mut tx, &video, true, now).await?;
    let event = Event::JobCancelled {
        job_id,
        video_id: video,
    };
    commit_announcing(core, tx, event, now).await?;
    Ok(Some(status))
}

/// An admin overrides the gate for this one job; it becomes due at once.
#[tracing::instrument(level = "debug", skip_all, fields(job = job_id))]
pub async fn run_anyway(core: &Core, job_id: i64) -> AppResult<bool> {
    Ok(sql::set_run_anyway(&core.db, job_id).await? == 1)
}

/// A running job whose lease lapsed: its worker died.
#[derive(Debug, Clone)]
pub struct Lapsed {
    pub id: i64,
    pub video: VideoId,
    pub rendition: Option<RenditionId>,
    pub will_retry: bool,
}

/// Takes back every job whose lease lapsed: queued again at once if attempts remain (an attempt
/// that died with its worker counts, so a video that crashes the server cannot loop forever),
/// otherwise failed.
#[tracing::instrument(level = "debug", skip_all, fields(recovered = tracing::field::Empty))]
pub async fn recover_lapsed(core: &Core) -> AppResult<Vec<Lapsed>> {
    let now = store::clock(&mut *core.db.acquire().await?).await?;
    let max_attempts = i64::from(core.config.limits.max_retries.saturating_add(1));
    let rows = sql::lapsed_leases(&core.db, now).await?;
    let mut recovered = Vec::new();
    for (id, video_id, rendition, attempts) in rows {
        let video = video_of(&video_id)?;
        let will_retry = attempts < max_attempts;
        let reason = "the server stopped while processing";
        let mut tx = core.db.begin().await?;
        let ending = sql::Ending {
            reason,
            will_retry,
            retry_at: None,
            now,
        };
        if sql::end_lapsed_attempt(&mut tx, id, ending).await? != 1 {
            continue;
        }
        settle_video(&mut tx, &video, will_retry, now).await?;
        let event = Event::JobFailed {
            job_id: id,
            video_id: video,
            reason: reason.to_owned(),
            will_retry,
            retry_at: None,
        };
        commit_announcing(core, tx, event, now).await?;
        recovered.push(Lapsed {
            id,
            video,
            rendition: rendition.as_deref().and_then(RenditionId::parse),
            will_retry,
        });
    }
    tracing::Span::current().record("recovered", recovered.len());
    Ok(recovered)
}
