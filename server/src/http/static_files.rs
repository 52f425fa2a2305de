//! The built site (`/pkg/…`, `/favicon.png`, and whatever else `public/` holds): served from the
//! `.br`/`.gz` copies `cloister compress-site` wrote at build time when the browser accepts them,
//! cached for a year when the name carries a content hash, revalidated on every visit otherwise
//! (docs/decisions.md, "The first visit").

use std::path::Path;

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{header, HeaderValue, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use tower::ServiceExt;
use tower_http::services::ServeDir;

use crate::state::AppState;

/// For names with a content hash: a new build has new names, so a copy never goes stale.
pub const IMMUTABLE: &str = "public, max-age=31536000, immutable";
/// For pages and files whose name stays the same across builds: ask the server each time (a
/// `304 Not Modified` costs a round trip, not the file).
pub const REVALIDATE: &str = "no-cache";

/// A bodiless copy of the request: the files service needs the method, path and headers
/// (Accept-Encoding, Range, If-Modified-Since) only. Only GET and HEAD read files.
fn probe_of(request: &Request) -> Option<Request> {
    if request.method() != Method::GET && request.method() != Method::HEAD {
        return None;
    }
    let mut probe = Request::builder()
        .method(request.method().clone())
        .uri(request.uri().clone())
        .body(Body::empty())
        .ok()?;
    *probe.headers_mut() = request.headers().clone();
    Some(probe)
}

/// The static file at the probe's path, or `None` when there is none (the caller renders the
/// "Page not found" page then).
async fn serve_probe(site_root: &str, probe: Request) -> Option<Response> {
    let path = probe.uri().path().to_owned();
    let files = ServeDir::new(site_root)
        .precompressed_br()
        .precompressed_gzip()
        // A directory is not a file: `/pkg/` must not turn into `/pkg/index.html`.
        .append_index_html_on_directories(false);
    let response = match files.oneshot(probe).await {
        Ok(response) => response,
        Err(never) => match never {},
    };
    if response.status() == StatusCode::NOT_FOUND
        || response.status() == StatusCode::METHOD_NOT_ALLOWED
    {
        return None;
    }
    let mut response = response.map(Body::new).into_response();
    let headers = response.headers_mut();
    let caching = if is_hashed_name(&path) {
        IMMUTABLE
    } else {
        REVALIDATE
    };
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static(caching));
    // The same URL answers in Brotli, gzip or plain: caches must keep them apart.
    headers.append(header::VARY, HeaderValue::from_static("accept-encoding"));
    Some(response)
}

/// Whether the file name carries a content hash the way cargo-leptos writes it with
/// `hash-files`: `cloister.<22 base64url characters of an MD5>.wasm`.
pub fn is_hashed_name(path: &str) -> bool {
    let Some(name) = Path::new(path).file_name().and_then(|name| name.to_str()) else {
        return false;
    };
    let parts: Vec<&str> = name.split('.').collect();
    parts.len() >= 3
        && parts[1..parts.len() - 1].iter().any(|part| {
            part.len() == 22
                && part
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        })
}

/// Pages are rendered per request and name the hashed files of the current build: always
/// revalidated. Run by Leptos before it renders a page.
pub fn set_page_caching() {
    if let Some(response) = leptos::prelude::use_context::<leptos_axum::ResponseOptions>() {
        response.insert_header(header::CACHE_CONTROL, HeaderValue::from_static(REVALIDATE));
    }
}

/// Whether the site was built with hashed names: cargo-leptos then writes `hash.txt` beside the
/// server binary, and Leptos reads it to name the files in each page (and panics without it, so
/// hashing is only switched on when the file is there).
pub fn hash_file_beside_binary() -> bool {
    std::env::current_exe()
        .ok()
        .and_then(|exe| exe.parent().map(|dir| dir.join("hash.txt")))
        .is_some_and(|file| file.is_file())
}

/// The router's fallback: a static file if there is one, else the app's "Page not found" page.
pub async fn fallback_handler(State(state): State<AppState>, request: Request) -> Response {
    if let Some(probe) = probe_of(&request) {
        if let Some(response) = serve_probe(&state.leptos.site_root, probe).await {
            return response;
        }
    }
    not_found_page(state, request).await
}

async fn not_found_page(state: AppState, request: Request) -> Response {
    let request = crate::http::page_session::with_session(&state, request).await;
    let accounts = state.config.accounts.clone();
    let context = move || crate::http::page_context(&accounts);
    let handler = leptos_axum::file_and_error_handler_with_context::<AppState, _>(
        context,
        cloister_app::shell,
    );
    let uri = request.uri().clone();
    handler(uri, State(state), request).await
}

/// `303 See Other` to the same page: the body of a form posted before hydration is dropped unread.
pub async fn same_page(uri: axum::http::Uri) -> axum::response::Redirect {
    let target = uri
        .path_and_query()
        .map_or_else(|| uri.path().to_owned(), |pq| pq.as_str().to_owned());
    axum::response::Redirect::to(&target)
}
