//! `/api/admin/jobs…`: the job list with timings, and retry, kill and priority. Cancel is the
//! members' `POST /api/jobs/{id}/cancel`, which admins may use on any job.

use std::collections::HashMap;

use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use cloister_shared::api::admin::{AdminJob, AdminJobList, PriorityRequest, RetryJobRequest};
use cloister_shared::api::jobs::{JobInfo, JobStatus};
use serde::Deserialize;

use crate::accounts::{unix_now, AdminUser};
use crate::error::{AppError, AppResult};
use crate::http::json::ApiJson;
use crate::jobs::overrides::{self, RetryRefused};
use crate::jobs::routes::rules;
use crate::jobs::store;
use crate::state::AppState;
use crate::uploads::{self, complete};

#[derive(Deserialize)]
pub(super) struct ListQuery {
    #[serde(default)]
    active: bool,
}

pub(super) fn job_id(raw: &str) -> AppResult<i64> {
    raw.parse::<i64>()
        .ok()
        .filter(|id| *id > 0)
        .ok_or_else(|| AppError::BadRequest("That is not a valid job id.".to_owned()))
}

/// Seconds of the last attempt: to its end, or to `now` while it runs.
fn duration(job: &JobInfo, now: i64) -> Option<u64> {
    let started = job.started_at?;
    let end = match job.status {
        JobStatus::Running => now,
        _ => job.finished_at?,
    };
    u64::try_from(end - started).ok()
}

fn admin_job(job: JobInfo, worker: Option<String>, run_anyway: bool, now: i64) -> AdminJob {
    AdminJob {
        duration_secs: duration(&job, now),
        worker: worker.filter(|_| job.status == JobStatus::Running),
        run_anyway,
        job,
    }
}

/// The active queue in the order workers take it (running first), then finished jobs, newest
/// first.
async fn list(state: &AppState, active_only: bool) -> AppResult<Vec<AdminJob>> {
    let jobs = store::list(&state.db, None, active_only, rules(state)).await?;
    let extra: HashMap<i64, (Option<String>, bool)> = super::store::job_extras(&state.db)
        .await?
        .into_iter()
        .map(|(id, worker, anyway)| (id, (worker, anyway != 0)))
        .collect();
    let now = unix_now();
    let mut out: Vec<AdminJob> = jobs
        .into_iter()
        .map(|job| {
            let (worker, run_anyway) = extra.get(&job.job_id).cloned().unwrap_or_default();
            admin_job(job, worker, run_anyway, now)
        })
        .collect();
    // Running (no position) first, then by position, then the finished ones by id, newest first.
    out.sort_by_key(|a| {
        let rank = match (a.job.status.is_final(), a.job.queue_position) {
            (false, None) => (0, 0),
            (false, Some(position)) => (1, position),
            (true, _) => (2, 0),
        };
        (rank, std::cmp::Reverse(a.job.job_id))
    });
    Ok(out)
}

async fn one(state: &AppState, id: i64) -> AppResult<AdminJob> {
    let job = store::one(&state.db, id, rules(state)).await?;
    let (worker, run_anyway) = super::store::job_extra(&state.db, id).await?;
    Ok(admin_job(job, worker, run_anyway != 0, unix_now()))
}

pub(super) async fn index(
    State(state): State<AppState>,
    query: Result<Query<ListQuery>, QueryRejection>,
) -> AppResult<ApiJson<AdminJobList>> {
    let Query(query) =
        query.map_err(|_| AppError::BadRequest("Use ?active=true or nothing.".to_owned()))?;
    Ok(ApiJson(AdminJobList {
        jobs: list(&state, query.active).await?,
    }))
}

/// A failed or cancelled job runs again from its first attempt. The server erased the video's key
/// when the job ended, so the request carries it again; it must open the stored original.
pub(super) async fn retry(
    State(state): State<AppState>,
    AdminUser(user): AdminUser,
    Path(raw): Path<String>,
    ApiJson(request): ApiJson<RetryJobRequest>,
) -> AppResult<ApiJson<AdminJob>> {
    let id = job_id(&raw)?;
    let row = store::load(&state.db, id).await?;
    if !matches!(row.status()?, JobStatus::Failed | JobStatus::Cancelled) {
        return Err(refused(RetryRefused::NotFinishedUnsuccessfully));
    }
    let video = row.video()?;
    let dek = complete::parse_dek(&request.dek)?;
    let storage = state.storage.clone();
    let present = uploads::blocking(move || match storage.original_len(&video) {
        Ok(_) => Ok(true),
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => Ok(false),
        Err(err) => Err(err),
    })
    .await?;
    if !present {
        return Err(AppError::Conflict(
            "The original of this video is gone, so it cannot be processed again.".to_owned(),
        ));
    }
    let upload = uploads::load(&state.db, &video).await?;
    complete::verify_file(&state, user.id, &upload, &dek).await?;
    let wrapped = crate::custody::wrap_dek(&state.server_key, &video, &dek)
        .map_err(|err| AppError::Internal(err.to_string()))?;
    overrides::retry(&state, id, &wrapped)
        .await?
        .map_err(refused)?;
    tracing::info!(job = id, video = %video, user = %user.username, "job queued again by an admin");
    one(&state, id).await.map(ApiJson)
}

fn refused(why: RetryRefused) -> AppError {
    AppError::Conflict(
        match why {
            RetryRefused::NotFinishedUnsuccessfully => {
                "Only a failed or cancelled job can be retried."
            }
            RetryRefused::OtherJobActive => "Another job of this video is queued or running.",
            RetryRefused::VideoReady => "This video is ready already; there is nothing to retry.",
        }
        .to_owned(),
    )
}

/// Ends the running attempt and stops its ffmpeg; the job goes back to the queue as after a crash.
pub(super) async fn kill(
    State(state): State<AppState>,
    AdminUser(user): AdminUser,
    Path(raw): Path<String>,
) -> AppResult<ApiJson<AdminJob>> {
    let id = job_id(&raw)?;
    store::load(&state.db, id).await?;
    let Some(killed) = overrides::kill(&state, id).await? else {
        return Err(AppError::Conflict(
            "Only a running job can be killed; cancel a queued one instead.".to_owned(),
        ));
    };
    // A worker in another process stops at its next heartbeat instead.
    let here = state.jobs.cancel_running(id);
    tracing::warn!(job = id, user = %user.username, will_retry = killed.will_retry, in_this_process = here, "running job killed by an admin");
    one(&state, id).await.map(ApiJson)
}

pub(super) async fn priority(
    State(state): State<AppState>,
    AdminUser(user): AdminUser,
    Path(raw): Path<String>,
    ApiJson(request): ApiJson<PriorityRequest>,
) -> AppResult<ApiJson<AdminJob>> {
    let id = job_id(&raw)?;
    overrides::check_priority(request)?;
    store::load(&state.db, id).await?;
    let Some(priority) = overrides::set_priority(&state, id, request).await? else {
        return Err(AppError::Conflict(
            "Only a queued or waiting job can be moved in the queue.".to_owned(),
        ));
    };
    tracing::info!(job = id, priority, user = %user.username, "job priority changed by an admin");
    one(&state, id).await.map(ApiJson)
}
