//! A video as a member may see it, and what of it can be played: the lookup every file route
//! shares, so they agree on who sees what and on the reason a video has nothing to play.

use crate::db::Db;
use cloister_shared::api::VideoStatus;
use cloister_shared::VideoId;

use crate::accounts::users::User;
use crate::error::{AppError, AppResult};
use crate::storage::RenditionId;

/// The row of a video the viewer may see.
#[derive(Debug)]
pub struct VisibleVideo {
    pub id: VideoId,
    pub status: VideoStatus,
    rendition: Option<String>,
    pub has_thumb: bool,
    /// The sealed original's 41-byte stream header.
    pub original_header: Vec<u8>,
}

/// What every file route answers for a video in the trash (404).
pub const TRASHED: &str = "This video was moved to the trash.";

/// Parses a video id from a path.
pub fn parse_video_id(raw: &str) -> AppResult<VideoId> {
    VideoId::parse(raw).map_err(|_| {
        AppError::BadRequest("That is not a video id: ids are 32 lowercase hex digits.".to_owned())
    })
}

/// Parses a rendition id from a path or query.
pub fn parse_rendition(raw: &str) -> AppResult<RenditionId> {
    RenditionId::parse(raw).ok_or_else(|| {
        AppError::BadRequest(
            "That is not a rendition id: rendition ids are 16 lowercase hex digits.".to_owned(),
        )
    })
}

/// Who asks for a video's files: a signed-in member, or someone holding a live share link for
/// this video (the `shares` module checks the link first; docs/api.md, "Share links").
#[derive(Debug, Clone, Copy)]
pub enum Viewer<'a> {
    Member(&'a User),
    ShareHolder,
}

/// The video `id` as `viewer` may see it. One that does not exist and another member's
/// unfinished upload are both "No such video.", as in the listing; one in the trash is
/// [`TRASHED`].
pub async fn find(db: &Db, viewer: &User, id: VideoId) -> AppResult<VisibleVideo> {
    find_for(db, Viewer::Member(viewer), id).await
}

/// `find` for either kind of viewer: a share holder sees no unfinished upload at all.
pub async fn find_for(db: &Db, viewer: Viewer<'_>, id: VideoId) -> AppResult<VisibleVideo> {
    let member_id = match viewer {
        Viewer::Member(user) => Some(user.id),
        Viewer::ShareHolder => None,
    };
    let row = super::store::file_row(db, &id.to_string(), member_id).await?;
    let row = row.ok_or_else(|| AppError::NotFound("No such video.".to_owned()))?;
    // A trashed video plays and downloads nowhere (docs/decisions.md, "Delete, trash, restore").
    if row.trashed.0 {
        return Err(AppError::NotFound(TRASHED.to_owned()));
    }
    Ok(VisibleVideo {
        id,
        status: VideoStatus::parse(&row.status)
            .ok_or_else(|| AppError::Internal(format!("video {id} has a bad status")))?,
        rendition: row.rendition,
        has_thumb: row.thumb_path.is_some(),
        original_header: row.stream_header,
    })
}

impl VisibleVideo {
    /// The published rendition of a ready video; otherwise 409 saying why there is nothing to
    /// play yet.
    pub fn playable(&self) -> AppResult<RenditionId> {
        let why = match self.status {
            VideoStatus::Ready => {
                return self
                    .rendition
                    .as_deref()
                    .and_then(RenditionId::parse)
                    .ok_or_else(|| {
                        AppError::Internal(format!("ready video {} has no rendition", self.id))
                    })
            }
            VideoStatus::Uploading => "it is still being uploaded",
            VideoStatus::Uploaded => "it is waiting to be processed",
            VideoStatus::Processing => "it is being processed",
            VideoStatus::Failed => "processing it failed",
        };
        Err(AppError::Conflict(format!(
            "This video is not ready to play yet: {why}."
        )))
    }

    /// The published rendition, which must be `asked`: 404 for any other (an older one, or one
    /// never published), so a client holding stale URLs knows to fetch the video again.
    pub fn current(&self, asked: &RenditionId) -> AppResult<RenditionId> {
        let current = self.playable()?;
        if &current == asked {
            Ok(current)
        } else {
            Err(AppError::NotFound(
                "That rendition is not this video's current one.".to_owned(),
            ))
        }
    }
}
