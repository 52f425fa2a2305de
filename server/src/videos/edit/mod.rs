//! `PATCH /api/videos/{id}`: the owner or an admin replaces the sealed title and description
//! (docs/api.md, "Editing a video"). The browser sealed the new text under the video's DEK with a
//! fresh salt; the server checks its shape exactly as at upload, swaps both in one statement and
//! records `VideoEdited` in the same transaction, so every open view and gallery hears of it.

mod store;

use axum::extract::{Path, State};
use cloister_shared::api::edit::{EditVideoRequest, VideoEditResult};
use cloister_shared::api::uploads::{MAX_DESCRIPTION_SEALED_BYTES, MAX_TITLE_SEALED_BYTES};
use cloister_shared::api::{Event, Role};
use cloister_shared::VideoId;

use crate::accounts::{unix_now, CurrentUser, User};
use crate::error::{AppError, AppResult};
use crate::events;
use crate::http::json::ApiJson;
use crate::state::AppState;
use crate::uploads::create::sealed_blob;

fn no_such_video() -> AppError {
    AppError::NotFound("No such video.".to_owned())
}

/// Checks and applies `req` to `video` for `user`. Idempotent: the very same sealed bytes again
/// change nothing and record no event.
#[tracing::instrument(skip(state, user, req), fields(user = %user.username))]
pub async fn edit(
    state: &AppState,
    user: &User,
    video: &VideoId,
    req: &EditVideoRequest,
) -> AppResult<VideoEditResult> {
    let title = sealed_blob("title_sealed", &req.title_sealed, MAX_TITLE_SEALED_BYTES)?;
    let description = req
        .description_sealed
        .as_deref()
        .map(|d| sealed_blob("description_sealed", d, MAX_DESCRIPTION_SEALED_BYTES))
        .transpose()?;
    let id = video.to_string();
    let current = store::load_visible(&state.db, user.id, &id)
        .await?
        .ok_or_else(no_such_video)?;
    if current.owner_id != user.id && user.role != Role::Admin {
        return Err(AppError::Forbidden(
            "Only the member who uploaded this video, or an admin, can change its title and description."
                .to_owned(),
        ));
    }
    if current.title_sealed == title && current.description_sealed == description {
        return Ok(VideoEditResult {
            video_id: *video,
            changed: false,
        });
    }
    let now = unix_now();
    let mut tx = state.db.begin().await?;
    let changed = store::swap_texts(
        &mut tx,
        &id,
        current.owner_id,
        &title,
        description.as_deref(),
        now,
    )
    .await?;
    if !changed {
        // Removed (or given to another member) between the read and the write.
        return Err(no_such_video());
    }
    events::record(&mut tx, &Event::VideoEdited { video_id: *video }, now).await?;
    tx.commit().await?;
    state.events.poke();
    tracing::info!(video = %video, "title and description edited");
    Ok(VideoEditResult {
        video_id: *video,
        changed: true,
    })
}

/// The route's handler: the path is judged before the body.
pub async fn patch(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    Path(raw_id): Path<String>,
    body: Result<ApiJson<EditVideoRequest>, AppError>,
) -> AppResult<ApiJson<VideoEditResult>> {
    let video = super::published::parse_video_id(&raw_id)?;
    let ApiJson(req) = body?;
    edit(&state, &user, &video, &req).await.map(ApiJson)
}
