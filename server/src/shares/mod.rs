//! Share links (docs/api.md, "Share links"; docs/format.md, "Share links";
//! docs/threat-model.md, "Share links"): one ready video shown to someone outside the group
//! through `/s/<share id>#<secret>`.
//!
//! `routes` are the members' routes (create, list, withdraw); `public` are the routes a link's
//! holder reaches with the share id alone, rate-limited per client address, all behind one gate:
//! `domain::open` (which calls `store::live_share`, then the video lookup every file route
//! shares). The sealed files are served by the same code as members' (`videos::playback`,
//! `videos::original`).

pub mod domain;
pub mod limiter;
pub mod public;
pub mod routes;
pub mod store;

use axum::Router;

use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new()
        .merge(routes::router())
        .merge(public::router())
}
