//! The upload domain's SQL: upload rows, their chunks, and the queries that span uploads and jobs.

use crate::db::Db;
use cloister_shared::VideoId;
use sqlx::AnyConnection;

/// Processing jobs not finished yet: queued, waiting for resources, or running.
const ACTIVE_JOBS: &str =
    "kind = 'process' AND status IN ('queued', 'waiting_resource', 'running')";
use crate::error::{AppError, AppResult};

/// Bytes that admitted videos will still write (docs/uploads.md, "Disk space"). A video in flight
/// counts twice its size, its sealed original and as much again for processing: an unfinished
/// upload holds that less what it has written, an unfinished job its working space.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn reserved_bytes(pool: &Db) -> AppResult<u64> {
    let reserved: i64 = sqlx::query_scalar(&format!(
        "SELECT CAST(
           COALESCE((SELECT SUM(CASE WHEN left_to_write > 0 THEN left_to_write ELSE 0 END)
                     FROM (SELECT 2 * v.size_bytes
                                  - COALESCE((SELECT SUM(c.sealed_len) FROM upload_chunks c
                                              WHERE c.video_id = v.id), 0) AS left_to_write
                           FROM videos v WHERE v.status = 'uploading') AS open_uploads), 0)
         + COALESCE((SELECT SUM(size_bytes) FROM jobs WHERE {ACTIVE_JOBS}), 0) AS BIGINT)"
    ))
    .fetch_one(pool)
    .await?;
    Ok(u64::try_from(reserved).unwrap_or(0))
}

/// Which videos a member sees in the library: finished ones, any member's, not in the trash (a
/// trashed video is never called a duplicate).
const LISTED: &str = "v.status <> 'uploading' AND v.trashed_at IS NULL";

/// One video with this content fingerprint: `(id, created_at, owner, sealed title, wrapped DEK)`.
pub type DuplicateRow = (String, i64, String, Vec<u8>, Vec<u8>);

/// Listed videos with this content fingerprint, oldest first, at most `limit`.
#[tracing::instrument(level = "debug", skip_all, fields(limit = limit))]
pub async fn videos_with_content(
    pool: &Db,
    fingerprint: &[u8],
    limit: u32,
) -> AppResult<Vec<DuplicateRow>> {
    let rows = sqlx::query_as(&format!(
        "SELECT v.id, v.created_at, u.username, v.title_sealed, v.wrapped_dek
         FROM videos v JOIN users u ON u.id = v.owner_id
         WHERE v.content_fingerprint = $1 AND {LISTED}
         ORDER BY v.created_at, v.id
         LIMIT $2"
    ))
    .bind(fingerprint)
    .bind(i64::from(limit))
    .fetch_all(pool)
    .await?;
    Ok(rows)
}

/// A new upload's `videos` row.
pub struct NewUpload<'a> {
    pub id: &'a VideoId,
    pub owner_id: i64,
    pub size_bytes: i64,
    /// The owner's quota: the row goes in only if everything they hold stays within it.
    pub quota_bytes: i64,
    pub now: i64,
    pub wrapped_dek: &'a [u8],
    pub title: &'a [u8],
    pub description: Option<&'a [u8]>,
    pub file_name: Option<&'a [u8]>,
    pub stream_header: &'a [u8],
    pub chunk_size: i64,
    pub chunk_count: i64,
    pub fingerprint: &'a [u8],
    pub resume_mac: Option<&'a [u8]>,
    pub content_fingerprint: Option<&'a [u8]>,
    /// The library key generation the client sealed under: the row goes in only if it is current.
    pub key_generation: i64,
}

/// Inserts the upload's row in the caller's transaction if the owner's quota holds it and its key
/// generation is current; false if not. The quota is checked inside the INSERT, and on PostgreSQL
/// the owner's row is locked first (`jobs::store::lock_owner`): otherwise two uploads' statements
/// could each count the other's row as absent and both squeeze under the quota.
#[tracing::instrument(level = "debug", skip_all, fields(video = %new.id, owner = new.owner_id, size = new.size_bytes, chunks = new.chunk_count))]
pub async fn insert_upload(conn: &mut AnyConnection, new: &NewUpload<'_>) -> AppResult<bool> {
    crate::jobs::store::lock_owner(conn, new.owner_id).await?;
    let inserted = sqlx::query(
        "INSERT INTO videos (id, owner_id, status, size_bytes, created_at, updated_at, wrapped_dek,
                             title_sealed, description_sealed, file_name_sealed, stream_header,
                             chunk_size, chunk_count, upload_fingerprint, upload_mac,
                             content_fingerprint, key_generation)
         SELECT $1, $2, 'uploading', $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16
         WHERE (SELECT COALESCE(SUM(size_bytes), 0) FROM videos WHERE owner_id = $17) + $18 <= $19
           AND $20 = COALESCE((SELECT key_generation FROM library WHERE id = 1), 1)",
    )
    .bind(new.id.to_string())
    .bind(new.owner_id)
    .bind(new.size_bytes)
    .bind(new.now)
    .bind(new.now)
    .bind(new.wrapped_dek)
    .bind(new.title)
    .bind(new.description)
    .bind(new.file_name)
    .bind(new.stream_header)
    .bind(new.chunk_size)
    .bind(new.chunk_count)
    .bind(new.fingerprint)
    .bind(new.resume_mac)
    .bind(new.content_fingerprint)
    .bind(new.key_generation)
    .bind(new.owner_id)
    .bind(new.size_bytes)
    .bind(new.quota_bytes)
    .bind(new.key_generation)
    .execute(&mut *conn)
    .await
    .map_err(|err| match err {
        sqlx::Error::Database(db) if db.is_unique_violation() => AppError::Conflict(
            "This upload exists already (same id, or an unfinished upload of the same file)."
                .to_owned(),
        ),
        other => other.into(),
    })?;
    Ok(inserted.rows_affected() == 1)
}

