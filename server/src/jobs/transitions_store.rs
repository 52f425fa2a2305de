//! The SQL of the job state machine (`transitions`): each function is one statement, run on the
//! pool or inside the caller's transaction. The rules (who may move a job, what is announced)
//! stay in `transitions`; the `WHERE` conditions that make a losing racer change nothing are here,
//! and the caller reads the affected-row counts.

use sqlx::AnyConnection;

use crate::db::Db;
use crate::error::AppResult;

/// A due job: (id, size_bytes, run_anyway).
pub type DueRow = (i64, i64, i64);

/// The next job a worker may take at `now`: queued, or waiting with its retry time come.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn next_due(db: &Db, now: i64) -> AppResult<Option<DueRow>> {
    Ok(sqlx::query_as(
        "SELECT id, size_bytes, run_anyway FROM jobs
         WHERE kind = 'process' AND status IN ('queued', 'waiting_resource')
           AND COALESCE(retry_at, 0) <= $1
         ORDER BY priority DESC, queued_at, id LIMIT 1",
    )
    .bind(now)
    .fetch_optional(db)
    .await?)
}

/// PostgreSQL only: the next due job by the database's clock, its row locked until `conn`'s
/// transaction ends; rows other workers hold locked are skipped.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn lock_next_due(conn: &mut AnyConnection) -> AppResult<Option<DueRow>> {
    Ok(sqlx::query_as(
        "SELECT id, size_bytes, run_anyway FROM jobs
         WHERE kind = 'process' AND status IN ('queued', 'waiting_resource')
           AND COALESCE(retry_at, 0) <= CAST(FLOOR(EXTRACT(EPOCH FROM now())) AS BIGINT)
         ORDER BY priority DESC, queued_at, id LIMIT 1
         FOR UPDATE SKIP LOCKED",
    )
    .fetch_optional(conn)
    .await?)
}

/// The earliest retry time of the jobs waiting to run, if any.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn earliest_retry_at(db: &Db) -> AppResult<Option<i64>> {
    Ok(sqlx::query_scalar(
        "SELECT MIN(retry_at) FROM jobs
         WHERE kind = 'process' AND status IN ('queued', 'waiting_resource')",
    )
    .fetch_one(db)
    .await?)
}

/// What a claim needs to know of the job it took.
pub struct ClaimedRow {
    pub video_id: String,
    pub attempts: i64,
    pub wrapped_dek: Option<Vec<u8>>,
}

/// The lease a claim takes.
pub struct Lease<'a> {
    pub worker: &'a str,
    pub until: i64,
    pub now: i64,
    pub rendition: &'a str,
    pub eta_seconds: i64,
}

/// Marks `job_id` running under `lease` if it is still due and unclaimed; `None` when another
/// worker, a cancel or a deferral got there first.
#[tracing::instrument(level = "debug", skip_all, fields(job = job_id, worker = lease.worker))]
pub async fn claim_due(
    conn: &mut AnyConnection,
    job_id: i64,
    lease: &Lease<'_>,
) -> AppResult<Option<ClaimedRow>> {
    let row: Option<(String, i64, Option<Vec<u8>>)> = sqlx::query_as(
        "UPDATE jobs SET status = 'running', worker_id = $1, lease_until = $2, started_at = $3,
                attempts = attempts + 1, phase = NULL, percent = 0, error = NULL,
                wait_reason = NULL, retry_at = NULL, deferred_since = NULL, rendition = $4,
                eta_seconds = $5, finished_at = NULL
         WHERE id = $6 AND status IN ('queued', 'waiting_resource')
           AND COALESCE(retry_at, 0) <= $7
         RETURNING video_id, attempts, wrapped_server_dek",
    )
    .bind(lease.worker)
    .bind(lease.until)
    .bind(lease.now)
    .bind(lease.rendition)
    .bind(lease.eta_seconds)
    .bind(job_id)
    .bind(lease.now)
    .fetch_optional(conn)
    .await?;
    Ok(row.map(|(video_id, attempts, wrapped_dek)| ClaimedRow {
        video_id,
        attempts,
        wrapped_dek,
    }))
}

