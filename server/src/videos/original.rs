//! `GET /api/videos/{id}/original`: the sealed original, as stored, for members who decrypt in
//! their own browser or CLI. The server needs no key for this: it streams ciphertext. Supports a
//! single `Range`, so an interrupted download resumes and a client can fetch chunk by chunk.

use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::response::Response;
use cloister_shared::api::VideoStatus;
use cloister_shared::StreamHeader;

use super::delivery::{blocking, respond, Caching, ETag, Source, StoredFile};
use super::published::{find_for, parse_video_id, Viewer};
use crate::accounts::CurrentUser;
use crate::error::{AppError, AppResult};
use crate::state::AppState;

pub async fn sealed_original(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    Path(raw_id): Path<String>,
    headers: HeaderMap,
) -> AppResult<Response> {
    let video = parse_video_id(&raw_id)?;
    original_of(&state, Viewer::Member(&user), video, &headers).await
}

/// The sealed original of `video` for `viewer` (the member route, and a share that allows saving).
pub(crate) async fn original_of(
    state: &AppState,
    viewer: Viewer<'_>,
    video: cloister_shared::VideoId,
    headers: &HeaderMap,
) -> AppResult<Response> {
    let found = find_for(&state.db, viewer, video).await?;
    if found.status == VideoStatus::Uploading {
        return Err(AppError::Conflict(
            "This video is still being uploaded.".to_owned(),
        ));
    }
    // The original's salt, from the header stored at upload: its bytes never change afterwards.
    let header = StreamHeader::parse(&found.original_header)
        .map_err(|err| AppError::Internal(format!("video {video} has a bad header: {err}")))?;
    let storage = state.storage.clone();
    let len = blocking(storage.clone(), move |s| {
        StoredFile::Original.len(s, &video)
    })
    .await?;
    let source = Source::Stored {
        storage,
        video,
        file: StoredFile::Original,
        len,
    };
    respond(
        headers,
        &ETag::from_salt(&header.salt),
        Caching::Immutable,
        source,
    )
}
