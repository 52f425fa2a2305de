//! The upload domain's queries that span uploads and jobs.

use crate::db::Db;
use cloister_shared::VideoId;
use sqlx::AnyConnection;

use super::ACTIVE_JOBS;
use crate::error::{AppError, AppResult};

/// Bytes that admitted videos will still write (docs/uploads.md, "Disk space"). A video in flight
/// counts twice its size, its sealed original and as much again for processing: an unfinished
/// upload holds that less what it has written, an unfinished job its working space.
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
