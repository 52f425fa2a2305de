//! `GET /api/videos/index`: every video the viewer can see, with its sealed title, description and
//! metadata, in one compact answer the browser decrypts and searches (docs/api.md, "Find"). The
//! server never sees the words: it only hands over what it stores sealed.

use cloister_shared::api::{IndexEntry, VideoIndex, VideoStatus};
use cloister_shared::{VideoId, WrappedKey};
use sqlx::SqlitePool;

use super::store::{self, IndexRow};
use crate::error::{AppError, AppResult};

/// The index for `viewer_id`, newest upload first.
#[tracing::instrument(skip(pool))]
pub async fn index(pool: &SqlitePool, viewer_id: i64) -> AppResult<VideoIndex> {
    let rows = store::index_rows(pool, viewer_id).await?;
    let videos = rows.into_iter().map(entry).collect::<AppResult<Vec<_>>>()?;
    Ok(VideoIndex { videos })
}

/// One row as an entry. What describes the playable video (duration, rendition, thumbnail) is
/// given only for a `ready` one, as in the paged listing.
fn entry(row: IndexRow) -> AppResult<IndexEntry> {
    let id = &row.id;
    let corrupt = |what: &str| AppError::Internal(format!("video {id} has a bad {what}"));
    let status = VideoStatus::parse(&row.status).ok_or_else(|| corrupt("status"))?;
    let ready = status == VideoStatus::Ready;
    let rendition = match row.rendition.filter(|_| ready) {
        Some(r) if cloister_shared::manifest::is_rendition_id(&r) => Some(r),
        Some(_) => return Err(corrupt("rendition")),
        None => None,
    };
    Ok(IndexEntry {
        video_id: VideoId::parse(id).map_err(|_| corrupt("id"))?,
        status,
        owner: row.owner,
        created_at: row.created_at,
        size_bytes: u64::try_from(row.size_bytes).map_err(|_| corrupt("size"))?,
        duration_ms: row
            .duration_ms
            .filter(|_| ready)
            .map(|ms| u64::try_from(ms).map_err(|_| corrupt("duration")))
            .transpose()?,
        wrapped_dek: WrappedKey::from_bytes(&row.wrapped_dek)
            .map_err(|_| corrupt("wrapped DEK"))?,
        title_sealed: hex::encode(&row.title_sealed),
        description_sealed: row.description_sealed.map(hex::encode),
        metadata_sealed: row.metadata_sealed.map(hex::encode),
        has_thumb: ready && row.thumb_path.is_some(),
        rendition,
    })
}
