//! `GET /api/uploads/duplicates?fingerprint=…`: "is there a video with this content?" The
//! fingerprint is a keyed PRF the browser made under the library key (docs/format.md, "Content
//! fingerprint"): the server compares it for equality and learns nothing else.

use crate::db::Db;
use cloister_shared::api::uploads::{DuplicateList, DuplicateVideo, MAX_DUPLICATES_LISTED};
use cloister_shared::{VideoId, WrappedKey};

use super::create::fingerprint_bytes;
use super::store;
use crate::error::{AppError, AppResult};

/// The listed videos (any member's, finished, not trashed) whose content fingerprint is `hex`.
#[tracing::instrument(skip_all)]
pub async fn find(pool: &Db, hex: &str) -> AppResult<DuplicateList> {
    let fingerprint = fingerprint_bytes("fingerprint", hex)?;
    let rows = store::videos_with_content(pool, &fingerprint, MAX_DUPLICATES_LISTED).await?;
    let videos = rows
        .into_iter()
        .map(|(id, created_at, owner, title, wrapped)| {
            let corrupt = |what: &str| AppError::Internal(format!("video {id} has a bad {what}"));
            Ok(DuplicateVideo {
                video_id: VideoId::parse(&id).map_err(|_| corrupt("id"))?,
                created_at,
                owner,
                title_sealed: hex::encode(title),
                wrapped_dek: WrappedKey::from_bytes(&wrapped)
                    .map_err(|_| corrupt("wrapped DEK"))?,
            })
        })
        .collect::<AppResult<Vec<_>>>()?;
    Ok(DuplicateList { videos })
}
