//! The admin console's calls (docs/admin.md). The server refuses them to members; the page only
//! shows itself to admins.

use cloister_shared::api::admin::{
    AdminJob, AdminJobList, CleanRequest, CleanResult, CleanupKind, HousekeepingReport,
    MachineStatus, PriorityRequest, RetryJobRequest, SpeedHistory, StorageReport,
};
use cloister_shared::VideoId;

use super::client::{get, post};
use super::ApiError;
use cloister_shared::protocol::paths;

pub async fn admin_jobs() -> Result<Vec<AdminJob>, ApiError> {
    get::<AdminJobList>("/api/admin/jobs")
        .await
        .map(|list| list.jobs)
}

/// `dek_hex` travels in the body only.
pub async fn retry_job(job_id: i64, dek_hex: String) -> Result<AdminJob, ApiError> {
    post(
        &paths::admin_job_retry(job_id),
        &RetryJobRequest { dek: dek_hex },
    )
    .await
}

pub async fn kill_job(job_id: i64) -> Result<AdminJob, ApiError> {
    post(&paths::admin_job_kill(job_id), &serde_json::json!({})).await
}

pub async fn set_job_priority(job_id: i64, request: PriorityRequest) -> Result<AdminJob, ApiError> {
    post(&paths::admin_job_priority(job_id), &request).await
}

pub async fn machine() -> Result<MachineStatus, ApiError> {
    get(paths::ADMIN_MACHINE).await
}

pub async fn speed_history() -> Result<SpeedHistory, ApiError> {
    get(paths::ADMIN_SPEED).await
}

pub async fn storage_report() -> Result<StorageReport, ApiError> {
    get(paths::ADMIN_STORAGE).await
}

pub async fn housekeeping() -> Result<HousekeepingReport, ApiError> {
    get(paths::ADMIN_HOUSEKEEPING).await
}

pub async fn clean(kind: CleanupKind) -> Result<CleanResult, ApiError> {
    post(paths::ADMIN_HOUSEKEEPING_CLEAN, &CleanRequest { kind }).await
}

/// The video's key, opened in this tab, as a retry hands it to the server again.
pub async fn video_key_hex(
    video: &VideoId,
    key: &crate::keyring::Unlocked,
) -> Result<String, ApiError> {
    let summary = super::video(video).await?;
    let dek = key
        .unwrap_dek(video, &summary.wrapped_dek)
        .map_err(|_| ApiError {
            status: 0,
            code: "decrypt".to_owned(),
            message: "Unable to decrypt the video's key. Check passphrase.".to_owned(),
        })?;
    Ok(hex::encode(dek.as_bytes()))
}
