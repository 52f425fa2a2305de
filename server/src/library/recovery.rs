//! The recovery key: `POST /api/library/recovery`, `…/recovery/challenge`, `…/recovery/restore` (admin).

use axum::Router;

use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new()
}
