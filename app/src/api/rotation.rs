//! The key change after a member is removed (docs/api.md, "Library keys"): the plan, its start,
//! and the batches of video keys re-wrapped in this tab.

use cloister_shared::api::keys::{
    RewrapBatchRequest, RotationBatch, RotationPlan, RotationProgress, StartRotationRequest,
};

use super::client::{get, post};
use super::ApiError;

pub async fn rotation_plan() -> Result<RotationPlan, ApiError> {
    get("/api/library/rotation").await
}

pub async fn start_rotation(request: &StartRotationRequest) -> Result<RotationProgress, ApiError> {
    post("/api/library/rotation", request).await
}

pub async fn rotation_batch(limit: u32) -> Result<RotationBatch, ApiError> {
    get(&format!("/api/library/rotation/batch?limit={limit}")).await
}

pub async fn rewrap_batch(request: &RewrapBatchRequest) -> Result<RotationProgress, ApiError> {
    post("/api/library/rotation/batch", request).await
}
