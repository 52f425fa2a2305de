//! The trash (docs/api.md, "Trash"): what a deleted video looks like until it is restored or
//! purged.

use serde::{Deserialize, Serialize};

use super::videos::VideoSummary;
use crate::VideoId;

/// One video in the trash: what the gallery showed of it, who deleted it and when it goes for
/// good.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TrashedVideo {
    #[serde(flatten)]
    pub video: VideoSummary,
    /// Unix seconds.
    pub trashed_at: i64,
    /// Username of whoever moved it to the trash (absent if that account is gone).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub trashed_by: Option<String>,
    /// Unix seconds: when the retention ends and it is purged.
    pub purge_at: i64,
}

/// `GET /api/trash`: a member's own trashed videos, an admin's every one; newest deletion first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TrashList {
    pub videos: Vec<TrashedVideo>,
    /// How long the trash keeps a video.
    pub retention_days: u32,
}

/// The answer to moving a video to the trash or restoring it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TrashState {
    pub video_id: VideoId,
    /// Whether the video is in the trash now.
    pub trashed: bool,
    /// An unfinished upload is not kept in the trash: deleting it removed it for good.
    #[serde(default)]
    pub purged: bool,
    /// While trashed: when it goes for good (Unix seconds).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub purge_at: Option<i64>,
    /// How long the trash keeps a video.
    pub retention_days: u32,
}

/// `POST /api/admin/trash/empty` and purges: how many videos went for good.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Purged {
    pub purged: u64,
}

/// What removing a member does with their videos: `DELETE /api/admin/users/{name}?videos=trash`
/// or `?videos=move&to=<member>`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RemoveUserQuery {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub videos: Option<VideosOfRemoved>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub to: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum VideosOfRemoved {
    /// Give them to another member (`to`).
    Move,
    /// Move them to the trash.
    Trash,
}

/// The words a client shows once a video went to the trash.
pub fn trashed_notice(retention_days: u32) -> String {
    format!("Moved to the trash. It stays there for {retention_days} days; you can restore it until then.")
}

/// Whole days left before `purge_at`, counted up (a video due in 2 hours has 1 day left).
pub fn days_left(purge_at: i64, now: i64) -> i64 {
    let secs = purge_at.saturating_sub(now).max(0);
    (secs + 86_399) / 86_400
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn days_left_round_up_and_never_go_negative() {
        assert_eq!(days_left(100, 100), 0);
        assert_eq!(days_left(100 + 3600, 100), 1);
        assert_eq!(days_left(100 + 30 * 86_400, 100), 30);
        assert_eq!(days_left(0, 100), 0);
    }
}
