//! Comments on a video (docs/architecture.md): sealed under the video's DEK with `Purpose::comment(id)`,
//! paged oldest first. `GET|POST /api/videos/{id}/comments`, `DELETE
//! /api/videos/{id}/comments/{comment_id}`.

use serde::{Deserialize, Serialize};

use crate::ids::{CommentId, VideoId};

pub const DEFAULT_COMMENT_PAGE: u32 = 20;
pub const MAX_COMMENT_PAGE: u32 = 100;
/// Longest comment a person may write (characters); the sealed body is checked by size.
pub const MAX_COMMENT_CHARS: usize = 2000;
/// Largest sealed body the server accepts: the longest comment in 4-byte UTF-8, plus the stream
/// header and one tag.
pub const MAX_SEALED_COMMENT_BYTES: usize = MAX_COMMENT_CHARS * 4 + 41 + 16;

/// `POST /api/videos/{id}/comments`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewComment {
    /// Made by the client; the body is sealed for `comment/<comment_id>`.
    pub comment_id: CommentId,
    /// Hex of the sealed body.
    pub body_sealed: String,
}

/// One comment as listed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CommentInfo {
    pub comment_id: CommentId,
    pub video_id: VideoId,
    /// Username of the author.
    pub author: String,
    /// Unix seconds.
    pub created_at: i64,
    /// Hex of the sealed body: open with the video's DEK and `Purpose::comment(comment_id)`.
    pub body_sealed: String,
    /// The viewer may delete it: they wrote it, or they are an admin.
    pub can_delete: bool,
}

/// `GET /api/videos/{id}/comments?limit=N&cursor=C`: oldest first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CommentPage {
    pub comments: Vec<CommentInfo>,
    /// Pass as `cursor` for the next (newer) page; absent on the last page.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_cursor: Option<String>,
}