/// An upload's row: `(owner, status, size, chunk size, chunk count, stream header, wrapped DEK)`.
pub type UploadRow = (i64, String, i64, i64, i64, Vec<u8>, Vec<u8>);

#[tracing::instrument(level = "debug", skip_all, fields(video = %id))]
pub async fn upload_row(pool: &Db, id: &VideoId) -> AppResult<Option<UploadRow>> {
    Ok(sqlx::query_as(
        "SELECT owner_id, status, size_bytes, chunk_size, chunk_count, stream_header, wrapped_dek
         FROM videos WHERE id = $1",
    )
    .bind(id.to_string())
    .fetch_optional(pool)
    .await?)
}

/// Chunk indexes held for `id`, ascending.
#[tracing::instrument(level = "debug", skip_all, fields(video = %id))]
pub async fn chunk_indexes(pool: &Db, id: &VideoId) -> AppResult<Vec<i64>> {
    Ok(sqlx::query_scalar(
        "SELECT chunk_index FROM upload_chunks WHERE video_id = $1 ORDER BY chunk_index",
    )
    .bind(id.to_string())
    .fetch_all(pool)
    .await?)
}

#[tracing::instrument(level = "debug", skip_all)]
pub async fn active_jobs(pool: &Db) -> AppResult<i64> {
    Ok(
        sqlx::query_scalar(&format!("SELECT COUNT(*) FROM jobs WHERE {ACTIVE_JOBS}"))
            .fetch_one(pool)
            .await?,
    )
}

/// The MAC the client made for this upload on create; `None` for rows from before it existed.
#[tracing::instrument(level = "debug", skip_all, fields(video = %id))]
pub async fn resume_mac(pool: &Db, id: &VideoId) -> AppResult<Option<Vec<u8>>> {
    let mac: Option<Option<Vec<u8>>> =
        sqlx::query_scalar("SELECT upload_mac FROM videos WHERE id = $1")
            .bind(id.to_string())
            .fetch_optional(pool)
            .await?;
    Ok(mac.flatten())
}

/// The id of `owner`'s unfinished upload with this fingerprint, if any.
#[tracing::instrument(level = "debug", skip_all, fields(owner = owner))]
pub async fn open_upload_of(
    pool: &Db,
    owner: i64,
    fingerprint: &[u8],
) -> AppResult<Option<String>> {
    Ok(sqlx::query_scalar(
        "SELECT id FROM videos
         WHERE owner_id = $1 AND upload_fingerprint = $2 AND status = 'uploading'",
    )
    .bind(owner)
    .bind(fingerprint)
    .fetch_optional(pool)
    .await?)
}

#[tracing::instrument(level = "debug", skip_all, fields(video = %id))]
pub async fn video_exists(pool: &Db, id: &VideoId) -> AppResult<bool> {
    let taken: Option<i64> = sqlx::query_scalar("SELECT 1 FROM videos WHERE id = $1")
        .bind(id.to_string())
        .fetch_optional(pool)
        .await?;
    Ok(taken.is_some())
}

/// Bytes of every video `owner` holds, finished or not.
#[tracing::instrument(level = "debug", skip_all, fields(owner = owner))]
pub async fn used_bytes(pool: &Db, owner: i64) -> AppResult<i64> {
    Ok(sqlx::query_scalar(
        "SELECT CAST(COALESCE(SUM(size_bytes), 0) AS BIGINT) FROM videos WHERE owner_id = $1",
    )
    .bind(owner)
    .fetch_one(pool)
    .await?)
}

/// Removes an unfinished upload's row (its chunk rows go with it).
#[tracing::instrument(level = "debug", skip_all, fields(video = %id))]
pub async fn delete_upload(pool: &Db, id: &VideoId) -> AppResult<()> {
    sqlx::query("DELETE FROM videos WHERE id = $1 AND status = 'uploading'")
        .bind(id.to_string())
        .execute(pool)
        .await?;
    Ok(())
}

