//! Calls for a video's comments (docs/api.md "Comments"). Bodies travel sealed; opening and
//! sealing them is the comments module's business.

use cloister_shared::api::{CommentInfo, CommentPage, NewComment};
use cloister_shared::{CommentId, VideoId};

use super::client::{delete, get, post};
use super::{query_escape, ApiError};

/// One page of a video's comments, oldest first; `cursor` is the previous page's `next_cursor`.
pub async fn comments(
    video: &VideoId,
    limit: u32,
    cursor: Option<&str>,
) -> Result<CommentPage, ApiError> {
    let mut url = format!("/api/videos/{video}/comments?limit={limit}");
    if let Some(cursor) = cursor {
        url.push_str("&cursor=");
        url.push_str(&query_escape(cursor));
    }
    get(&url).await
}

/// Stores a comment the browser sealed; the answer is the comment as listed.
pub async fn post_comment(video: &VideoId, comment: &NewComment) -> Result<CommentInfo, ApiError> {
    post(&format!("/api/videos/{video}/comments"), comment).await
}

/// The author or an admin removes a comment.
pub async fn delete_comment(video: &VideoId, comment: &CommentId) -> Result<(), ApiError> {
    delete(&format!("/api/videos/{video}/comments/{comment}")).await
}
