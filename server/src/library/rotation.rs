//! Changing the library key after a member leaves: `POST /api/library/rotation`, `GET`/`POST /api/library/rotation/batch` (admin).

use axum::Router;

use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new()
}
