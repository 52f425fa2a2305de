//! The first run in the browser: with no users, a one-time setup link (its secret only in the URL
//! fragment, its SHA-256 stored) lets the owner create the first admin and the library
//! (docs/accounts.md, "First run"). `GET`/`POST /api/setup`.

use axum::Router;

use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new()
}
