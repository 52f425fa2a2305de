//! The admin console's queries: job details the job list lacks, what housekeeping may remove,
//! quota use per account, and the speed history.

use crate::db::Db;

/// `(id, worker, run_anyway)` of the newest 500 processing jobs.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn job_extras(db: &Db) -> sqlx::Result<Vec<(i64, Option<String>, i64)>> {
    sqlx::query_as(
        "SELECT id, worker_id, run_anyway FROM jobs WHERE kind = 'process'
         ORDER BY id DESC LIMIT 500",
    )
    .fetch_all(db)
    .await
}

/// `(worker, run_anyway)` of job `id`.
#[tracing::instrument(level = "debug", skip_all, fields(job = id))]
pub async fn job_extra(db: &Db, id: i64) -> sqlx::Result<(Option<String>, i64)> {
    sqlx::query_as("SELECT worker_id, run_anyway FROM jobs WHERE id = $1")
        .bind(id)
        .fetch_one(db)
        .await
}

/// Whether video `id` still has its row.
#[tracing::instrument(level = "debug", skip_all, fields(video = id))]
pub async fn video_exists(db: &Db, id: &str) -> sqlx::Result<bool> {
    let found: Option<i64> = sqlx::query_scalar("SELECT 1 FROM videos WHERE id = $1")
        .bind(id)
        .fetch_optional(db)
        .await?;
    Ok(found.is_some())
}

/// Unfinished uploads untouched since before `before`.
#[tracing::instrument(level = "debug", skip_all, fields(before = before))]
pub async fn uploads_idle_since(db: &Db, before: i64) -> sqlx::Result<Vec<String>> {
    sqlx::query_scalar("SELECT id FROM videos WHERE status = 'uploading' AND updated_at < $1")
        .bind(before)
        .fetch_all(db)
        .await
}

/// `(video, rendition)` that running jobs write, and the published ones.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn renditions_in_use(db: &Db) -> sqlx::Result<Vec<(String, String)>> {
    sqlx::query_as(
        "SELECT video_id, rendition FROM jobs WHERE status = 'running' AND rendition IS NOT NULL
         UNION SELECT id, rendition FROM videos WHERE rendition IS NOT NULL",
    )
    .fetch_all(db)
    .await
}

/// Videos past their upload (any that may have renditions).
#[tracing::instrument(level = "debug", skip_all)]
pub async fn uploaded_video_ids(db: &Db) -> sqlx::Result<Vec<String>> {
    sqlx::query_scalar("SELECT id FROM videos WHERE status <> 'uploading'")
        .fetch_all(db)
        .await
}

/// Jobs running now.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn running_job_ids(db: &Db) -> sqlx::Result<Vec<i64>> {
    sqlx::query_scalar("SELECT id FROM jobs WHERE status = 'running'")
        .fetch_all(db)
        .await
}

/// Per account: `(id, username, role, quota, videos, bytes the quota counts)`, by username.
pub type QuotaUse = (i64, String, String, i64, i64, i64);

#[tracing::instrument(level = "debug", skip_all)]
pub async fn quota_use(db: &Db) -> sqlx::Result<Vec<QuotaUse>> {
    sqlx::query_as(
        "SELECT u.id, u.username, u.role, u.quota_bytes, COUNT(v.id),
                CAST(COALESCE(SUM(v.size_bytes), 0) AS BIGINT)
         FROM users u LEFT JOIN videos v ON v.owner_id = u.id
         GROUP BY u.id ORDER BY u.username",
    )
    .fetch_all(db)
    .await
}

/// `(video, owner)` of every video.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn video_owners(db: &Db) -> sqlx::Result<Vec<(String, i64)>> {
    sqlx::query_as("SELECT id, owner_id FROM videos")
        .fetch_all(db)
        .await
}

/// A finished job's `(job, finished_at, size, seconds, seconds per GB)`.
pub type SpeedPoint = (Option<i64>, i64, i64, f64, f64);

/// The newest `limit` finished jobs' speed points, newest first.
#[tracing::instrument(level = "debug", skip_all, fields(limit = limit))]
pub async fn speed_points(db: &Db, limit: i64) -> sqlx::Result<Vec<SpeedPoint>> {
    sqlx::query_as(
        "SELECT job_id, finished_at, size_bytes, seconds, seconds_per_gb FROM job_metrics
         ORDER BY finished_at DESC, id DESC LIMIT $1",
    )
    .bind(limit)
    .fetch_all(db)
    .await
}
