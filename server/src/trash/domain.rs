//! Moving a video to the trash, restoring it, and listing the trash: the rules HTTP and the CLI
//! share (docs/decisions.md, "Delete, trash, restore"). Purging is in `purge`.

use cloister_shared::api::trash::{TrashList, TrashState, TrashedVideo};
use cloister_shared::api::{Event, Role, VideoStatus, VideoSummary};
use cloister_shared::VideoId;

use super::{purge, store};
use crate::accounts::unix_now;
use crate::accounts::users::User;
use crate::error::{AppError, AppResult};
use crate::state::AppState;
use crate::videos::list::RawRow;

/// What is being done, for the refusal's words.
#[derive(Debug, Clone, Copy)]
pub enum Action {
    Delete,
    Restore,
    Purge,
}

impl Action {
    fn refused(self) -> AppError {
        let verb = match self {
            Self::Delete => "delete",
            Self::Restore => "restore",
            Self::Purge => "delete for good",
        };
        AppError::Forbidden(format!(
            "Only the person who uploaded this video or an admin can {verb} it."
        ))
    }
}

pub fn no_such_video() -> AppError {
    AppError::NotFound("No such video.".to_owned())
}

pub fn retention_secs(state: &AppState) -> i64 {
    i64::from(state.config.trash.trash_days) * 86_400
}

/// The video as `actor` may act on it. What the actor cannot see is "No such video." (404):
/// another member's unfinished upload, another member's trash, a video being purged. What they
/// see but do not own is 403.
#[tracing::instrument(skip(state, actor), fields(user = %actor.username))]
pub async fn authorize(
    state: &AppState,
    actor: &User,
    id: &VideoId,
    action: Action,
) -> AppResult<store::VideoState> {
    let video = store::state_of(&state.db, &id.to_string())
        .await?
        .filter(|v| v.purge_started_at.is_none())
        .ok_or_else(no_such_video)?;
    let admin = actor.role == Role::Admin;
    if video.owner_id == actor.id || admin {
        return Ok(video);
    }
    if video.status == "uploading" || video.trashed_at.is_some() {
        return Err(no_such_video());
    }
    Err(action.refused())
}

fn answer(state: &AppState, id: VideoId, trashed_at: Option<i64>) -> TrashState {
    TrashState {
        video_id: id,
        trashed: trashed_at.is_some(),
        purged: false,
        purge_at: trashed_at.map(|at| at + retention_secs(state)),
        retention_days: state.config.trash.trash_days,
    }
}

/// Moves the video to the trash: it leaves every listing and file route at once, its unfinished
/// job is cancelled (a running ffmpeg killed) and every key the server holds for it erased. An
/// unfinished upload is removed for good instead. Twice is the same as once.
#[tracing::instrument(skip(state, actor), fields(user = %actor.username))]
pub async fn move_to_trash(state: &AppState, actor: &User, id: &VideoId) -> AppResult<TrashState> {
    let video = authorize(state, actor, id, Action::Delete).await?;
    if video.trashed_at.is_some() {
        return Ok(answer(state, *id, video.trashed_at));
    }
    if video.status == VideoStatus::Uploading.as_str() {
        purge::purge(state, id).await?;
        let mut done = answer(state, *id, None);
        done.purged = true;
        return Ok(done);
    }
    let now = unix_now();
    let raw = id.to_string();
    let mut tx = state.db.begin().await?;
    if !store::mark_trashed(&mut tx, &raw, actor.id, now).await? {
        // Someone else was quicker: the same outcome.
        drop(tx);
        let again = store::state_of(&state.db, &raw).await?;
        return Ok(answer(state, *id, again.and_then(|v| v.trashed_at)));
    }
    let jobs = store::cancel_work(&mut tx, &raw, now).await?;
    let downloads = store::cancel_downloads(&mut tx, &raw, now).await?;
    for job_id in &jobs {
        let event = Event::JobCancelled {
            job_id: *job_id,
            video_id: *id,
        };
        crate::events::record(&mut tx, &event, now).await?;
    }
    crate::events::record(&mut tx, &Event::VideoTrashed { video_id: *id }, now).await?;
    tx.commit().await?;
    state.events.poke();
    stop_work(state, &jobs, &downloads);
    tracing::info!(video = %id, jobs = jobs.len(), downloads = downloads.len(), "video moved to the trash");
    Ok(answer(state, *id, Some(now)))
}

/// Stops, in this process, the ffmpeg of each cancelled job and the transfer of each cancelled
/// download (a worker in another process notices at its next heartbeat).
pub(crate) fn stop_work(state: &AppState, jobs: &[i64], downloads: &[String]) {
    for job in jobs {
        state.jobs.cancel_running(*job);
    }
    for download in downloads {
        state.downloads.stop(download);
    }
    if !downloads.is_empty() {
        state.downloads.wake();
    }
}

/// Brings the video back from the trash; restoring one that is not there changes nothing.
#[tracing::instrument(skip(state, actor), fields(user = %actor.username))]
pub async fn restore(state: &AppState, actor: &User, id: &VideoId) -> AppResult<TrashState> {
    authorize(state, actor, id, Action::Restore).await?;
    let now = unix_now();
    let mut tx = state.db.begin().await?;
    if store::restore(&mut tx, &id.to_string(), now).await? {
        crate::events::record(&mut tx, &Event::VideoRestored { video_id: *id }, now).await?;
        tx.commit().await?;
        state.events.poke();
        tracing::info!(video = %id, "video restored from the trash");
    }
    Ok(answer(state, *id, None))
}

/// Deletes the video for good, from the trash or straight away.
#[tracing::instrument(skip(state, actor), fields(user = %actor.username))]
pub async fn purge_one(state: &AppState, actor: &User, id: &VideoId) -> AppResult<()> {
    authorize(state, actor, id, Action::Purge).await?;
    purge::purge(state, id).await?;
    tracing::info!(video = %id, "video purged");
    Ok(())
}

/// The trash as `viewer` sees it: their own videos, or every one for an admin.
pub async fn list(state: &AppState, viewer: &User) -> AppResult<TrashList> {
    let owner = (viewer.role != Role::Admin).then_some(viewer.id);
    let rows = store::list(&state.db, owner).await?;
    let keep = retention_secs(state);
    let videos = rows
        .into_iter()
        .map(|row| trashed(row, keep))
        .collect::<AppResult<Vec<_>>>()?;
    Ok(TrashList {
        videos,
        retention_days: state.config.trash.trash_days,
    })
}

fn trashed(row: store::TrashedRow, keep: i64) -> AppResult<TrashedVideo> {
    // A trashed video plays nowhere: nothing of its rendition is given.
    let checked = RawRow {
        id: &row.id,
        status: &row.status,
        size_bytes: row.size_bytes,
        wrapped_dek: &row.wrapped_dek,
        duration_ms: None,
        rendition: None,
        has_thumb_file: false,
    }
    .check()?;
    Ok(TrashedVideo {
        video: VideoSummary {
            video_id: checked.video_id,
            status: checked.status,
            size_bytes: checked.size_bytes,
            created_at: row.created_at,
            title_sealed: hex::encode(&row.title_sealed),
            wrapped_dek: checked.wrapped_dek,
            owner: row.owner,
            duration_ms: None,
            has_thumb: false,
            rendition: None,
            description_sealed: None,
            file_name_sealed: None,
        },
        trashed_at: row.trashed_at,
        trashed_by: row.trashed_by,
        purge_at: row.trashed_at.saturating_add(keep),
    })
}
