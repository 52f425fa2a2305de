//! Members' share routes: `POST|GET /api/videos/{id}/shares`, `GET /api/shares` and
//! `DELETE /api/shares/{share}`.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::{delete, get};
use axum::Router;
use cloister_shared::api::shares::{CreateShareRequest, ShareId, ShareInfo, ShareList};

use super::domain;
use crate::accounts::{unix_now, CurrentUser};
use crate::error::{AppError, AppResult};
use crate::http::json::ApiJson;
use crate::state::AppState;
use crate::videos::published::parse_video_id;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/videos/{id}/shares", get(of_video).post(create))
        .route("/api/shares", get(mine))
        .route("/api/shares/{share}", delete(revoke))
}

/// A share id from a member's path.
fn parse_share_id(raw: &str) -> AppResult<ShareId> {
    ShareId::parse(raw).map_err(|_| {
        AppError::BadRequest(
            "That is not a share link id: ids are 32 lowercase hex digits.".to_owned(),
        )
    })
}

async fn create(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    Path(raw_id): Path<String>,
    body: Result<ApiJson<CreateShareRequest>, AppError>,
) -> AppResult<(StatusCode, ApiJson<ShareInfo>)> {
    let video = parse_video_id(&raw_id)?;
    let ApiJson(body) = body?;
    let created = domain::create(&state.db, &user, &video, &body, unix_now()).await?;
    Ok((StatusCode::CREATED, ApiJson(created)))
}

async fn of_video(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    Path(raw_id): Path<String>,
) -> AppResult<ApiJson<ShareList>> {
    let video = parse_video_id(&raw_id)?;
    let shares = domain::list_of_video(&state.db, &user, &video).await?;
    Ok(ApiJson(ShareList { shares }))
}

async fn mine(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
) -> AppResult<ApiJson<ShareList>> {
    let shares = domain::list_mine(&state.db, &user).await?;
    Ok(ApiJson(ShareList { shares }))
}

async fn revoke(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    Path(raw): Path<String>,
) -> AppResult<ApiJson<ShareInfo>> {
    let share = parse_share_id(&raw)?;
    domain::revoke(&state.db, &user, &share, unix_now())
        .await
        .map(ApiJson)
}
