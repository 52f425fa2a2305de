//! The routes a share link's holder reaches with the share id alone (no account, no cookie):
//! `GET /api/s/{share}` (the facts), `POST /api/s/{share}/views`, and the sealed files under
//! `/api/s/{share}/…`, served by the members' code (`videos::playback`, `videos::original`).
//! Each is rate-limited per client address first, then passes `domain::open`. An id that is
//! malformed, unknown, expired or withdrawn gets the same 410.

use std::sync::Arc;

use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
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

/// Spends one request of the address's allowance, then checks the share: the video it opens.
async fn admit(
    state: &AppState,
    limiter: &ShareLimiter,
    ClientIp(ip): ClientIp,
    raw_share: &str,
) -> AppResult<(ShareId, domain::OpenShare)> {
    limiter.check(ip)?;
    let share = ShareId::parse(raw_share).map_err(|_| domain::gone())?;
    let open = domain::open(&state.db, &share, unix_now()).await?;
    Ok((share, open))
}

async fn facts(
    State(state): State<AppState>,
    Extension(limiter): Extension<Arc<ShareLimiter>>,
    ip: ClientIp,
    Path(raw): Path<String>,
) -> AppResult<Response> {
    limiter.check(ip.0)?;
    let share = ShareId::parse(&raw).map_err(|_| domain::gone())?;
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
    Extension(limiter): Extension<Arc<ShareLimiter>>,
    ip: ClientIp,
    Path(raw): Path<String>,
) -> AppResult<StatusCode> {
    limiter.check(ip.0)?;
    let share = ShareId::parse(&raw).map_err(|_| domain::gone())?;
    domain::record_view(&state.db, &share, unix_now()).await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn manifest(
    State(state): State<AppState>,
    Extension(limiter): Extension<Arc<ShareLimiter>>,
    ip: ClientIp,
    Path(raw): Path<String>,
    pin: Result<Query<Pin>, QueryRejection>,
    headers: HeaderMap,
) -> AppResult<Response> {
    let (_, open) = admit(&state, &limiter, ip, &raw).await?;
    let object = StoredObject::Manifest;
    top_level(
        &state,
        Viewer::ShareHolder,
        open.video.id,
        pin,
        object,
        &headers,
    )
    .await
}

async fn thumb(
    State(state): State<AppState>,
    Extension(limiter): Extension<Arc<ShareLimiter>>,
    ip: ClientIp,
    Path(raw): Path<String>,
    pin: Result<Query<Pin>, QueryRejection>,
    headers: HeaderMap,
) -> AppResult<Response> {
    let (_, open) = admit(&state, &limiter, ip, &raw).await?;
    let object = StoredObject::Thumb;
    top_level(
        &state,
        Viewer::ShareHolder,
        open.video.id,
        pin,
        object,
        &headers,
    )
    .await
}

async fn init(
    State(state): State<AppState>,
    Extension(limiter): Extension<Arc<ShareLimiter>>,
    ip: ClientIp,
    Path((raw, rendition)): Path<(String, String)>,
    headers: HeaderMap,
) -> AppResult<Response> {
    let (_, open) = admit(&state, &limiter, ip, &raw).await?;
    init_of(
        &state,
        Viewer::ShareHolder,
        open.video.id,
        &rendition,
        &headers,
    )
    .await
}

async fn segment(
    State(state): State<AppState>,
    Extension(limiter): Extension<Arc<ShareLimiter>>,
    ip: ClientIp,
    Path((raw, rendition, index)): Path<(String, String, String)>,
    headers: HeaderMap,
) -> AppResult<Response> {
    let (_, open) = admit(&state, &limiter, ip, &raw).await?;
    let video = open.video.id;
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
    Extension(limiter): Extension<Arc<ShareLimiter>>,
    ip: ClientIp,
    Path(raw): Path<String>,
    headers: HeaderMap,
) -> AppResult<Response> {
    let (_, open) = admit(&state, &limiter, ip, &raw).await?;
    if !open.share.allow_download {
        return Err(AppError::Forbidden(
            "Whoever shared this video did not allow saving it.".to_owned(),
        ));
    }
    // Only a ready video is served whole to a share holder.
    open.video.playable()?;
    original_of(&state, Viewer::ShareHolder, open.video.id, &headers).await
}
