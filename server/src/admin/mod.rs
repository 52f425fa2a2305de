//! The admin console's API (docs/admin.md): jobs with their timings and the overrides (retry,
//! kill, priority), the machine's gauges and the gate's verdict, the processing-speed history,
//! storage per user, and housekeeping. Every route sits behind `require_admin`, so a handler
//! cannot forget the check: nobody signed in gets 401, a member 403.

mod housekeeping;
mod jobs;
mod machine;
mod storage;
mod store;

use axum::extract::Request;
use axum::middleware::Next;
use axum::response::Response;
use axum::routing::{get, post};
use axum::Router;

use crate::accounts::AdminUser;
use crate::state::AppState;

pub fn router(state: &AppState) -> Router<AppState> {
    Router::new()
        .route("/api/admin/jobs", get(jobs::index))
        .route("/api/admin/jobs/{id}/retry", post(jobs::retry))
        .route("/api/admin/jobs/{id}/kill", post(jobs::kill))
        .route("/api/admin/jobs/{id}/priority", post(jobs::priority))
        .route("/api/admin/machine", get(machine::machine))
        .route("/api/admin/speed", get(machine::speed))
        .route("/api/admin/storage", get(storage::storage))
        .route("/api/admin/housekeeping", get(housekeeping::show))
        .route(
            "/api/admin/housekeeping/clean",
            post(housekeeping::clean_route),
        )
        .route_layer(axum::middleware::from_fn_with_state(
            state.clone(),
            require_admin,
        ))
}

/// Runs before any extractor of the handler (path, body): an outsider learns nothing from them.
async fn require_admin(_admin: AdminUser, request: Request, next: Next) -> Response {
    next.run(request).await
}
