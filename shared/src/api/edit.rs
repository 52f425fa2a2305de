//! `PATCH /api/videos/{id}`: the owner or an admin replaces a video's title and description
//! (docs/api.md, "Editing a video"). The browser seals the new text under the video's DEK with a
//! fresh salt; the server checks the shape and swaps both in one statement.

use serde::{Deserialize, Serialize};

use crate::ids::VideoId;

/// Longest title the forms accept, in characters (sealed, it stays within
/// `uploads::MAX_TITLE_SEALED_BYTES`, which the server enforces).
pub const MAX_TITLE_CHARS: usize = 200;
/// Longest description the forms accept, in characters (within `MAX_DESCRIPTION_SEALED_BYTES`).
pub const MAX_DESCRIPTION_CHARS: usize = 5000;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EditVideoRequest {
    /// A sealed stream (`Purpose::Title`), hex.
    pub title_sealed: String,
    /// A sealed stream (`Purpose::Description`), hex; `None` removes the description.
    #[serde(default)]
    pub description_sealed: Option<String>,
}

/// `200` answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VideoEditResult {
    pub video_id: VideoId,
    /// `false` when the stored streams were these very bytes already (a repeated request).
    pub changed: bool,
}
