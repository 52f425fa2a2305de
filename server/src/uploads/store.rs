//! The upload domain's queries that span uploads and jobs.

use crate::db::Db;

use super::ACTIVE_JOBS;
use crate::error::AppResult;

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