/// The claimed job's video is being processed.
#[tracing::instrument(level = "debug", skip_all, fields(video = video_id))]
pub async fn mark_video_processing(
    conn: &mut AnyConnection,
    video_id: &str,
    now: i64,
) -> AppResult<()> {
    sqlx::query("UPDATE videos SET status = 'processing', updated_at = $1 WHERE id = $2")
        .bind(now)
        .bind(video_id)
        .execute(conn)
        .await?;
    Ok(())
}

/// Puts a due job to wait until `retry_at` for `reasons` (JSON); the first deferral's time is
/// kept. Returns (video_id, deferred_since), `None` when the job was no longer due.
#[tracing::instrument(level = "debug", skip_all, fields(job = job_id))]
pub async fn defer_due(
    conn: &mut AnyConnection,
    job_id: i64,
    retry_at: i64,
    reasons: String,
    now: i64,
) -> AppResult<Option<(String, i64)>> {
    Ok(sqlx::query_as(
        "UPDATE jobs SET status = 'waiting_resource', retry_at = $1, wait_reason = $2,
                deferred_since = COALESCE(deferred_since, $3)
         WHERE id = $4 AND status IN ('queued', 'waiting_resource')
         RETURNING video_id, deferred_since",
    )
    .bind(retry_at)
    .bind(reasons)
    .bind(now)
    .bind(job_id)
    .fetch_optional(conn)
    .await?)
}

/// Progress a heartbeat reports; `None` fields keep what is stored.
pub struct Progress<'a> {
    pub phase: Option<&'a str>,
    pub percent: Option<f64>,
    pub eta_seconds: Option<i64>,
}

/// Extends `worker`'s lease on running `job_id` to `lease_until` and records `progress`. Returns
/// the rows changed: 0 when the job is no longer this worker's.
#[tracing::instrument(level = "debug", skip_all, fields(job = job_id, worker = worker))]
pub async fn renew_lease(
    conn: &mut AnyConnection,
    job_id: i64,
    worker: &str,
    lease_until: i64,
    progress: Progress<'_>,
) -> AppResult<u64> {
    let updated = sqlx::query(
        "UPDATE jobs SET lease_until = $1,
                phase = COALESCE($2, phase), percent = COALESCE($3, percent),
                eta_seconds = COALESCE($4, eta_seconds)
         WHERE id = $5 AND worker_id = $6 AND status = 'running'",
    )
    .bind(lease_until)
    .bind(progress.phase)
    .bind(progress.percent)
    .bind(progress.eta_seconds)
    .bind(job_id)
    .bind(worker)
    .execute(conn)
    .await?;
    Ok(updated.rows_affected())
}

/// Marks `worker`'s running `job_id` done, dropping the server's copy of its key. Returns the
/// rows changed.
#[tracing::instrument(level = "debug", skip_all, fields(job = job_id, worker = worker))]
pub async fn finish_running(
    conn: &mut AnyConnection,
    job_id: i64,
    worker: &str,
    now: i64,
) -> AppResult<u64> {
    let updated = sqlx::query(
        "UPDATE jobs SET status = 'done', finished_at = $1, percent = 100, phase = NULL,
                lease_until = NULL, eta_seconds = NULL, error = NULL, wrapped_server_dek = NULL
         WHERE id = $2 AND worker_id = $3 AND status = 'running'",
    )
    .bind(now)
    .bind(job_id)
    .bind(worker)
    .execute(conn)
    .await?;
    Ok(updated.rows_affected())
}

/// What a finished job published for its video.
pub struct PublishedRow<'a> {
    pub rendition: &'a str,
    pub thumb_path: Option<&'a str>,
    pub duration_ms: i64,
}

