//! `GET /api/uploads/{id}` and `GET /api/uploads?fingerprint=…`: what a client needs to resume.

use crate::db::Db;
use cloister_shared::api::uploads::FINGERPRINT_LEN;
use cloister_shared::api::{UploadState, VideoStatus};
use cloister_shared::{VideoId, WrappedKey};

use super::{load_owned, received};
use crate::error::{AppError, AppResult};

/// The state of `user`'s upload `id`. A finished one reports every chunk as held.
pub async fn state(pool: &Db, user_id: i64, id: &VideoId) -> AppResult<UploadState> {
    let upload = load_owned(pool, user_id, id).await?;
    let received = if upload.status == VideoStatus::Uploading {
        received(pool, id).await?
    } else {
        (0..upload.chunk_count).collect()
    };
    let wrapped_dek = WrappedKey::from_bytes(&upload.wrapped_dek)
        .map_err(|_| AppError::Internal(format!("video {id} has a bad wrapped DEK")))?;
    Ok(UploadState {
        video_id: upload.id,
        size_bytes: upload.size_bytes,
        chunk_size: upload.chunk_size,
        chunk_count: upload.chunk_count,
        received,
        status: upload.status,
        stream_header: hex::encode(&upload.stream_header),
        wrapped_dek,
        resume_mac: resume_mac(pool, id).await?.map(hex::encode),
    })
}

/// The MAC the client made for this upload on create; `None` for rows from before it existed.
async fn resume_mac(pool: &Db, id: &VideoId) -> AppResult<Option<Vec<u8>>> {
    super::store::resume_mac(pool, id).await
}

/// `user`'s unfinished upload with this fingerprint (hex), if any.
pub async fn find_by_fingerprint(
    pool: &Db,
    user_id: i64,
    fingerprint_hex: &str,
) -> AppResult<UploadState> {
    let mut fingerprint = [0u8; FINGERPRINT_LEN];
    hex::decode_to_slice(fingerprint_hex, &mut fingerprint).map_err(|_| {
        AppError::BadRequest(format!(
            "fingerprint must be {} hex digits.",
            FINGERPRINT_LEN * 2
        ))
    })?;
    let id = super::store::open_upload_of(pool, user_id, &fingerprint).await?;
    let id = id.ok_or_else(|| {
        AppError::NotFound("You have no unfinished upload of this file.".to_owned())
    })?;
    let id = VideoId::parse(&id)
        .map_err(|_| AppError::Internal(format!("video row has a bad id {id:?}")))?;
    state(pool, user_id, &id).await
}
