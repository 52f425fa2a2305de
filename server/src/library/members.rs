//! The caller's keys and the library's status: `GET`/`POST /api/library`, `PUT /api/library/me`, `PUT /api/library/me/passphrase`.

use axum::Router;

use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new()
}
