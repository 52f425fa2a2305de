#![recursion_limit = "256"]
//! The Cloister server as a library: `router` builds the whole HTTP surface from an `AppState`, so
//! tests drive it in process and `main` only parses the command line.

pub mod accounts;
pub mod admin;
pub mod cli;
pub mod client;
pub mod comments;
pub mod config;
pub mod custody;
pub mod data_dir;
pub mod db;
pub mod downloads;
pub mod error;
pub mod events;
pub mod gate;
pub mod health;
pub mod http;
pub mod jobs;
pub mod key_check;
pub mod library;
pub mod media;
pub mod member_limiter;
pub mod share_target;
pub mod shares;
pub mod state;
pub mod storage;
pub mod tools;
pub mod trash;
pub mod uploads;
pub mod videos;

use std::time::Duration;

use axum::Router;
use cloister_app::{shell, App};
use leptos_axum::{generate_route_list, LeptosRoutes};
use tower_http::timeout::RequestBodyTimeoutLayer;
use tower_http::trace::TraceLayer;

pub use crate::state::AppState;

async fn api_not_found() -> error::AppError {
    error::AppError::NotFound("There is no such API endpoint.".to_owned())
}

/// Every route: the JSON API under `/api`, the Leptos pages, and the built assets.
pub fn router(state: AppState) -> Router {
    let routes = generate_route_list(App);
    let leptos_options = state.leptos.clone();
    let api = Router::new()
        .merge(health::router())
        .merge(accounts::router())
        .merge(accounts::setup::router())
        .merge(library::router())
        .merge(uploads::router())
        .merge(videos::router())
        .merge(trash::router())
        .merge(shares::router())
        .merge(comments::router())
        .merge(jobs::router())
        .merge(downloads::router())
        .merge(admin::router(&state))
        // Unknown API paths answer JSON, not the app's HTML 404 page.
        .route("/api/{*rest}", axum::routing::any(api_not_found))
        // Every mutating API request must prove it is not a cross-site forgery.
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            http::csrf::guard,
        ));
    // Large JSON answers travel compressed (never media, downloads or the live events).
    let api = api.layer(http::compression::json_layer());
    // Each page gets a Content-Security-Policy with the nonce Leptos puts on its inline scripts,
    // and is revalidated on every visit; the server already knows who is signed in when it
    // renders one (docs/decisions.md, "The first visit").
    let accounts = state.config.accounts.clone();
    let page_context = move || http::page_context(&accounts);
    let pages = Router::new()
        .leptos_routes_with_context(&state, routes, page_context, move || {
            shell(leptos_options.clone())
        })
        .route_layer(axum::middleware::from_fn_with_state(
            state.clone(),
            http::page_session::attach,
        ))
        // A sign-in or invite form sent before the page is interactive (a POST, never a URL with
        // the password) comes back to the same page, now interactive.
        .route("/login", axum::routing::post(http::static_files::same_page))
        .route(
            "/invite",
            axum::routing::post(http::static_files::same_page),
        );
    // Anything else: a built file (pre-compressed, cached by its hashed name), or the app's
    // "Page not found" page.
    let mut router = Router::new()
        .merge(api)
        .merge(share_target::router())
        .merge(pages)
        .fallback(http::static_files::fallback_handler);
    router = router.layer(axum::middleware::from_fn(
        http::security_headers::worker_policy,
    ));
    for layer in http::security_headers::layers() {
        router = router.layer(layer);
    }
    // A client that stops sending a request body midway is cut off (docs/operations.md).
    let body_timeout = Duration::from_secs(state.config.http.body_timeout_secs);
    router = router.layer(RequestBodyTimeoutLayer::new(body_timeout));
    // The default trace span records method, path and version only: no headers (so no cookies)
    // and no bodies (so no passwords). Secrets never travel in paths or query strings.
    router
        .layer(TraceLayer::new(error::UnloggedServerErrors::make()))
        .with_state(state)
}
