//! SQL for the find index (`GET /api/videos/index`) and the sealed metadata processing writes.

use crate::db::Db;
use cloister_shared::VideoId;

/// The videos a viewer (bound as the one parameter) may see: everything but other members'
/// unfinished uploads and the trash (`crate::trash::NOT_TRASHED`). The one place the index's
/// visibility is decided (docs/api.md, "Find").
const VISIBLE: &str = "(v.status <> 'uploading' OR v.owner_id = $1) AND v.trashed_at IS NULL";

/// The columns of one index entry, as stored.
#[derive(sqlx::FromRow)]
pub struct IndexRow {
    pub id: String,
    pub status: String,
    pub owner: String,
    pub created_at: i64,
    pub size_bytes: i64,
    pub duration_ms: Option<i64>,
    pub wrapped_dek: Vec<u8>,
    pub title_sealed: Vec<u8>,
    pub description_sealed: Option<Vec<u8>>,
    pub metadata_sealed: Option<Vec<u8>>,
    pub rendition: Option<String>,
    pub thumb_path: Option<String>,
}

/// Every video `viewer_id` may see, newest upload first.
#[tracing::instrument(skip(pool))]
pub async fn index_rows(pool: &Db, viewer_id: i64) -> sqlx::Result<Vec<IndexRow>> {
    sqlx::query_as(&format!(
        "SELECT v.id, v.status, u.username AS owner, v.created_at, v.size_bytes, v.duration_ms,
                v.wrapped_dek, v.title_sealed, v.description_sealed, v.metadata_sealed,
                v.rendition, v.thumb_path
         FROM videos v JOIN users u ON u.id = v.owner_id
         WHERE {VISIBLE}
         ORDER BY v.created_at DESC, v.id DESC"
    ))
    .bind(viewer_id)
    .fetch_all(pool)
    .await
}

/// Stores the sealed metadata processing made for `video` (a later attempt replaces it).
#[tracing::instrument(skip(pool, sealed))]
pub async fn save_metadata(pool: &Db, video: &VideoId, sealed: &[u8]) -> sqlx::Result<()> {
    sqlx::query("UPDATE videos SET metadata_sealed = $1 WHERE id = $2")
        .bind(sealed)
        .bind(video.to_string())
        .execute(pool)
        .await?;
    Ok(())
}
