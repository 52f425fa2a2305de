//! `GET /api/videos`, one video, and its sealed files.

use axum::extract::rejection::QueryRejection;
use axum::extract::Path;
use axum::extract::{Query, State};
use axum::routing::get;
use axum::Router;
use cloister_shared::api::{VideoIndex, VideoPage, VideoSummary};
use serde::Deserialize;

use super::{list, original, playback};
use crate::accounts::CurrentUser;
use crate::error::{AppError, AppResult};
use crate::http::json::ApiJson;
use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/videos", get(index))
        .route("/api/videos/index", get(find_index))
        .route("/api/videos/{id}", get(show).patch(super::edit::patch))
        .route("/api/videos/{id}/original", get(original::sealed_original))
        .route("/api/videos/{id}/manifest", get(playback::manifest))
        .route("/api/videos/{id}/thumb", get(playback::thumb))
        .route(
            "/api/videos/{id}/renditions/{rendition}/init",
            get(playback::init),
        )
        .route(
            "/api/videos/{id}/renditions/{rendition}/segments/{index}",
            get(playback::segment),
        )
}

#[derive(Deserialize)]
struct PageQuery {
    limit: Option<u32>,
    cursor: Option<String>,
}

async fn index(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    query: Result<Query<PageQuery>, QueryRejection>,
) -> AppResult<ApiJson<VideoPage>> {
    let Query(query) = query
        .map_err(|_| AppError::BadRequest("limit must be a number from 1 to 200.".to_owned()))?;
    list::page(&state.db, user.id, query.limit, query.cursor.as_deref())
        .await
        .map(ApiJson)
}

async fn show(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    Path(raw_id): Path<String>,
) -> AppResult<ApiJson<VideoSummary>> {
    let video = super::published::parse_video_id(&raw_id)?;
    list::one(&state.db, user.id, &video).await.map(ApiJson)
}

/// `GET /api/videos/index`: every visible video, sealed, for the browser's search (docs/api.md).
async fn find_index(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
) -> AppResult<ApiJson<VideoIndex>> {
    super::index::index(&state.db, user.id).await.map(ApiJson)
}
