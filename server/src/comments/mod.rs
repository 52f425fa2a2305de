//! Comments on a video (docs/architecture.md, docs/api.md "Comments"): sealed in the browser under the
//! video's DEK with `Purpose::comment(<comment id>)`, so the server stores and pages opaque bytes
//! and checks only their shape. Whoever may see a video may read and write its comments; the
//! author or an admin may delete one.
//!
//! Domain functions in `store` take the pool and the asking `User` and return `AppError`s; the
//! HTTP handlers in `routes` parse the request, apply the posting limit and call them.

pub mod limiter;
pub mod routes;
pub mod store;

use cloister_shared::{CommentId, VideoId};

pub use limiter::CommentLimiter;
pub use routes::router;

use crate::error::{AppError, AppResult};

/// A video id from a path.
pub fn parse_video_id(raw: &str) -> AppResult<VideoId> {
    VideoId::parse(raw).map_err(|_| {
        AppError::BadRequest("That is not a video id: ids are 32 lowercase hex digits.".to_owned())
    })
}

/// A comment id from a path.
pub fn parse_comment_id(raw: &str) -> AppResult<CommentId> {
    CommentId::parse(raw).map_err(|_| {
        AppError::BadRequest(
            "That is not a comment id: ids are 32 lowercase hex digits.".to_owned(),
        )
    })
}
