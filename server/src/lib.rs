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
pub mod state;
pub mod storage;
pub mod tools;
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
        .merge(library::router())
        .merge(uploads::router())
        .merge(videos::router())
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
    // Each page gets a Content-Security-Policy with the nonce Leptos puts on its inline scripts.
    let accounts = state.config.accounts.clone();
    let page_policy = move || http::security_headers::set_page_policy(&accounts);
    let mut router = Router::new()
        .merge(api)
        .merge(share_target::router())
        .leptos_routes_with_context(&state, routes, page_policy.clone(), move || {
            shell(leptos_options.clone())
        })
        .fallback(leptos_axum::file_and_error_handler_with_context::<
            AppState,
            _,
        >(page_policy, shell));
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