/// The video is ready, playing `published`.
#[tracing::instrument(level = "debug", skip_all, fields(video = video_id))]
pub async fn mark_video_ready(
    conn: &mut AnyConnection,
    video_id: String,
    published: PublishedRow<'_>,
    now: i64,
) -> AppResult<()> {
    sqlx::query(
        "UPDATE videos SET status = 'ready', rendition = $1, manifest_path = 'manifest.sealed',
                thumb_path = $2, duration_ms = $3, updated_at = $4
         WHERE id = $5",
    )
    .bind(published.rendition)
    .bind(published.thumb_path)
    .bind(published.duration_ms)
    .bind(now)
    .bind(video_id)
    .execute(conn)
    .await?;
    Ok(())
}

/// How an ended attempt leaves its job: queued again (`will_retry`, from `retry_at`) or failed.
pub struct Ending<'a> {
    pub reason: &'a str,
    pub will_retry: bool,
    pub retry_at: Option<i64>,
    pub now: i64,
}

/// Ends `worker`'s running attempt of `job_id` as `ending` says. Returns the rows changed.
#[tracing::instrument(level = "debug", skip_all, fields(job = job_id, worker = worker))]
pub async fn end_attempt(
    conn: &mut AnyConnection,
    job_id: i64,
    worker: &str,
    ending: Ending<'_>,
) -> AppResult<u64> {
    end_running(conn, job_id, Some(worker), ending).await
}

/// Ends the running attempt of `job_id` as `ending` says: only `holder`'s, or whoever holds it
/// when `None` (an admin's kill). Returns the rows changed.
#[tracing::instrument(level = "debug", skip_all, fields(job = job_id, worker = holder))]
pub async fn end_running(
    conn: &mut AnyConnection,
    job_id: i64,
    holder: Option<&str>,
    ending: Ending<'_>,
) -> AppResult<u64> {
    let held_by = if holder.is_some() {
        " AND worker_id = $8"
    } else {
        ""
    };
    let sql = format!(
        "UPDATE jobs SET status = $1, error = $2, retry_at = $3, lease_until = NULL,
                worker_id = NULL, phase = NULL, eta_seconds = NULL,
                finished_at = CASE WHEN $4 THEN NULL ELSE $5 END,
                wrapped_server_dek = CASE WHEN $6 THEN wrapped_server_dek ELSE NULL END
         WHERE id = $7 AND status = 'running'{held_by}"
    );
    let mut query = sqlx::query(&sql)
        .bind(if ending.will_retry {
            "queued"
        } else {
            "failed"
        })
        .bind(ending.reason)
        .bind(ending.retry_at)
        .bind(ending.will_retry)
        .bind(ending.now)
        .bind(ending.will_retry)
        .bind(job_id);
    if let Some(worker) = holder {
        query = query.bind(worker);
    }
    Ok(query.execute(conn).await?.rows_affected())
}

/// A processing video goes back to `uploaded` (its job will run again) or to `failed`.
#[tracing::instrument(level = "debug", skip_all, fields(video = video_id, will_retry = will_retry))]
pub async fn settle_processing_video(
    conn: &mut AnyConnection,
    video_id: String,
    will_retry: bool,
    now: i64,
) -> AppResult<()> {
    sqlx::query(
        "UPDATE videos SET status = $1, updated_at = $2 WHERE id = $3 AND status = 'processing'",
    )
    .bind(if will_retry { "uploaded" } else { "failed" })
    .bind(now)
    .bind(video_id)
    .execute(conn)
    .await?;
    Ok(())
}

/// Puts `worker`'s running `job_id` back in the queue, its attempt not counted. Returns the rows
/// changed.
#[tracing::instrument(level = "debug", skip_all, fields(job = job_id, worker = worker))]
pub async fn requeue_running(
    conn: &mut AnyConnection,
    job_id: i64,
    worker: &str,
) -> AppResult<u64> {
    let updated = sqlx::query(
        "UPDATE jobs SET status = 'queued', attempts = CASE WHEN attempts > 0 THEN attempts - 1 ELSE 0 END, lease_until = NULL,
                worker_id = NULL, phase = NULL, percent = 0, eta_seconds = NULL
         WHERE id = $1 AND worker_id = $2 AND status = 'running'",
    )
    .bind(job_id)
    .bind(worker)
    .execute(conn)
    .await?;
    Ok(updated.rows_affected())
}

