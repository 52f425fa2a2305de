//! The upload domain's queries that span uploads and jobs.

use sqlx::SqlitePool;

use super::ACTIVE_JOBS;
use crate::error::AppResult;

/// Bytes that admitted videos will still write (docs/uploads.md, "Disk space"). A video in flight
/// counts twice its size, its sealed original and as much again for processing: an unfinished
/// upload holds that less what it has written, an unfinished job its working space.
pub async fn reserved_bytes(pool: &SqlitePool) -> AppResult<u64> {
    let reserved: i64 = sqlx::query_scalar(&format!(
        "SELECT
           COALESCE((SELECT SUM(MAX(0, 2 * v.size_bytes
                                   - COALESCE((SELECT SUM(c.sealed_len) FROM upload_chunks c
                                               WHERE c.video_id = v.id), 0)))
                     FROM videos v WHERE v.status = 'uploading'), 0)
         + COALESCE((SELECT SUM(size_bytes) FROM jobs WHERE {ACTIVE_JOBS}), 0)"
    ))
    .fetch_one(pool)
    .await?;
    Ok(u64::try_from(reserved).unwrap_or(0))
}
