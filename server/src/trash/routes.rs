//! The trash's HTTP routes (docs/api.md, "Trash").

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::Router;
use cloister_shared::api::trash::{Purged, TrashList, TrashState};

use super::{domain, purge};
use crate::accounts::{AdminUser, CurrentUser};
use crate::error::AppResult;
use crate::http::json::ApiJson;
use crate::state::AppState;
use crate::videos::published::parse_video_id;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/videos/{id}/trash", post(move_to_trash))
        .route("/api/videos/{id}/restore", post(restore))
        .route("/api/videos/{id}", axum::routing::delete(purge_one))
        .route("/api/trash", get(list))
        .route("/api/admin/trash/empty", post(empty))
}

async fn move_to_trash(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    Path(raw): Path<String>,
) -> AppResult<ApiJson<TrashState>> {
    let id = parse_video_id(&raw)?;
    domain::move_to_trash(&state, &user, &id).await.map(ApiJson)
}

async fn restore(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    Path(raw): Path<String>,
) -> AppResult<ApiJson<TrashState>> {
    let id = parse_video_id(&raw)?;
    domain::restore(&state, &user, &id).await.map(ApiJson)
}

async fn purge_one(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    Path(raw): Path<String>,
) -> AppResult<StatusCode> {
    let id = parse_video_id(&raw)?;
    domain::purge_one(&state, &user, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn list(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
) -> AppResult<ApiJson<TrashList>> {
    domain::list(&state, &user).await.map(ApiJson)
}

async fn empty(
    State(state): State<AppState>,
    AdminUser(admin): AdminUser,
) -> AppResult<ApiJson<Purged>> {
    let purged = purge::empty(&state, None).await?;
    tracing::info!(by = %admin.username, videos = purged, "trash emptied");
    Ok(ApiJson(Purged { purged }))
}
