//! `/api/jobs…`, `/api/status/load` and the events socket.

use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::routing::{get, post};
use axum::Router;
use cloister_shared::api::jobs::{JobInfo, JobList, LoadStatus};
use cloister_shared::api::Role;
use cloister_shared::VideoId;
use serde::Deserialize;

use super::{eta, store, transitions};
use crate::accounts::{AdminUser, CurrentUser};
use crate::error::{AppError, AppResult};
use crate::gate::estimate;
use crate::http::json::ApiJson;
use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/jobs", get(index))
        .route("/api/jobs/{id}", get(show))
        .route("/api/jobs/{id}/cancel", post(cancel))
        .route("/api/jobs/{id}/run-anyway", post(run_anyway))
        .route("/api/status/load", get(load_status))
        .route("/api/events", get(crate::events::ws::events))
}

pub fn rules(state: &AppState) -> store::QueueRules {
    store::QueueRules {
        max_attempts: state.config.limits.max_retries.saturating_add(1),
        overdue_after_secs: state.config.gate.overdue_after_secs,
        workers: state.config.limits.workers,
    }
}

#[derive(Deserialize)]
struct ListQuery {
    video_id: Option<String>,
    #[serde(default)]
    active: bool,
}

fn job_id(raw: &str) -> AppResult<i64> {
    raw.parse::<i64>()
        .ok()
        .filter(|id| *id > 0)
        .ok_or_else(|| AppError::BadRequest("That is not a valid job id.".to_owned()))
}

async fn index(
    State(state): State<AppState>,
    CurrentUser(_user): CurrentUser,
    query: Result<Query<ListQuery>, QueryRejection>,
) -> AppResult<ApiJson<JobList>> {
    let Query(query) = query
        .map_err(|_| AppError::BadRequest("Use ?video_id=<id> and/or ?active=true.".to_owned()))?;
    let video = query
        .video_id
        .as_deref()
        .map(|raw| {
            VideoId::parse(raw)
                .map_err(|_| AppError::BadRequest("That is not a valid video id.".to_owned()))
        })
        .transpose()?;
    let jobs = store::list(&state.db, video.as_ref(), query.active, rules(&state)).await?;
    Ok(ApiJson(JobList { jobs }))
}

async fn show(
    State(state): State<AppState>,
    CurrentUser(_user): CurrentUser,
    Path(raw): Path<String>,
) -> AppResult<ApiJson<JobInfo>> {
    let id = job_id(&raw)?;
    store::one(&state.db, id, rules(&state)).await.map(ApiJson)
}

/// The uploader or an admin may cancel a job that has not finished; a running ffmpeg is killed.
async fn cancel(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    Path(raw): Path<String>,
) -> AppResult<ApiJson<JobInfo>> {
    let id = job_id(&raw)?;
    let row = store::load(&state.db, id).await?;
    if row.owner_id != user.id && user.role != Role::Admin {
        return Err(AppError::Forbidden(
            "Only the uploader or an admin can cancel this job.".to_owned(),
        ));
    }
    if transitions::cancel(&state, id).await?.is_none() {
        return Err(AppError::Conflict(
            "This job has already finished.".to_owned(),
        ));
    }
    state.jobs.cancel_running(id);
    tracing::info!(job = id, user = %user.username, "job cancelled");
    store::one(&state.db, id, rules(&state)).await.map(ApiJson)
}

/// An admin starts a held-back job now, overriding the gate for it alone.
async fn run_anyway(
    State(state): State<AppState>,
    AdminUser(user): AdminUser,
    Path(raw): Path<String>,
) -> AppResult<ApiJson<JobInfo>> {
    let id = job_id(&raw)?;
    store::load(&state.db, id).await?;
    if !transitions::run_anyway(&state, id).await? {
        return Err(AppError::Conflict(
            "Only a job that is queued or waiting for resources can be started this way."
                .to_owned(),
        ));
    }
    state.jobs.wake_workers();
    tracing::info!(job = id, user = %user.username, "job started regardless of the resource gate");
    store::one(&state.db, id, rules(&state)).await.map(ApiJson)
}

pub(crate) async fn load_status(
    State(state): State<AppState>,
    CurrentUser(_user): CurrentUser,
) -> AppResult<ApiJson<LoadStatus>> {
    let gate = state.gate.clone();
    // A job of ordinary size: the disk check then only asks for the reserve.
    let verdict = tokio::task::spawn_blocking(move || gate.check(0))
        .await
        .map_err(|err| AppError::Internal(err.to_string()))?;
    let readings = verdict
        .readings
        .clone()
        .ok_or_else(|| AppError::Unavailable {
            message: "The server's resources cannot be read right now.".to_owned(),
            retry_after_secs: Some(30),
        })?;
    let (queue_length, running_jobs) = store::counts(&state.db).await?;
    let seconds_per_gb = eta::seconds_per_gb(&state.db).await?;
    let gate_open = verdict.open();
    let busy_estimate_seconds = if gate_open {
        None
    } else {
        busy_estimate(&state, &verdict, seconds_per_gb).await?
    };
    Ok(ApiJson(LoadStatus {
        plain_reasons: verdict.plain_reasons,
        busy_estimate_seconds,
        gate_open,
        reasons: verdict.reasons,
        readings,
        queue_length,
        running_jobs,
        workers: state.config.limits.workers,
        active_downloads: u32::try_from(crate::downloads::holding_slots(&state.db).await?)
            .unwrap_or(u32::MAX),
        max_downloads: state.config.limits.max_downloads,
        seconds_per_gb,
    }))
}

/// The members' "probably within N minutes", by the rule of `crate::gate::estimate`.
async fn busy_estimate(
    state: &AppState,
    verdict: &crate::gate::Verdict,
    seconds_per_gb: Option<f64>,
) -> AppResult<Option<u64>> {
    let active = store::list(&state.db, None, true, rules(state)).await?;
    let (job_etas, any_overdue, busy_for_secs) =
        estimate::queue_facts(&state.db, &active, crate::accounts::unix_now()).await?;
    Ok(estimate::busy_estimate(&estimate::BusyFacts {
        measured_seconds_per_gb: seconds_per_gb,
        job_etas,
        any_overdue,
        busy_for_secs,
        disk_short: verdict.disk_short,
        readable: verdict.readings.is_some(),
    }))
}
