//! The `videos` table as members see it: the gallery's pages, one video, the file routes' lookup,
//! the find index (`GET /api/videos/index`) and the sealed metadata processing writes.

use crate::db::{Db, Flag};
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
#[tracing::instrument(level = "debug", skip_all, fields(user = viewer_id))]
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
#[tracing::instrument(level = "debug", skip_all, fields(video = %video))]
pub async fn save_metadata(pool: &Db, video: &VideoId, sealed: &[u8]) -> sqlx::Result<()> {
    sqlx::query("UPDATE videos SET metadata_sealed = $1 WHERE id = $2")
        .bind(sealed)
        .bind(video.to_string())
        .execute(pool)
        .await?;
    Ok(())
}

/// What the file routes need of a video: see `super::published::find_for`.
#[derive(sqlx::FromRow)]
pub struct FileRow {
    pub status: String,
    pub rendition: Option<String>,
    pub thumb_path: Option<String>,
    pub stream_header: Vec<u8>,
    pub trashed: Flag,
}

/// Video `id`, unless it is another member's unfinished upload (`member_id` is the viewer; a
/// share holder, `None`, sees no unfinished upload). Trashed ones too: the caller says so.
#[tracing::instrument(level = "debug", skip_all, fields(video = id, user = member_id))]
pub async fn file_row(db: &Db, id: &str, member_id: Option<i64>) -> sqlx::Result<Option<FileRow>> {
    sqlx::query_as(
        "SELECT status, rendition, thumb_path, stream_header, trashed_at IS NOT NULL AS trashed
         FROM videos
         WHERE id = $1 AND (status <> 'uploading' OR owner_id = $2)",
    )
    .bind(id)
    .bind(member_id)
    .fetch_optional(db)
    .await
}

/// The columns of a listed video (`super::list`).
#[derive(sqlx::FromRow)]
pub struct ListRow {
    pub id: String,
    pub status: String,
    pub size_bytes: i64,
    pub created_at: i64,
    pub title_sealed: Vec<u8>,
    pub wrapped_dek: Vec<u8>,
    pub owner: String,
    pub duration_ms: Option<i64>,
    pub thumb_path: Option<String>,
    pub rendition: Option<String>,
}

/// Listed videos, for the viewer bound as `$1`. Trashed videos are in no listing
/// (`crate::trash::NOT_TRASHED`).
const LIST_SELECT: &str = "SELECT v.id, v.status, v.size_bytes, v.created_at, v.title_sealed,
                                  v.wrapped_dek, u.username AS owner, v.duration_ms,
                                  v.thumb_path, v.rendition
                           FROM videos v JOIN users u ON u.id = v.owner_id
                           WHERE (v.status <> 'uploading' OR v.owner_id = $1)
                             AND v.trashed_at IS NULL";

/// The page query: binds viewer ($1, in `LIST_SELECT`), cursor `(created_at, id)`, snapshot
/// sequence number, limit. The cursor is a row value, not an `OR` of comparisons, so SQLite
/// seeks the `videos_page` index to it instead of scanning every newer row (the last of 2,000
/// pages: 8 ms → 0.4 ms, docs/benchmarks.md).
pub(crate) fn page_sql() -> String {
    format!(
        "{LIST_SELECT}
           AND (v.created_at, v.id) < ($2, $3)
           AND v.seq <= $4
         ORDER BY v.created_at DESC, v.id DESC
         LIMIT $5"
    )
}

/// The highest sequence number: a listing's snapshot.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn last_seq(db: &Db) -> sqlx::Result<i64> {
    sqlx::query_scalar("SELECT COALESCE(MAX(seq), 0) FROM videos")
        .fetch_one(db)
        .await
}

/// Up to `limit` videos `viewer_id` may see, below the cursor and within the snapshot, newest
/// first.
#[tracing::instrument(level = "debug", skip_all, fields(user = viewer_id, limit = limit))]
pub async fn page_rows(
    db: &Db,
    viewer_id: i64,
    (after_at, after_id): (i64, &str),
    snapshot: i64,
    limit: i64,
) -> sqlx::Result<Vec<ListRow>> {
    sqlx::query_as(&page_sql())
        .bind(viewer_id)
        .bind(after_at)
        .bind(after_id)
        .bind(snapshot)
        .bind(limit)
        .fetch_all(db)
        .await
}

/// Video `id` as the listing shows it to `viewer_id`.
#[tracing::instrument(level = "debug", skip_all, fields(user = viewer_id, video = id))]
pub async fn list_row(db: &Db, viewer_id: i64, id: &str) -> sqlx::Result<Option<ListRow>> {
    sqlx::query_as(&format!("{LIST_SELECT} AND v.id = $2"))
        .bind(viewer_id)
        .bind(id)
        .fetch_optional(db)
        .await
}

/// `(description, file name)`, each sealed and optional.
pub type SealedDetails = (Option<Vec<u8>>, Option<Vec<u8>>);

/// The sealed description and file name of video `id` (its own view shows them).
#[tracing::instrument(level = "debug", skip_all, fields(video = id))]
pub async fn details(db: &Db, id: &str) -> sqlx::Result<SealedDetails> {
    sqlx::query_as("SELECT description_sealed, file_name_sealed FROM videos WHERE id = $1")
        .bind(id)
        .fetch_one(db)
        .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_page_behind_a_cursor_seeks_the_index_instead_of_scanning() {
        let dir = tempfile::tempdir().expect("tempdir");
        let pool = crate::db::open(dir.path(), None).await.expect("db");
        let rows: Vec<(i64, i64, i64, String)> =
            sqlx::query_as(&format!("EXPLAIN QUERY PLAN {}", page_sql()))
                .bind(1)
                .bind(0)
                .bind("x")
                .bind(0)
                .bind(51)
                .fetch_all(&pool)
                .await
                .expect("plan");
        let details: Vec<String> = rows.into_iter().map(|r| r.3).collect();
        assert!(
            details
                .iter()
                .any(|d| d.starts_with("SEARCH v USING INDEX videos_page")),
            "{details:?}"
        );
    }
}
