//! An admin's overrides of the queue (docs/admin.md): retry a finished job, kill a running attempt,
//! move a job in the queue. Each is one SQL transaction that records its event, like every other
//! transition in `transitions`.

use cloister_shared::api::admin::{PriorityRequest, MAX_PRIORITY};
use cloister_shared::api::Event;

use super::overrides_store as sql;
use super::transitions::{commit_announcing, settle_video, video_of};
use super::transitions_store::Ending;
use crate::accounts::unix_now;
use crate::error::{AppError, AppResult};
use crate::state::Core;

/// What killing an attempt led to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Killed {
    pub will_retry: bool,
    pub retry_at: Option<i64>,
}

/// Why a killed attempt ended, for the uploader and the job's `error`.
pub const KILLED_REASON: &str = "stopped by an admin";

/// Ends the running attempt of `job_id` as a crash would: the attempt counts, and the job goes
/// back to the queue after the usual backoff, or fails for good if it was the last attempt. The
/// caller then stops the ffmpeg (in this process at once; a worker in another process notices at
/// its next heartbeat, since the job is no longer its). `None` when the job is not running.
pub async fn kill(core: &Core, job_id: i64) -> AppResult<Option<Killed>> {
    let now = unix_now();
    let max_attempts = i64::from(core.config.limits.max_retries.saturating_add(1));
    let mut tx = core.db.begin().await?;
    let Some((video_id, attempts)) = sql::running_attempts(&mut tx, job_id).await? else {
        return Ok(None);
    };
    let will_retry = attempts < max_attempts;
    // The same backoff as a failed attempt (`transitions::fail`).
    let doublings = u32::try_from(attempts.saturating_sub(1).clamp(0, 16)).unwrap_or(16);
    let backoff = core
        .config
        .jobs
        .retry_backoff_secs
        .saturating_mul(1u64 << doublings);
    let retry_at = will_retry.then(|| now + i64::try_from(backoff).unwrap_or(i64::MAX / 2));
    let ending = Ending {
        reason: KILLED_REASON,
        will_retry,
        retry_at,
        now,
    };
    sql::end_running_attempt(&mut tx, job_id, ending).await?;
    let video = video_of(&video_id)?;
    settle_video(&mut tx, &video, will_retry, now).await?;
    let event = Event::JobFailed {
        job_id,
        video_id: video,
        reason: KILLED_REASON.to_owned(),
        will_retry,
        retry_at,
    };
    commit_announcing(core, tx, event, now).await?;
    Ok(Some(Killed {
        will_retry,
        retry_at,
    }))
}

/// Why a job cannot be retried.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RetryRefused {
    /// Queued, waiting, running or done.
    NotFinishedUnsuccessfully,
    /// Another job of the same video is queued or running.
    OtherJobActive,
    /// The video is ready already (a later job processed it).
    VideoReady,
}

/// Puts a failed or cancelled job back in the queue as if just queued: attempts start again from
/// zero, and the server holds the video's key (`wrapped_dek`, under `server.key`) until it ends.
pub async fn retry(
    core: &Core,
    job_id: i64,
    wrapped_dek: &[u8],
) -> AppResult<Result<u64, RetryRefused>> {
    let now = unix_now();
    let mut tx = core.db.begin().await?;
    let row = sql::job_and_video_status(&mut tx, job_id).await?;
    let Some((video_id, status, video_status)) = row else {
        return Err(AppError::NotFound("There is no such job.".to_owned()));
    };
    if status != "failed" && status != "cancelled" {
        return Ok(Err(RetryRefused::NotFinishedUnsuccessfully));
    }
    if video_status == "ready" {
        return Ok(Err(RetryRefused::VideoReady));
    }
    if sql::other_active_job(&mut tx, &video_id, job_id)
        .await?
        .is_some()
    {
        return Ok(Err(RetryRefused::OtherJobActive));
    }
    sql::requeue_finished(&mut tx, job_id, wrapped_dek, now).await?;
    sql::mark_video_uploaded(&mut tx, &video_id, now).await?;
    let position = announce_queued(core, tx, job_id, &video_id, now).await?;
    core.jobs.wake_workers();
    Ok(Ok(position))
}

/// Commits `tx` with a `job_queued` event telling the job's place in the queue; returns it.
async fn announce_queued(
    core: &Core,
    mut tx: sqlx::Transaction<'_, sqlx::Any>,
    job_id: i64,
    video_id: &str,
    now: i64,
) -> AppResult<u64> {
    let position = queue_position(&mut tx, job_id).await?;
    let event = Event::JobQueued {
        job_id,
        video_id: video_of(video_id)?,
        queue_position: position,
    };
    commit_announcing(core, tx, event, now).await?;
    Ok(position)
}

/// 1 for the next job workers take: the running ones and those ahead in their order (priority,
/// then time queued, then id) come first.
async fn queue_position(conn: &mut sqlx::AnyConnection, job_id: i64) -> AppResult<u64> {
    let ahead = sql::jobs_ahead(conn, job_id).await?;
    Ok(u64::try_from(ahead).unwrap_or(0) + 1)
}

/// Checks an admin's priority value.
pub fn check_priority(request: PriorityRequest) -> AppResult<()> {
    match request {
        PriorityRequest::Value { priority } if priority.abs() > MAX_PRIORITY => {
            Err(AppError::BadRequest(format!(
                "A priority is a whole number from -{MAX_PRIORITY} to {MAX_PRIORITY}."
            )))
        }
        _ => Ok(()),
    }
}

/// Moves a queued or waiting job: to the front, the back, or to a given priority. Returns the new
/// priority, or `None` when the job is not waiting to run (running or finished).
pub async fn set_priority(
    core: &Core,
    job_id: i64,
    request: PriorityRequest,
) -> AppResult<Option<i64>> {
    check_priority(request)?;
    let now = unix_now();
    let mut tx = core.db.begin().await?;
    let Some((video_id, status, own)) = sql::waiting_priority(&mut tx, job_id).await? else {
        return Ok(None);
    };
    let (others_max, others_min) = sql::others_priority_range(&mut tx, job_id).await?;
    // One step past the others is enough: the order is by priority first.
    let priority = match request {
        PriorityRequest::Top => others_max.map_or(own, |max| own.max(max.saturating_add(1))),
        PriorityRequest::Bottom => others_min.map_or(own, |min| own.min(min.saturating_sub(1))),
        PriorityRequest::Value { priority } => priority,
    }
    .clamp(-MAX_PRIORITY, MAX_PRIORITY);
    sql::set_priority(&mut tx, job_id, priority).await?;
    if status == "queued" {
        // Members see the job's new place in the queue at once.
        announce_queued(core, tx, job_id, &video_id, now).await?;
    } else {
        // A job the gate holds back keeps its "waiting" state for members; only its order moved.
        tx.commit().await?;
    }
    Ok(Some(priority))
}
