//! `GET /api/videos/index`: every video the viewer can see, with its sealed title, description and
//! metadata, in one compact answer the browser decrypts and searches (docs/api.md, "Find"). The
//! server never sees the words: it only hands over what it stores sealed.

use crate::db::Db;
use cloister_shared::api::{IndexEntry, VideoIndex};

use super::list::RawRow;
use super::store::{self, IndexRow};
use crate::error::AppResult;

/// The index for `viewer_id`, newest upload first.
#[tracing::instrument(skip(pool))]
pub async fn index(pool: &Db, viewer_id: i64) -> AppResult<VideoIndex> {
    let rows = store::index_rows(pool, viewer_id).await?;
    let videos = rows.into_iter().map(entry).collect::<AppResult<Vec<_>>>()?;
    Ok(VideoIndex { videos })
}

/// One row as an entry, checked as the paged listing checks its rows.
fn entry(row: IndexRow) -> AppResult<IndexEntry> {
    let checked = RawRow {
        id: &row.id,
        status: &row.status,
        size_bytes: row.size_bytes,
        wrapped_dek: &row.wrapped_dek,
        duration_ms: row.duration_ms,
        rendition: row.rendition,
        has_thumb_file: row.thumb_path.is_some(),
    }
    .check()?;
    Ok(IndexEntry {
        video_id: checked.video_id,
        status: checked.status,
        owner: row.owner,
        created_at: row.created_at,
        size_bytes: checked.size_bytes,
        duration_ms: checked.duration_ms,
        wrapped_dek: checked.wrapped_dek,
        title_sealed: hex::encode(&row.title_sealed),
        description_sealed: row.description_sealed.map(hex::encode),
        metadata_sealed: row.metadata_sealed.map(hex::encode),
        has_thumb: checked.has_thumb,
        rendition: checked.rendition,
    })
}
