//! `/share-target`: where a phone's share sheet posts videos (the web app manifest's
//! `share_target`). The service worker answers that POST itself and keeps the files in the browser;
//! this route only runs when no worker is active yet (e.g. the very first visit came from the share
//! sheet), and then sends the member to the Upload page with a message instead of an error
//! (docs/uploads.md, "From a phone"). It reads no body and stores nothing.

use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::Router;

use crate::state::AppState;

pub const PATH: &str = "/share-target";
/// The Upload page explains this case ("shared=unavailable").
pub const NO_WORKER_REDIRECT: &str = "/upload?shared=unavailable";

pub fn router() -> Router<AppState> {
    Router::new().route(PATH, post(no_worker).get(no_worker))
}

/// 303 See Other: the browser follows it with a GET, so a reload does not post the files again.
async fn no_worker() -> Response {
    (
        StatusCode::SEE_OTHER,
        [
            (header::LOCATION, NO_WORKER_REDIRECT),
            (header::CACHE_CONTROL, "no-store"),
        ],
    )
        .into_response()
}
