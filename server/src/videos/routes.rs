//! `GET /api/videos`.

use axum::extract::rejection::QueryRejection;
use axum::extract::Path;
use axum::extract::{Query, State};
use axum::routing::get;
use axum::Router;
use cloister_shared::api::{VideoPage, VideoSummary};
use cloister_shared::VideoId;
use serde::Deserialize;

use super::list;
use crate::accounts::CurrentUser;
use crate::error::{AppError, AppResult};
use crate::http::json::ApiJson;
use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/videos", get(index))
        .route("/api/videos/{id}", get(show))
        .route(
            "/api/videos/{id}/original",
            get(super::original::sealed_original),
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
    let video = VideoId::parse(&raw_id)
        .map_err(|_| AppError::BadRequest("That is not a valid video id.".to_owned()))?;
    list::one(&state.db, user.id, &video).await.map(ApiJson)
}
