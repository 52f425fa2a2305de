//! `GET|POST /api/videos/{id}/comments` and `DELETE /api/videos/{id}/comments/{comment_id}`.

use std::sync::Arc;

use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::routing::{delete, get};
use axum::{Extension, Router};
use cloister_shared::api::comments::MAX_COMMENT_PAGE;
use cloister_shared::api::{CommentInfo, CommentPage, NewComment};
use serde::Deserialize;

use super::{parse_comment_id, parse_video_id, store, CommentLimiter};
use crate::accounts::CurrentUser;
use crate::error::{AppError, AppResult};
use crate::http::json::ApiJson;
use crate::state::AppState;

/// The routes, with a posting limiter that lives as long as this router (one per server).
pub fn router() -> Router<AppState> {
    Router::new()
        // `{id}` is spelled as in the other `/api/videos/{id}...` routes: the router requires it.
        .route("/api/videos/{id}/comments", get(list).post(post_comment))
        .route(
            "/api/videos/{id}/comments/{comment_id}",
            delete(delete_comment),
        )
        .layer(Extension(Arc::new(CommentLimiter::default())))
}

#[derive(Deserialize)]
struct PageQuery {
    limit: Option<u32>,
    cursor: Option<String>,
}

async fn list(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    Path(video): Path<String>,
    query: Result<Query<PageQuery>, QueryRejection>,
) -> AppResult<ApiJson<CommentPage>> {
    let video = parse_video_id(&video)?;
    let Query(query) = query.map_err(|_| {
        AppError::BadRequest(format!(
            "limit must be a number from 1 to {MAX_COMMENT_PAGE}."
        ))
    })?;
    store::page(
        &state.db,
        &user,
        &video,
        query.limit,
        query.cursor.as_deref(),
    )
    .await
    .map(ApiJson)
}

async fn post_comment(
    State(state): State<AppState>,
    Extension(limiter): Extension<Arc<CommentLimiter>>,
    CurrentUser(user): CurrentUser,
    Path(video): Path<String>,
    body: Result<ApiJson<NewComment>, AppError>,
) -> AppResult<(StatusCode, ApiJson<CommentInfo>)> {
    // The path is judged before the body.
    let video = parse_video_id(&video)?;
    let ApiJson(body) = body?;
    // A malformed body is refused before it spends any of the allowance.
    store::check_body(&body.body_sealed)?;
    limiter.check(user.id)?;
    let created = store::create(&state.db, &user, &video, &body).await?;
    Ok((StatusCode::CREATED, ApiJson(created)))
}

async fn delete_comment(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    Path((video, comment)): Path<(String, String)>,
) -> AppResult<StatusCode> {
    let video = parse_video_id(&video)?;
    let comment = parse_comment_id(&comment)?;
    store::delete(&state.db, &user, &video, &comment).await?;
    Ok(StatusCode::NO_CONTENT)
}
