//! `/api/uploads/*` (docs/api.md, docs/uploads.md).

use axum::body::Body;
use axum::extract::rejection::QueryRejection;
use axum::extract::{DefaultBodyLimit, Path, Query, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::routing::{get, post, put};
use axum::Router;
use cloister_shared::api::uploads::DuplicateList;
use cloister_shared::api::{
    ChunkStored, CompleteUploadRequest, CreateUploadRequest, UploadCompleted, UploadCreated,
    UploadState,
};
use cloister_shared::crypto::stream::{DEFAULT_CHUNK_SIZE, TAG_LEN};
use serde::Deserialize;

use super::{chunks, complete, create, duplicates, parse_id, space, status};
use crate::accounts::CurrentUser;
use crate::error::{AppError, AppResult};
use crate::http::json::ApiJson;
use crate::state::AppState;

/// A sealed chunk plus room for nothing much else: bodies past this are cut off by axum.
const CHUNK_BODY_LIMIT: usize = DEFAULT_CHUNK_SIZE as usize + TAG_LEN + 64 * 1024;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/uploads", get(find).post(create_upload))
        .route("/api/uploads/duplicates", get(duplicates_of))
        .route("/api/uploads/{id}", get(show).delete(abort))
        .route(
            "/api/uploads/{id}/chunks/{index}",
            put(put_chunk).layer(DefaultBodyLimit::max(CHUNK_BODY_LIMIT)),
        )
        .route("/api/uploads/{id}/complete", post(complete_upload))
}

async fn create_upload(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    ApiJson(body): ApiJson<CreateUploadRequest>,
) -> AppResult<(StatusCode, ApiJson<UploadCreated>)> {
    let created = create::create(&state, &user, &body)
        .await
        .map_err(space::refuse_if_disk_full)?;
    Ok((StatusCode::CREATED, ApiJson(created)))
}

#[derive(Deserialize)]
struct FindQuery {
    fingerprint: Option<String>,
}

async fn find(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    query: Result<Query<FindQuery>, QueryRejection>,
) -> AppResult<ApiJson<UploadState>> {
    let fingerprint = query
        .ok()
        .and_then(|Query(q)| q.fingerprint)
        .ok_or_else(|| {
            AppError::BadRequest("Say which upload: ?fingerprint=<64 hex digits>.".to_owned())
        })?;
    status::find_by_fingerprint(&state.db, user.id, &fingerprint)
        .await
        .map(ApiJson)
}

async fn duplicates_of(
    State(state): State<AppState>,
    CurrentUser(_user): CurrentUser,
    query: Result<Query<FindQuery>, QueryRejection>,
) -> AppResult<ApiJson<DuplicateList>> {
    let fingerprint = query
        .ok()
        .and_then(|Query(q)| q.fingerprint)
        .ok_or_else(|| {
            AppError::BadRequest("Say which content: ?fingerprint=<64 hex digits>.".to_owned())
        })?;
    duplicates::find(&state.db, &fingerprint).await.map(ApiJson)
}

async fn show(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    Path(id): Path<String>,
) -> AppResult<ApiJson<UploadState>> {
    let id = parse_id(&id)?;
    status::state(&state.db, user.id, &id).await.map(ApiJson)
}

fn content_length(headers: &HeaderMap) -> Option<u64> {
    headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse().ok())
}

async fn put_chunk(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    Path((id, index)): Path<(String, String)>,
    headers: HeaderMap,
    body: Body,
) -> AppResult<ApiJson<ChunkStored>> {
    let id = parse_id(&id)?;
    chunks::put_chunk(&state, &user, &id, &index, content_length(&headers), body)
        .await
        .map(ApiJson)
        .map_err(space::refuse_if_disk_full)
}

async fn complete_upload(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<CompleteUploadRequest>,
) -> AppResult<ApiJson<UploadCompleted>> {
    let id = parse_id(&id)?;
    complete::complete(&state, &user, &id, &body)
        .await
        .map(ApiJson)
        .map_err(space::refuse_if_disk_full)
}

async fn abort(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    Path(id): Path<String>,
) -> AppResult<StatusCode> {
    let id = parse_id(&id)?;
    complete::abort(&state, &user, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}
