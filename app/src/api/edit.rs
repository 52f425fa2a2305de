//! Editing a video's title and description, and asking whether a file's content is in the
//! library already (docs/api.md, "Editing a video" and "Duplicates").

use cloister_shared::api::edit::{EditVideoRequest, VideoEditResult};
use cloister_shared::api::uploads::DuplicateList;
use cloister_shared::VideoId;

use super::client::{get, patch};
use super::ApiError;
use cloister_shared::protocol::paths;

/// Replaces the sealed title and description (the owner or an admin).
pub async fn edit_video(
    video: &VideoId,
    request: &EditVideoRequest,
) -> Result<VideoEditResult, ApiError> {
    patch(&paths::video(video), request).await
}

/// The library's finished videos whose content fingerprint is this one (64 hex digits).
pub async fn duplicates_of(fingerprint_hex: &str) -> Result<DuplicateList, ApiError> {
    get(&format!(
        "/api/uploads/duplicates?fingerprint={fingerprint_hex}"
    ))
    .await
}
