//! The routes a share link's holder reaches with the share id alone (no account, no cookie):
//! `GET /api/s/{share}` (the facts), `POST /api/s/{share}/views`, and the sealed files under
//! `/api/s/{share}/…`, served by the members' code (`videos::playback`, `videos::original`).
//! Each is rate-limited per client address first, then passes `domain::open`. An id that is
//! malformed, unknown, expired or withdrawn gets the same 410.

use std::collections::HashMap;
use std::sync::Arc;

use axum::extract::rejection::QueryRejection;
use axum::extract::{FromRequestParts, Path, Query, State};
use axum::http::request::Parts;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Extension, Router};
use cloister_shared::api::shares::ShareId;

use super::domain;
use super::limiter::ShareLimiter;
use crate::accounts::unix_now;
use crate::error::{AppError, AppResult};
use crate::http::json::ApiJson;
use crate::http::request_info::ClientIp;
use crate::state::AppState;
use crate::storage::StoredObject;
use crate::videos::original::original_of;
use crate::videos::playback::{init_of, segment_of, top_level, Pin};
use crate::videos::published::Viewer;

/// The routes, with a limiter that lives as long as this router (one per server).
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/s/{share}", get(facts))
        .route("/api/s/{share}/views", post(view))
        .route("/api/s/{share}/manifest", get(manifest))
        .route("/api/s/{share}/thumb", get(thumb))
        .route("/api/s/{share}/renditions/{rendition}/init", get(init))
        .route(
            "/api/s/{share}/renditions/{rendition}/segments/{index}",
            get(segment),
        )
        .route("/api/s/{share}/original", get(original))
        .layer(Extension(Arc::new(ShareLimiter::default())))
}

/// A request that spent one of its address's allowance and names a well-formed share id (the
/// route's `{share}`); a malformed id is the same 410 as a dead one.
struct ShareRequest(ShareId);

impl FromRequestParts<AppState> for ShareRequest {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, AppError> {
        let ClientIp(ip) = ClientIp::from_request_parts(parts, state).await?;
        let limiter = parts
            .extensions
            .get::<Arc<ShareLimiter>>()
            .ok_or_else(|| AppError::Internal("the share routes have no limiter".to_owned()))?;
        limiter.check(ip)?;
        let Path(params) = Path::<HashMap<String, String>>::from_request_parts(parts, state)
            .await
            .map_err(|_| domain::gone())?;
        let raw = params.get("share").ok_or_else(domain::gone)?;
        ShareId::parse(raw).map(Self).map_err(|_| domain::gone())
    }
}

impl ShareRequest {
    /// The live share and the video it opens, or 410.
    async fn open(&self, state: &AppState) -> AppResult<domain::OpenShare> {
        domain::open(&state.db, &self.0, unix_now()).await
    }
}

async fn facts(
    State(state): State<AppState>,
    ShareRequest(share): ShareRequest,
) -> AppResult<Response> {
    let facts = domain::facts(&state.db, &share, unix_now()).await?;
    let mut response = ApiJson(facts).into_response();
    // Asked afresh on every opening: a withdrawn link must say so at once.
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(response)
}

async fn view(
    State(state): State<AppState>,
    ShareRequest(share): ShareRequest,
) -> AppResult<StatusCode> {
    domain::record_view(&state.db, &share, unix_now()).await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn manifest(
    State(state): State<AppState>,
    share: ShareRequest,
    pin: Result<Query<Pin>, QueryRejection>,
    headers: HeaderMap,
) -> AppResult<Response> {
    let video = share.open(&state).await?.video.id;
    top_level(
        &state,
        Viewer::ShareHolder,
        video,
        pin,
        StoredObject::Manifest,
        &headers,
    )
    .await
}

async fn thumb(
    State(state): State<AppState>,
    share: ShareRequest,
    pin: Result<Query<Pin>, QueryRejection>,
    headers: HeaderMap,
) -> AppResult<Response> {
    let video = share.open(&state).await?.video.id;
    top_level(
        &state,
        Viewer::ShareHolder,
        video,
        pin,
        StoredObject::Thumb,
        &headers,
    )
    .await
}

async fn init(
    State(state): State<AppState>,
    share: ShareRequest,
    Path((_, rendition)): Path<(String, String)>,
    headers: HeaderMap,
) -> AppResult<Response> {
    let video = share.open(&state).await?.video.id;
    init_of(&state, Viewer::ShareHolder, video, &rendition, &headers).await
}

async fn segment(
    State(state): State<AppState>,
    share: ShareRequest,
    Path((_, rendition, index)): Path<(String, String, String)>,
    headers: HeaderMap,
) -> AppResult<Response> {
    let video = share.open(&state).await?.video.id;
    segment_of(
        &state,
        Viewer::ShareHolder,
        video,
        (&rendition, &index),
        &headers,
    )
    .await
}

async fn original(
    State(state): State<AppState>,
    share: ShareRequest,
    headers: HeaderMap,
) -> AppResult<Response> {
    let open = share.open(&state).await?;
    if !open.share.allow_download.0 {
        return Err(AppError::Forbidden(
            "Whoever shared this video did not allow saving it.".to_owned(),
        ));
    }
    // Only a ready video is served whole to a share holder.
    open.video.playable()?;
    original_of(&state, Viewer::ShareHolder, open.video.id, &headers).await
}
