//! The trash (docs/api.md, "Trash"): delete to the trash, restore, delete for good, list; the
//! admin's "Empty trash" and removing a member with their videos.

use cloister_shared::api::trash::{Purged, TrashList, TrashState};
use cloister_shared::VideoId;

use super::client::{delete, get, post};
use super::ApiError;
use cloister_shared::protocol::paths;

pub async fn trash_video(id: VideoId) -> Result<TrashState, ApiError> {
    post(&paths::video_trash(id), &serde_json::json!({})).await
}

pub async fn restore_video(id: VideoId) -> Result<TrashState, ApiError> {
    post(&paths::video_restore(id), &serde_json::json!({})).await
}

pub async fn purge_video(id: VideoId) -> Result<(), ApiError> {
    delete(&paths::video(id)).await
}

pub async fn trash_list() -> Result<TrashList, ApiError> {
    get(paths::TRASH).await
}

pub async fn empty_trash() -> Result<Purged, ApiError> {
    post("/api/admin/trash/empty", &serde_json::json!({})).await
}

/// Where a removed member's videos go.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum VideosGoTo {
    Member(String),
    Trash,
}

/// Removes `username`; their videos (if any) go where `videos` says. Usernames are ASCII letters,
/// digits, `.`, `_` and `-`, so they need no escaping in the query.
pub async fn remove_member(username: &str, videos: &VideosGoTo) -> Result<(), ApiError> {
    let query = match videos {
        VideosGoTo::Member(to) => format!("?videos=move&to={to}"),
        VideosGoTo::Trash => "?videos=trash".to_owned(),
    };
    delete(&format!("/api/admin/users/{username}{query}")).await
}
