//! The SQL of `job_metrics`, the pace of finished jobs that estimates are made from (`eta`).

use crate::db::Db;
use crate::error::AppResult;

/// Seconds per GB of the last `window` finished jobs, newest first.
#[tracing::instrument(level = "debug", skip_all, fields(window = window))]
pub async fn recent_seconds_per_gb(db: &Db, window: i64) -> AppResult<Vec<f64>> {
    Ok(sqlx::query_scalar(
        "SELECT seconds_per_gb FROM job_metrics ORDER BY finished_at DESC, id DESC LIMIT $1",
    )
    .bind(window)
    .fetch_all(db)
    .await?)
}

/// Records the pace of finished job `job_id`.
#[tracing::instrument(level = "debug", skip_all, fields(job = job_id, size = size_bytes))]
pub async fn insert(
    db: &Db,
    job_id: i64,
    size_bytes: i64,
    seconds: f64,
    seconds_per_gb: f64,
    finished_at: i64,
) -> AppResult<()> {
    sqlx::query(
        "INSERT INTO job_metrics (job_id, size_bytes, seconds, seconds_per_gb, finished_at)
         VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(job_id)
    .bind(size_bytes)
    .bind(seconds)
    .bind(seconds_per_gb)
    .bind(finished_at)
    .execute(db)
    .await?;
    Ok(())
}
