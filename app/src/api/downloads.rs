//! Downloads (docs/api.md, "Downloads"): server-side decrypted downloads, and the sealed original
//! read piece by piece for decrypting in the browser.

use cloister_shared::api::downloads::{DownloadInfo, DownloadList, StartDownloadRequest};
use cloister_shared::api::LoadStatus;
use cloister_shared::VideoId;

use super::client::{get, post, ApiError};
use cloister_shared::protocol::paths;

/// The resource gate's verdict and its reasons.
pub async fn load_status() -> Result<LoadStatus, ApiError> {
    get(paths::STATUS_LOAD).await
}

/// Asks the server to decrypt the video for this member: ready now, queued, or a 503
/// `download_busy` when the gate is closed and `queue` is false.
pub async fn start_download(
    video: &VideoId,
    request: &StartDownloadRequest,
) -> Result<DownloadInfo, ApiError> {
    post(&paths::video_download(video), request).await
}

/// The member's own downloads: queued, ready, and recently finished ones.
pub async fn downloads() -> Result<Vec<DownloadInfo>, ApiError> {
    get::<DownloadList>("/api/downloads")
        .await
        .map(|list| list.downloads)
}

pub async fn download(download_id: &str) -> Result<DownloadInfo, ApiError> {
    get(&format!("/api/downloads/{download_id}")).await
}

pub async fn cancel_download(download_id: &str) -> Result<DownloadInfo, ApiError> {
    post(
        &format!("/api/downloads/{download_id}/cancel"),
        &serde_json::json!({}),
    )
    .await
}

/// Bytes `start..=end` of the sealed file at `url` (a `Range` request): the original through a
/// member's route or a share's.
#[cfg(feature = "hydrate")]
pub async fn sealed_range(
    url: &str,
    start: u64,
    end: u64,
    abort: Option<&web_sys::AbortSignal>,
) -> Result<Vec<u8>, ApiError> {
    let request =
        gloo_net::http::Request::get(url).header("range", &format!("bytes={start}-{end}"));
    super::fetch_bytes(request, abort).await
}
