//! `GET /api/videos/{id}/original`: the sealed original, as stored, for members who decrypt in
//! their own browser or CLI. The server needs no key for this: it streams ciphertext. Supports a
//! single `Range`, so an interrupted download resumes and a client can fetch chunk by chunk.

use std::sync::Arc;

use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::Response;
use cloister_shared::api::VideoStatus;
use cloister_shared::VideoId;
use futures_util::stream;

use crate::accounts::CurrentUser;
use crate::error::{AppError, AppResult};
use crate::state::AppState;
use crate::storage::VideoStorage;

/// Read from storage this much at a time: memory per download stays flat whatever the file size.
const PIECE: u64 = 1024 * 1024;

pub async fn sealed_original(
    State(state): State<AppState>,
    CurrentUser(_user): CurrentUser,
    Path(raw_id): Path<String>,
    headers: HeaderMap,
) -> AppResult<Response> {
    let video = VideoId::parse(&raw_id)
        .map_err(|_| AppError::BadRequest("That is not a valid video id.".to_owned()))?;
    let status: Option<String> = sqlx::query_scalar("SELECT status FROM videos WHERE id = ?")
        .bind(video.to_string())
        .fetch_optional(&state.db)
        .await?;
    match status.as_deref().and_then(VideoStatus::parse) {
        None => return Err(AppError::NotFound("No such video.".to_owned())),
        Some(VideoStatus::Uploading) => {
            return Err(AppError::Conflict(
                "This video is still being uploaded.".to_owned(),
            ))
        }
        Some(_) => {}
    }
    let storage = state.storage.clone();
    let len = blocking(storage.clone(), move |s| s.original_len(&video)).await?;

    let range = match headers.get(header::RANGE).map(HeaderValue::to_str) {
        None => None,
        Some(Ok(raw)) => Some(single_range(raw, len)?),
        Some(Err(_)) => return Err(unsatisfiable(len)),
    };
    let (start, end, status) = match range {
        Some((start, end)) => (start, end, StatusCode::PARTIAL_CONTENT),
        None => (0, len, StatusCode::OK),
    };

    let pieces = stream::unfold(start, move |offset| {
        let storage = storage.clone();
        async move {
            if offset >= end {
                return None;
            }
            let want = (end - offset).min(PIECE) as usize;
            let read = blocking(storage, move |s| s.read_original(&video, offset, want)).await;
            match read {
                Ok(bytes) if !bytes.is_empty() => {
                    let next = offset + bytes.len() as u64;
                    Some((Ok::<_, std::io::Error>(bytes), next))
                }
                Ok(_) => Some((Err(std::io::Error::other("the original ended early")), end)),
                Err(err) => Some((Err(std::io::Error::other(err.to_string())), end)),
            }
        }
    });

    let mut response = Response::builder()
        .status(status)
        .header(header::CONTENT_TYPE, "application/octet-stream")
        .header(header::CONTENT_LENGTH, end - start)
        .header(header::ACCEPT_RANGES, "bytes")
        // Ciphertext of one video never changes once uploaded.
        .header(
            header::CACHE_CONTROL,
            "private, max-age=31536000, immutable",
        );
    if status == StatusCode::PARTIAL_CONTENT {
        response = response.header(
            header::CONTENT_RANGE,
            format!("bytes {start}-{}/{len}", end - 1),
        );
    }
    response
        .body(Body::from_stream(pieces))
        .map_err(|err| AppError::Internal(format!("building the download response: {err}")))
}

/// One satisfiable range as [start, end); several ranges are refused (no client needs them).
fn single_range(raw: &str, len: u64) -> AppResult<(u64, u64)> {
    let ranges = http_range_header::parse_range_header(raw)
        .and_then(|parsed| parsed.validate(len))
        .map_err(|_| unsatisfiable(len))?;
    match ranges.as_slice() {
        [range] => Ok((*range.start(), range.end() + 1)),
        _ => Err(unsatisfiable(len)),
    }
}

fn unsatisfiable(len: u64) -> AppError {
    AppError::RangeNotSatisfiable { len }
}

async fn blocking<T: Send + 'static>(
    storage: Arc<dyn VideoStorage>,
    work: impl FnOnce(&dyn VideoStorage) -> std::io::Result<T> + Send + 'static,
) -> AppResult<T> {
    tokio::task::spawn_blocking(move || work(storage.as_ref()))
        .await
        .map_err(|err| AppError::Internal(format!("storage task failed: {err}")))?
        .map_err(AppError::Io)
}
