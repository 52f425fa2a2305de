//! The rules of share links (docs/api.md, "Share links"): who may make, see and withdraw one, and
//! what a link answers to anyone holding it.

use crate::db::Db;
use cloister_shared::api::shares::{
    CreateShareRequest, ShareId, ShareInfo, SharedVideo, SHARE_GONE_MESSAGE,
};
use cloister_shared::api::{Role, VideoStatus};
use cloister_shared::crypto::keys::WrappedKey;
use cloister_shared::VideoId;

use super::store::{self, Listing, LiveShare, NewShare};
use crate::accounts::User;
use crate::error::{AppError, AppResult};
use crate::videos::published::{find_for, Viewer, VisibleVideo};

/// Expired, withdrawn, or never existed: one answer for all three.
pub fn gone() -> AppError {
    AppError::Gone(SHARE_GONE_MESSAGE.to_owned())
}

fn no_such_video() -> AppError {
    AppError::NotFound("No such video.".to_owned())
}

/// Creates a share of a ready video its owner (or an admin) asked for.
#[tracing::instrument(skip(db, request), fields(user = user.id))]
pub async fn create(
    db: &Db,
    user: &User,
    video: &VideoId,
    request: &CreateShareRequest,
    now: i64,
) -> AppResult<ShareInfo> {
    let found = store::video_to_share(db, video)
        .await?
        .ok_or_else(no_such_video)?;
    let is_owner = found.owner_id == user.id;
    // Another member's unfinished upload is not there at all, as in the listing.
    if found.status == VideoStatus::Uploading.as_str() && !is_owner {
        return Err(no_such_video());
    }
    if !is_owner && user.role != Role::Admin {
        return Err(AppError::Forbidden(
            "Only the video's owner or an admin can share it.".to_owned(),
        ));
    }
    if found.status != VideoStatus::Ready.as_str() {
        return Err(AppError::Conflict(
            "Only a video that is ready to play can be shared.".to_owned(),
        ));
    }
    let inserted = store::insert(
        db,
        &NewShare {
            id: &request.share_id,
            video,
            created_by: user.id,
            wrapped_key: &request.wrapped_key,
            expires_at: request.expiry.seconds().map(|s| now.saturating_add(s)),
            allow_download: request.allow_download,
            now,
        },
    )
    .await?;
    if !inserted {
        return Err(AppError::Conflict(
            "A share link with this id already exists; make a new one.".to_owned(),
        ));
    }
    store::one(db, &request.share_id)
        .await?
        .map(|managed| managed.info)
        .ok_or_else(|| AppError::Internal("a share vanished as it was made".to_owned()))
}

/// A member's shares (made by them, or of their videos); every share for an admin.
pub async fn list_mine(db: &Db, user: &User) -> AppResult<Vec<ShareInfo>> {
    let listing = if user.role == Role::Admin {
        Listing::All
    } else {
        Listing::OfMember(user.id)
    };
    store::list(db, listing).await
}

/// One video's shares, for its owner or an admin.
pub async fn list_of_video(db: &Db, user: &User, video: &VideoId) -> AppResult<Vec<ShareInfo>> {
    let found = store::video_to_share(db, video)
        .await?
        .ok_or_else(no_such_video)?;
    let is_owner = found.owner_id == user.id;
    if found.status == VideoStatus::Uploading.as_str() && !is_owner {
        return Err(no_such_video());
    }
    if !is_owner && user.role != Role::Admin {
        return Err(AppError::Forbidden(
            "Only the video's owner or an admin can see its share links.".to_owned(),
        ));
    }
    store::list(db, Listing::OfVideo(video)).await
}

/// Withdraws a share: its maker, the video's owner or an admin. Withdrawing twice is fine.
#[tracing::instrument(skip(db), fields(user = user.id))]
pub async fn revoke(db: &Db, user: &User, share: &ShareId, now: i64) -> AppResult<ShareInfo> {
    let found = store::one(db, share)
        .await?
        .ok_or_else(|| AppError::NotFound("No such share link.".to_owned()))?;
    let allowed = found.created_by_id == user.id
        || found.video_owner_id == user.id
        || user.role == Role::Admin;
    if !allowed {
        return Err(AppError::Forbidden(
            "Only the link's maker, the video's owner or an admin can withdraw it.".to_owned(),
        ));
    }
    store::revoke(db, share, now).await?;
    store::one(db, share)
        .await?
        .map(|managed| managed.info)
        .ok_or_else(|| AppError::Internal("a share vanished as it was withdrawn".to_owned()))
}

/// A live share and its video, as the public routes use it; `gone()` otherwise.
pub struct OpenShare {
    pub share: LiveShare,
    pub video: VisibleVideo,
}

/// The one gate of every public share route: a live share (`store::live_share`) and its video
/// (`videos::published::find_for`, as a share holder).
pub async fn open(db: &Db, share: &ShareId, now: i64) -> AppResult<OpenShare> {
    let live = store::live_share(db, share, now).await?.ok_or_else(gone)?;
    let video_id = VideoId::parse(&live.video_id)
        .map_err(|_| AppError::Internal(format!("share {share} names a bad video id")))?;
    let video = match find_for(db, Viewer::ShareHolder, video_id).await {
        Ok(video) => video,
        Err(AppError::NotFound(_)) => return Err(gone()),
        Err(err) => return Err(err),
    };
    Ok(OpenShare { share: live, video })
}

/// What the share page needs (`GET /api/s/{id}`).
pub async fn facts(db: &Db, share: &ShareId, now: i64) -> AppResult<SharedVideo> {
    let OpenShare { share: live, video } = open(db, share, now).await?;
    let rendition = video.playable()?;
    let allow = live.allow_download.0;
    Ok(SharedVideo {
        share_id: *share,
        video_id: video.id,
        wrapped_key: WrappedKey::from_bytes(&live.wrapped_key)
            .map_err(|_| AppError::Internal(format!("share {share} has a bad wrapped key")))?,
        title_sealed: hex::encode(&live.title_sealed),
        duration_ms: live.duration_ms.and_then(|ms| u64::try_from(ms).ok()),
        allow_download: allow,
        rendition: rendition.to_string(),
        has_thumb: video.has_thumb,
        size_bytes: allow.then(|| u64::try_from(live.size_bytes).ok()).flatten(),
        file_name_sealed: allow
            .then(|| live.file_name_sealed.as_deref().map(hex::encode))
            .flatten(),
    })
}

/// One opening of the share page.
pub async fn record_view(db: &Db, share: &ShareId, now: i64) -> AppResult<()> {
    open(db, share, now).await?;
    if store::count_view(db, share, now).await? {
        Ok(())
    } else {
        Err(gone())
    }
}
