//! The trash's SQL: marking, restoring, listing and purging videos, and the keys and work a
//! trashed video must give up (docs/decisions.md, "Delete, trash, restore").

use crate::db::Db;
use sqlx::AnyConnection;

use crate::error::AppResult;

/// The predicate every listing and file route adds so a trashed (or purging) video is nowhere:
/// `… WHERE <others> AND {NOT_TRASHED}` with the videos table aliased `v`.
pub const NOT_TRASHED: &str = "v.trashed_at IS NULL";

/// What the trash needs to know of a video to decide who may act on it.
#[derive(Debug, sqlx::FromRow)]
pub struct VideoState {
    pub owner_id: i64,
    pub status: String,
    pub trashed_at: Option<i64>,
    pub purge_started_at: Option<i64>,
}

#[tracing::instrument(level = "debug", skip_all, fields(video = id))]
pub async fn state_of(db: &Db, id: &str) -> AppResult<Option<VideoState>> {
    Ok(sqlx::query_as(
        "SELECT owner_id, status, trashed_at, purge_started_at FROM videos WHERE id = $1",
    )
    .bind(id)
    .fetch_optional(db)
    .await?)
}

/// Marks the video trashed by `by`; false if it already was.
#[tracing::instrument(level = "debug", skip_all, fields(video = id, by = by))]
pub async fn mark_trashed(tx: &mut AnyConnection, id: &str, by: i64, now: i64) -> AppResult<bool> {
    let done = sqlx::query(
        "UPDATE videos SET trashed_at = $1, trashed_by = $2, updated_at = $3
         WHERE id = $4 AND trashed_at IS NULL",
    )
    .bind(now)
    .bind(by)
    .bind(now)
    .bind(id)
    .execute(tx)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Cancels the video's unfinished jobs and erases every copy of its key the server holds for
/// them; answers the jobs cancelled. A video left waiting or half-processed becomes `failed`, so
/// a restore never brings back a video nothing will process.
#[tracing::instrument(level = "debug", skip_all, fields(video = id))]
pub async fn cancel_work(tx: &mut AnyConnection, id: &str, now: i64) -> AppResult<Vec<i64>> {
    let jobs: Vec<i64> = sqlx::query_scalar(&format!(
        "UPDATE jobs SET status = 'cancelled', finished_at = $1, lease_until = NULL,
                retry_at = NULL, eta_seconds = NULL, error = 'moved to the trash'
         WHERE video_id = $2 AND status IN {}
         RETURNING id",
        crate::jobs::store::ACTIVE
    ))
    .bind(now)
    .bind(id)
    .fetch_all(&mut *tx)
    .await?;
    sqlx::query("UPDATE jobs SET wrapped_server_dek = NULL WHERE video_id = $1")
        .bind(id)
        .execute(&mut *tx)
        .await?;
    sqlx::query(
        "UPDATE videos SET status = 'failed'
         WHERE id = $1 AND status IN ('uploaded', 'processing')",
    )
    .bind(id)
    .execute(&mut *tx)
    .await?;
    Ok(jobs)
}

/// Ends the video's queued and ready downloads, erasing the key each held; answers their ids.
#[tracing::instrument(level = "debug", skip_all, fields(video = id))]
pub async fn cancel_downloads(
    tx: &mut AnyConnection,
    id: &str,
    now: i64,
) -> AppResult<Vec<String>> {
    Ok(sqlx::query_scalar(
        "UPDATE downloads SET state = 'cancelled', wrapped_dek = NULL, finished_at = $1
         WHERE video_id = $2 AND state IN ('queued', 'ready')
         RETURNING id",
    )
    .bind(now)
    .bind(id)
    .fetch_all(tx)
    .await?)
}

/// Takes the video out of the trash; false if it was not there (or is being purged).
#[tracing::instrument(level = "debug", skip_all, fields(video = id))]
pub async fn restore(tx: &mut AnyConnection, id: &str, now: i64) -> AppResult<bool> {
    let done = sqlx::query(
        "UPDATE videos SET trashed_at = NULL, trashed_by = NULL, updated_at = $1
         WHERE id = $2 AND trashed_at IS NOT NULL AND purge_started_at IS NULL",
    )
    .bind(now)
    .bind(id)
    .execute(tx)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Begins a purge: from now on the video is gone for everyone. False if one already began.
#[tracing::instrument(level = "debug", skip_all, fields(video = id))]
pub async fn mark_purging(tx: &mut AnyConnection, id: &str, now: i64) -> AppResult<bool> {
    let done = sqlx::query(
        "UPDATE videos SET purge_started_at = $1, trashed_at = COALESCE(trashed_at, $2)
         WHERE id = $3 AND purge_started_at IS NULL",
    )
    .bind(now)
    .bind(now)
    .bind(id)
    .execute(tx)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// The last step of a purge, once the files are gone: the row, and with it (by cascade) its
/// chunks, jobs, comments, downloads and share links.
#[tracing::instrument(level = "debug", skip_all, fields(video = id))]
pub async fn delete_purged(db: &Db, id: &str) -> AppResult<()> {
    sqlx::query("DELETE FROM videos WHERE id = $1 AND purge_started_at IS NOT NULL")
        .bind(id)
        .execute(db)
        .await?;
    Ok(())
}

/// Purges a crash interrupted.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn purges_begun(db: &Db) -> AppResult<Vec<String>> {
    Ok(
        sqlx::query_scalar("SELECT id FROM videos WHERE purge_started_at IS NOT NULL")
            .fetch_all(db)
            .await?,
    )
}

/// Trashed videos whose retention ended (trashed before `cutoff`), and not yet being purged.
/// With `owner`, only theirs.
#[tracing::instrument(level = "debug", skip_all, fields(cutoff = cutoff, owner = owner))]
pub async fn trashed_before(db: &Db, cutoff: i64, owner: Option<i64>) -> AppResult<Vec<String>> {
    Ok(sqlx::query_scalar(
        "SELECT id FROM videos
         WHERE trashed_at IS NOT NULL AND trashed_at < $1 AND purge_started_at IS NULL
           AND ($2 IS NULL OR owner_id = $3)",
    )
    .bind(cutoff)
    .bind(owner)
    .bind(owner)
    .fetch_all(db)
    .await?)
}

/// A trashed video as the trash view lists it.
#[derive(Debug, sqlx::FromRow)]
pub struct TrashedRow {
    pub id: String,
    pub status: String,
    pub size_bytes: i64,
    pub created_at: i64,
    pub title_sealed: Vec<u8>,
    pub wrapped_dek: Vec<u8>,
    pub owner: String,
    pub trashed_at: i64,
    pub trashed_by: Option<String>,
}

/// The trash of `owner`, or everyone's; most recently deleted first.
#[tracing::instrument(level = "debug", skip_all, fields(owner = owner))]
pub async fn list(db: &Db, owner: Option<i64>) -> AppResult<Vec<TrashedRow>> {
    Ok(sqlx::query_as(
        "SELECT v.id, v.status, v.size_bytes, v.created_at, v.title_sealed, v.wrapped_dek,
                u.username AS owner, v.trashed_at, b.username AS trashed_by
         FROM videos v JOIN users u ON u.id = v.owner_id
              LEFT JOIN users b ON b.id = v.trashed_by
         WHERE v.trashed_at IS NOT NULL AND v.purge_started_at IS NULL
           AND ($1 IS NULL OR v.owner_id = $2)
         ORDER BY v.trashed_at DESC, v.id DESC",
    )
    .bind(owner)
    .bind(owner)
    .fetch_all(db)
    .await?)
}

/// Every video of the trash with its owner (purging ones too: their bytes are still on disk).
#[tracing::instrument(level = "debug", skip_all)]
pub async fn trashed_ids(db: &Db) -> AppResult<Vec<(String, i64)>> {
    Ok(
        sqlx::query_as("SELECT id, size_bytes FROM videos WHERE trashed_at IS NOT NULL")
            .fetch_all(db)
            .await?,
    )
}

/// The user's videos, trashed or not (not those being purged).
#[tracing::instrument(level = "debug", skip_all, fields(owner = owner))]
pub async fn videos_of(db: &Db, owner: i64) -> AppResult<Vec<(String, Option<i64>)>> {
    Ok(sqlx::query_as(
        "SELECT id, trashed_at FROM videos WHERE owner_id = $1 AND purge_started_at IS NULL",
    )
    .bind(owner)
    .fetch_all(db)
    .await?)
}

/// Gives every video of `from` to `to`, in the caller's transaction; answers how many.
#[tracing::instrument(level = "debug", skip_all, fields(from = from, to = to))]
pub async fn give_videos(tx: &mut AnyConnection, from: i64, to: i64) -> AppResult<u64> {
    let done = sqlx::query("UPDATE videos SET owner_id = $1 WHERE owner_id = $2")
        .bind(to)
        .bind(from)
        .execute(tx)
        .await?;
    Ok(done.rows_affected())
}
