//! The first run: `GET`/`POST /api/setup` (docs/api.md, "First run").

use cloister_shared::api::keys::{SetupRequest, SetupStatus};
use cloister_shared::api::LoginResponse;

use super::client::{get, post};
use super::ApiError;

/// Whether nobody owns this Cloister yet.
pub async fn setup_needed() -> Result<bool, ApiError> {
    get::<SetupStatus>("/api/setup")
        .await
        .map(|status| status.needed)
}

/// Creates the first admin (signed in) and the library with the setup link's secret.
pub async fn set_up(request: &SetupRequest) -> Result<LoginResponse, ApiError> {
    post("/api/setup", request).await
}