/// (status, video_id) of `job_id` if it is active (`store::ACTIVE`).
#[tracing::instrument(level = "debug", skip_all, fields(job = job_id))]
pub async fn active_status(
    conn: &mut AnyConnection,
    job_id: i64,
) -> AppResult<Option<(String, String)>> {
    Ok(sqlx::query_as(&format!(
        "SELECT status, video_id FROM jobs WHERE id = $1 AND status IN {}",
        super::store::ACTIVE
    ))
    .bind(job_id)
    .fetch_optional(conn)
    .await?)
}

/// Marks `job_id` cancelled, dropping the server's copy of its key.
#[tracing::instrument(level = "debug", skip_all, fields(job = job_id))]
pub async fn mark_cancelled(conn: &mut AnyConnection, job_id: i64, now: i64) -> AppResult<()> {
    sqlx::query(
        "UPDATE jobs SET status = 'cancelled', finished_at = $1, lease_until = NULL,
                retry_at = NULL, eta_seconds = NULL, wrapped_server_dek = NULL
         WHERE id = $2",
    )
    .bind(now)
    .bind(job_id)
    .execute(conn)
    .await?;
    Ok(())
}

/// Lets waiting `job_id` past the gate and makes it due now. Returns the rows changed.
#[tracing::instrument(level = "debug", skip_all, fields(job = job_id))]
pub async fn set_run_anyway(db: &Db, job_id: i64) -> AppResult<u64> {
    let updated = sqlx::query(
        "UPDATE jobs SET run_anyway = 1, retry_at = NULL
         WHERE id = $1 AND status IN ('queued', 'waiting_resource')",
    )
    .bind(job_id)
    .execute(db)
    .await?;
    Ok(updated.rows_affected())
}

/// A running job whose lease lapsed before `now`: (id, video_id, rendition, attempts).
pub type LapsedRow = (i64, String, Option<String>, i64);

/// Running jobs whose lease lapsed before `now`.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn lapsed_leases(db: &Db, now: i64) -> AppResult<Vec<LapsedRow>> {
    Ok(sqlx::query_as(
        "SELECT id, video_id, rendition, attempts FROM jobs
         WHERE status = 'running' AND lease_until < $1",
    )
    .bind(now)
    .fetch_all(db)
    .await?)
}

/// Ends the attempt of `job_id` if its lease is still lapsed at `ending.now` (nobody renewed or
/// took it meanwhile). A retried job is due at once: `ending.retry_at` is not used. Returns the
/// rows changed.
#[tracing::instrument(level = "debug", skip_all, fields(job = job_id))]
pub async fn end_lapsed_attempt(
    conn: &mut AnyConnection,
    job_id: i64,
    ending: Ending<'_>,
) -> AppResult<u64> {
    let updated = sqlx::query(
        "UPDATE jobs SET status = $1, error = $2, lease_until = NULL, worker_id = NULL,
                phase = NULL, eta_seconds = NULL, retry_at = NULL,
                finished_at = CASE WHEN $3 THEN NULL ELSE $4 END,
                wrapped_server_dek = CASE WHEN $5 THEN wrapped_server_dek ELSE NULL END
         WHERE id = $6 AND status = 'running' AND lease_until < $7",
    )
    .bind(if ending.will_retry {
        "queued"
    } else {
        "failed"
    })
    .bind(ending.reason)
    .bind(ending.will_retry)
    .bind(ending.now)
    .bind(ending.will_retry)
    .bind(job_id)
    .bind(ending.now)
    .execute(conn)
    .await?;
    Ok(updated.rows_affected())
}
