//! Letting a member in: `POST /api/library/grants` (admin).

use axum::Router;

use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new()
}
