//! `POST /api/videos/{id}/download` and `/api/downloads…`. Every route is the requester's own:
//! another member's download id answers "No such download.", like a wrong one.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::Router;
use cloister_shared::api::downloads::{
    is_download_id, DownloadInfo, DownloadList, DownloadState, StartDownloadRequest,
};
use cloister_shared::api::VideoStatus;
use cloister_shared::Dek;
use zeroize::Zeroizing;

use super::store::{self, DownloadRow, NewDownload};
use super::{dispatcher, file, name};
use crate::accounts::{unix_now, CurrentUser};
use crate::custody;
use crate::error::{AppError, AppResult};
use crate::http::json::ApiJson;
use crate::key_check::{self, KeyVerdict, SealedOriginal};
use crate::state::AppState;
use crate::videos::published::{find, parse_video_id};

/// Queued and ready downloads one member may have at once: enough for a few videos, not enough
/// to fill the queue for everyone else.
pub const MAX_UNFINISHED_PER_MEMBER: u64 = 5;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/videos/{id}/download", post(start))
        .route("/api/downloads", get(index))
        .route("/api/downloads/{id}", get(show))
        .route("/api/downloads/{id}/cancel", post(cancel))
        .route("/api/downloads/{id}/file", get(file::file))
}

pub(super) fn parse_download_id(raw: &str) -> AppResult<String> {
    if is_download_id(raw) {
        Ok(raw.to_owned())
    } else {
        Err(AppError::BadRequest(
            "That is not a download id: ids are 32 lowercase hex digits.".to_owned(),
        ))
    }
}

fn parse_dek(hex_dek: &str) -> AppResult<Dek> {
    let bytes = Zeroizing::new(hex::decode(hex_dek.trim()).unwrap_or_default());
    let array: [u8; 32] = bytes.as_slice().try_into().map_err(|_| {
        AppError::BadRequest("dek must be the video's key: 64 hex digits.".to_owned())
    })?;
    Ok(Dek::from_bytes(array))
}

/// Opens the original's first chunk with `dek` through the one key check: a wrong key is
/// refused now, not halfway through someone's download.
async fn check_key(
    state: &AppState,
    user_id: i64,
    original: SealedOriginal,
    dek: &Dek,
) -> AppResult<()> {
    match key_check::check(state, user_id, original, dek).await? {
        KeyVerdict::Opens => Ok(()),
        KeyVerdict::WrongKey => Err(AppError::BadRequest(
            "That key does not open this video. Check passphrase.".to_owned(),
        )),
    }
}

async fn info(state: &AppState, row: &DownloadRow) -> AppResult<DownloadInfo> {
    let position = if row.state()? == DownloadState::Queued {
        Some(store::queue_position(&state.db, row).await?)
    } else {
        None
    };
    row.info(position, name::of_row(state, row).await?)
}

/// Ready now, queued (when asked to), or 503 `download_busy` with the seed's message.
async fn start(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    Path(raw_id): Path<String>,
    body: Result<ApiJson<StartDownloadRequest>, AppError>,
) -> AppResult<(StatusCode, ApiJson<DownloadInfo>)> {
    let video = parse_video_id(&raw_id)?;
    let ApiJson(request) = body?;
    let found = find(&state.db, &user, video).await?;
    if found.status == VideoStatus::Uploading {
        return Err(AppError::Conflict(
            "This video is still being uploaded.".to_owned(),
        ));
    }
    if let Some(existing) = store::unfinished(&state.db, user.id, &video).await? {
        return Ok((StatusCode::OK, ApiJson(info(&state, &existing).await?)));
    }
    if store::unfinished_count(&state.db, user.id).await? >= MAX_UNFINISHED_PER_MEMBER {
        return Err(AppError::TooManyRequests {
            message: format!(
                "You already have {MAX_UNFINISHED_PER_MEMBER} downloads waiting or ready. \
                 Finish or cancel one first."
            ),
            retry_after_secs: 60,
        });
    }
    let dek = parse_dek(&request.dek)?;
    let (header, size) = store::original_record(&state.db, &video).await?;
    let original = SealedOriginal {
        video,
        header,
        size,
    };
    check_key(&state, user.id, original, &dek).await?;
    let wrapped = custody::wrap_dek(&state.server_key, &video, &dek)
        .map_err(|err| AppError::Internal(err.to_string()))?;
    // `request.file_name` is not kept: the name is read from the video when it is needed.
    let new = NewDownload {
        video: &video,
        user_id: user.id,
        wrapped_dek: &wrapped,
        size_bytes: size,
    };

    dispatcher::expire_stale(&state).await?;
    if dispatcher::gate_allows(&state).await? {
        let now = unix_now();
        let expires = now + dispatcher::link_secs(&state);
        let slots = state.config.limits.max_downloads;
        if let Some(row) = store::insert_ready(&state.db, &new, now, expires, slots).await? {
            tracing::info!(download = %row.id, video = %video, user = %user.username, "download ready");
            return Ok((StatusCode::CREATED, ApiJson(info(&state, &row).await?)));
        }
    }
    if !request.queue {
        return Err(AppError::DownloadBusy);
    }
    let row = store::insert_queued(&state.db, &new, unix_now()).await?;
    tracing::info!(download = %row.id, video = %video, user = %user.username, "download queued");
    state.downloads.wake();
    Ok((StatusCode::CREATED, ApiJson(info(&state, &row).await?)))
}

async fn index(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
) -> AppResult<ApiJson<DownloadList>> {
    let rows = store::list(&state.db, user.id, unix_now()).await?;
    let mut downloads = Vec::with_capacity(rows.len());
    for row in &rows {
        downloads.push(info(&state, row).await?);
    }
    Ok(ApiJson(DownloadList { downloads }))
}

async fn show(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    Path(raw): Path<String>,
) -> AppResult<ApiJson<DownloadInfo>> {
    let id = parse_download_id(&raw)?;
    let row = store::one(&state.db, &id, user.id).await?;
    info(&state, &row).await.map(ApiJson)
}

/// Cancels a queued or ready download of one's own; a transfer under way is cut off.
async fn cancel(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    Path(raw): Path<String>,
) -> AppResult<ApiJson<DownloadInfo>> {
    let id = parse_download_id(&raw)?;
    let row = store::one(&state.db, &id, user.id).await?;
    if !store::cancel(&state.db, &id, unix_now()).await? {
        return Err(AppError::Conflict(format!(
            "This download has already ended ({}).",
            row.state()?.as_str()
        )));
    }
    state.downloads.stop(&id);
    state.downloads.wake();
    let row = store::one(&state.db, &id, user.id).await?;
    info(&state, &row).await.map(ApiJson)
}
