//! Share links (docs/api.md, "Share links"): the members' calls, and the share page's, which need
//! no account (the share id in the path is the whole authority).

use cloister_shared::api::shares::{
    paths, CreateShareRequest, ShareId, ShareInfo, ShareList, SharedVideo,
};
use cloister_shared::VideoId;

use super::client::{delete_json, get, post};
use super::ApiError;

/// Makes a share link of a ready video (the browser wrapped its key for the link).
pub async fn create_share(
    video: &VideoId,
    request: &CreateShareRequest,
) -> Result<ShareInfo, ApiError> {
    post(&format!("/api/videos/{video}/shares"), request).await
}

/// One video's share links, newest first (its owner or an admin).
pub async fn video_shares(video: &VideoId) -> Result<Vec<ShareInfo>, ApiError> {
    get::<ShareList>(&format!("/api/videos/{video}/shares"))
        .await
        .map(|list| list.shares)
}

/// The member's share links; every link for an admin.
pub async fn all_shares() -> Result<Vec<ShareInfo>, ApiError> {
    get::<ShareList>("/api/shares")
        .await
        .map(|list| list.shares)
}

/// Withdraws a share link (doing it twice is fine).
pub async fn revoke_share(share: &ShareId) -> Result<ShareInfo, ApiError> {
    delete_json(&format!("/api/shares/{share}")).await
}

/// What the share page needs; 410 once the link expired or was withdrawn.
pub async fn shared_video(share: &ShareId) -> Result<SharedVideo, ApiError> {
    get(&paths::facts(share)).await
}

/// One opening of the share page.
pub async fn count_share_view(share: &ShareId) -> Result<(), ApiError> {
    post::<_, serde_json::Value>(&paths::views(share), &serde_json::json!({}))
        .await
        .map(|_| ())
}
