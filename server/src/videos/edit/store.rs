//! The edit's queries: who owns a video a member can see, and the swap of its sealed texts.

use crate::db::Db;
use sqlx::AnyConnection;

use crate::error::AppResult;

/// What the edit needs of a video the viewer can see: its owner and its current sealed texts.
pub struct Editable {
    pub owner_id: i64,
    pub title_sealed: Vec<u8>,
    pub description_sealed: Option<Vec<u8>>,
}

/// A video `viewer_id` can see: any finished one, and their own unfinished uploads; not one in the
/// trash (restore it first).
const VISIBLE: &str = "(status <> 'uploading' OR owner_id = $2) AND trashed_at IS NULL";

#[tracing::instrument(level = "debug", skip_all, fields(user = viewer_id, video = video))]
pub async fn load_visible(pool: &Db, viewer_id: i64, video: &str) -> AppResult<Option<Editable>> {
    let row: Option<(i64, Vec<u8>, Option<Vec<u8>>)> = sqlx::query_as(&format!(
        "SELECT owner_id, title_sealed, description_sealed FROM videos WHERE id = $1 AND {VISIBLE}"
    ))
    .bind(video)
    .bind(viewer_id)
    .fetch_optional(pool)
    .await?;
    Ok(
        row.map(|(owner_id, title_sealed, description_sealed)| Editable {
            owner_id,
            title_sealed,
            description_sealed,
        }),
    )
}

/// Swaps both sealed texts in one statement, if the video is still visible and still the
/// `owner_id`'s (checked by the caller against the viewer). Returns whether a row changed.
#[tracing::instrument(level = "debug", skip_all, fields(video = video, owner = owner_id))]
pub async fn swap_texts(
    conn: &mut AnyConnection,
    video: &str,
    owner_id: i64,
    title: &[u8],
    description: Option<&[u8]>,
    now: i64,
) -> AppResult<bool> {
    let done = sqlx::query(
        "UPDATE videos SET title_sealed = $1, description_sealed = $2, updated_at = $3
         WHERE id = $4 AND owner_id = $5",
    )
    .bind(title)
    .bind(description)
    .bind(now)
    .bind(video)
    .bind(owner_id)
    .execute(conn)
    .await?;
    Ok(done.rows_affected() == 1)
}