/// Records chunk `index` of `id` as held (again, if sent twice) and the upload as active now;
/// returns how many chunks it holds.
#[tracing::instrument(level = "debug", skip_all, fields(video = %id, chunk = index))]
pub async fn record_chunk(
    pool: &Db,
    id: &VideoId,
    index: i64,
    sealed_len: i64,
    now: i64,
) -> AppResult<i64> {
    let mut tx = pool.begin().await?;
    sqlx::query(
        "INSERT INTO upload_chunks (video_id, chunk_index, sealed_len, received_at)
         VALUES ($1, $2, $3, $4)
         ON CONFLICT (video_id, chunk_index) DO UPDATE SET received_at = excluded.received_at",
    )
    .bind(id.to_string())
    .bind(index)
    .bind(sealed_len)
    .bind(now)
    .execute(&mut *tx)
    .await?;
    // The abandoned-upload sweep measures quiet time from here.
    sqlx::query("UPDATE videos SET updated_at = $1 WHERE id = $2")
        .bind(now)
        .bind(id.to_string())
        .execute(&mut *tx)
        .await?;
    let received: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM upload_chunks WHERE video_id = $1")
            .bind(id.to_string())
            .fetch_one(&mut *tx)
            .await?;
    tx.commit().await?;
    Ok(received)
}

/// Unfinished uploads with no activity since `cutoff`.
#[tracing::instrument(level = "debug", skip_all, fields(cutoff = cutoff))]
pub async fn quiet_uploads(pool: &Db, cutoff: i64) -> AppResult<Vec<String>> {
    Ok(
        sqlx::query_scalar("SELECT id FROM videos WHERE status = 'uploading' AND updated_at < $1")
            .bind(cutoff)
            .fetch_all(pool)
            .await?,
    )
}

/// Whether `id` is still an unfinished upload with no activity since `cutoff`.
#[tracing::instrument(level = "debug", skip_all, fields(video = %id))]
pub async fn still_quiet(pool: &Db, id: &VideoId, cutoff: i64) -> AppResult<bool> {
    let still: Option<i64> = sqlx::query_scalar(
        "SELECT 1 FROM videos WHERE id = $1 AND status = 'uploading' AND updated_at < $2",
    )
    .bind(id.to_string())
    .bind(cutoff)
    .fetch_optional(pool)
    .await?;
    Ok(still.is_some())
}

/// The active queue's length, and how many of its jobs go before `job_id` (of `priority`).
#[tracing::instrument(level = "debug", skip_all, fields(job = job_id, priority = priority))]
pub async fn queue_figures(
    conn: &mut AnyConnection,
    job_id: i64,
    priority: i64,
) -> AppResult<(i64, i64)> {
    Ok(sqlx::query_as(&format!(
        "SELECT COUNT(*),
                CAST(COALESCE(SUM(CASE WHEN id <> $1 AND (status = 'running' OR priority > $2
                                                          OR (priority = $2 AND id < $1))
                                       THEN 1 ELSE 0 END), 0) AS BIGINT)
         FROM jobs WHERE {ACTIVE_JOBS}"
    ))
    .bind(job_id)
    .bind(priority)
    .fetch_one(conn)
    .await?)
}

/// The upload `id` is complete: `uploaded`, its fingerprint freed. False if it was not uploading.
#[tracing::instrument(level = "debug", skip_all, fields(video = %id))]
pub async fn mark_uploaded(conn: &mut AnyConnection, id: &VideoId, now: i64) -> AppResult<bool> {
    let updated = sqlx::query(
        "UPDATE videos SET status = 'uploaded', upload_fingerprint = NULL, updated_at = $1
         WHERE id = $2 AND status = 'uploading'",
    )
    .bind(now)
    .bind(id.to_string())
    .execute(conn)
    .await?;
    Ok(updated.rows_affected() == 1)
}

/// Forgets the upload's chunk rows and queues its processing job; returns the job's id.
#[tracing::instrument(level = "debug", skip_all, fields(video = %id, priority = priority, size = size_bytes))]
pub async fn queue_job(
    conn: &mut AnyConnection,
    id: &VideoId,
    priority: i64,
    now: i64,
    wrapped_server_dek: &[u8],
    size_bytes: i64,
) -> AppResult<i64> {
    sqlx::query("DELETE FROM upload_chunks WHERE video_id = $1")
        .bind(id.to_string())
        .execute(&mut *conn)
        .await?;
    Ok(sqlx::query_scalar(
        "INSERT INTO jobs (video_id, kind, status, priority, queued_at, wrapped_server_dek,
                           size_bytes)
         VALUES ($1, 'process', 'queued', $2, $3, $4, $5) RETURNING id",
    )
    .bind(id.to_string())
    .bind(priority)
    .bind(now)
    .bind(wrapped_server_dek)
    .bind(size_bytes)
    .fetch_one(conn)
    .await?)
}
