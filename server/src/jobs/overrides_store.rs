//! The SQL of an admin's queue overrides (`overrides`): each function is one statement, run in
//! the caller's transaction. The rules (what may be retried, how far a job moves) stay in
//! `overrides`.

use sqlx::AnyConnection;

use super::transitions_store::Ending;
use crate::error::AppResult;

/// (video_id, attempts) of `job_id` if it is a running processing job.
#[tracing::instrument(level = "debug", skip_all, fields(job = job_id))]
pub async fn running_attempts(
    conn: &mut AnyConnection,
    job_id: i64,
) -> AppResult<Option<(String, i64)>> {
    Ok(sqlx::query_as(
        "SELECT video_id, attempts FROM jobs
             WHERE id = $1 AND kind = 'process' AND status = 'running'",
    )
    .bind(job_id)
    .fetch_optional(conn)
    .await?)
}

/// Ends the running attempt of `job_id`, whoever holds it, as `ending` says.
#[tracing::instrument(level = "debug", skip_all, fields(job = job_id))]
pub async fn end_running_attempt(
    conn: &mut AnyConnection,
    job_id: i64,
    ending: Ending<'_>,
) -> AppResult<()> {
    super::transitions_store::end_running(conn, job_id, None, ending).await?;
    Ok(())
}

/// (video_id, job status, video status) of processing job `job_id`.
#[tracing::instrument(level = "debug", skip_all, fields(job = job_id))]
pub async fn job_and_video_status(
    conn: &mut AnyConnection,
    job_id: i64,
) -> AppResult<Option<(String, String, String)>> {
    Ok(sqlx::query_as(
        "SELECT j.video_id, j.status, v.status FROM jobs j JOIN videos v ON v.id = j.video_id
         WHERE j.id = $1 AND j.kind = 'process'",
    )
    .bind(job_id)
    .fetch_optional(conn)
    .await?)
}

/// Another active processing job of `video_id` than `job_id`, if any.
#[tracing::instrument(level = "debug", skip_all, fields(job = job_id, video = video_id))]
pub async fn other_active_job(
    conn: &mut AnyConnection,
    video_id: &str,
    job_id: i64,
) -> AppResult<Option<i64>> {
    Ok(sqlx::query_scalar(&format!(
        "SELECT id FROM jobs WHERE video_id = $1 AND id <> $2 AND kind = 'process'
           AND status IN {}",
        super::store::ACTIVE
    ))
    .bind(video_id)
    .bind(job_id)
    .fetch_optional(conn)
    .await?)
}

/// Queues failed or cancelled `job_id` afresh, the server holding `wrapped_dek` until it ends.
#[tracing::instrument(level = "debug", skip_all, fields(job = job_id))]
pub async fn requeue_finished(
    conn: &mut AnyConnection,
    job_id: i64,
    wrapped_dek: &[u8],
    now: i64,
) -> AppResult<()> {
    sqlx::query(
        "UPDATE jobs SET status = 'queued', attempts = 0, error = NULL, retry_at = NULL,
                queued_at = $1, started_at = NULL, finished_at = NULL, phase = NULL, percent = 0,
                eta_seconds = NULL, wait_reason = NULL, deferred_since = NULL, run_anyway = 0,
                worker_id = NULL, lease_until = NULL, rendition = NULL, wrapped_server_dek = $2
         WHERE id = $3 AND status IN ('failed', 'cancelled')",
    )
    .bind(now)
    .bind(wrapped_dek)
    .bind(job_id)
    .execute(conn)
    .await?;
    Ok(())
}

/// A failed (or stuck processing) video waits as `uploaded` again.
#[tracing::instrument(level = "debug", skip_all, fields(video = video_id))]
pub async fn mark_video_uploaded(
    conn: &mut AnyConnection,
    video_id: &str,
    now: i64,
) -> AppResult<()> {
    sqlx::query(
        "UPDATE videos SET status = 'uploaded', updated_at = $1
         WHERE id = $2 AND status IN ('failed', 'processing')",
    )
    .bind(now)
    .bind(video_id)
    .execute(conn)
    .await?;
    Ok(())
}

/// How many processing jobs come before `job_id`: the running ones and those ahead in the
/// order workers take them (priority, then time queued, then id).
#[tracing::instrument(level = "debug", skip_all, fields(job = job_id))]
pub async fn jobs_ahead(conn: &mut AnyConnection, job_id: i64) -> AppResult<i64> {
    Ok(sqlx::query_scalar(
        "SELECT COUNT(*) FROM jobs o, jobs j
         WHERE j.id = $1 AND o.id <> $1 AND o.kind = 'process'
           AND o.status IN ('queued', 'waiting_resource', 'running')
           AND (o.status = 'running' OR o.priority > j.priority
                OR (o.priority = j.priority AND (o.queued_at < j.queued_at
                    OR (o.queued_at = j.queued_at AND o.id < j.id))))",
    )
    .bind(job_id)
    .fetch_one(conn)
    .await?)
}

/// (video_id, status, priority) of `job_id` if it is waiting to run.
#[tracing::instrument(level = "debug", skip_all, fields(job = job_id))]
pub async fn waiting_priority(
    conn: &mut AnyConnection,
    job_id: i64,
) -> AppResult<Option<(String, String, i64)>> {
    Ok(sqlx::query_as(
        "SELECT video_id, status, priority FROM jobs
         WHERE id = $1 AND kind = 'process' AND status IN ('queued', 'waiting_resource')",
    )
    .bind(job_id)
    .fetch_optional(conn)
    .await?)
}

/// The highest and lowest priority of the other jobs waiting to run.
#[tracing::instrument(level = "debug", skip_all, fields(job = job_id))]
pub async fn others_priority_range(
    conn: &mut AnyConnection,
    job_id: i64,
) -> AppResult<(Option<i64>, Option<i64>)> {
    Ok(sqlx::query_as(
        "SELECT MAX(priority), MIN(priority) FROM jobs
         WHERE id <> $1 AND kind = 'process' AND status IN ('queued', 'waiting_resource')",
    )
    .bind(job_id)
    .fetch_one(conn)
    .await?)
}

/// Sets `job_id`'s priority.
#[tracing::instrument(level = "debug", skip_all, fields(job = job_id, priority = priority))]
pub async fn set_priority(conn: &mut AnyConnection, job_id: i64, priority: i64) -> AppResult<()> {
    sqlx::query("UPDATE jobs SET priority = $1 WHERE id = $2")
        .bind(priority)
        .bind(job_id)
        .execute(conn)
        .await?;
    Ok(())
}
