//! Removing a member who has videos (docs/admin.md, "Members"): the admin chooses to give the
//! videos to another member or to move them to the trash. Everything happens in one transaction
//! with the account's removal, so a refused removal (the last admin) changes nothing. The removed
//! member is noted as knowing the current library key, so an admin's browser changes it
//! (docs/accounts.md, "Removing a member: the key change").

use cloister_shared::api::trash::VideosOfRemoved;
use cloister_shared::api::Event;
use cloister_shared::VideoId;

use super::unix_now;
use super::users::{self, User};
use crate::error::{AppError, AppResult};
use crate::state::AppState;
use crate::trash::{domain::stop_work, purge, store};

/// Removes `username`. With videos, `choice` says where they go: to `to`, or to the trash (kept
/// by the admin removing the member, who can restore or purge them).
#[tracing::instrument(skip(state, admin), fields(by = %admin.username))]
pub async fn remove_member(
    state: &AppState,
    admin: &User,
    username: &str,
    choice: Option<VideosOfRemoved>,
    to: Option<&str>,
) -> AppResult<()> {
    let username = users::valid_username(username)?;
    let member = users::find(&state.db, &username)
        .await?
        .ok_or_else(|| users::no_such_user(&username))?;
    let videos = store::videos_of(&state.db, member.id).await?;
    let receiver = match (videos.is_empty(), choice) {
        (true, _) => None,
        (false, None) => {
            return Err(AppError::Conflict(format!(
                "{username} has {} video{}: choose a member to give them to, or move them to the trash.",
                videos.len(),
                if videos.len() == 1 { "" } else { "s" }
            )))
        }
        (false, Some(VideosOfRemoved::Trash)) => Some(admin.clone()),
        (false, Some(VideosOfRemoved::Move)) => {
            let to = to.ok_or_else(|| {
                AppError::BadRequest("Say which member gets the videos (`to`).".to_owned())
            })?;
            let to = users::valid_username(to)?;
            Some(
                users::find(&state.db, &to)
                    .await?
                    .ok_or_else(|| users::no_such_user(&to))?,
            )
        }
    };
    if receiver.as_ref().is_some_and(|r| r.id == member.id) {
        return Err(AppError::BadRequest(format!(
            "{username}'s videos must go to someone else."
        )));
    }
    // Unfinished uploads cannot change hands (only the uploader's device can finish them).
    for (raw, _) in &videos {
        if let (Ok(id), Some(video)) = (VideoId::parse(raw), store::state_of(&state.db, raw).await?)
        {
            if video.status == "uploading" {
                purge::purge(state, &id).await?;
            }
        }
    }
    let now = unix_now();
    let mut tx = state.db.begin().await?;
    // Before any other write, so a removal waiting here holds no row another one needs.
    users::lock_admin_removals(&mut tx, crate::db::backend(&state.db)).await?;
    let mut stopped_jobs = Vec::new();
    let mut stopped_downloads = Vec::new();
    if let Some(receiver) = &receiver {
        if choice == Some(VideosOfRemoved::Trash) {
            for (raw, trashed_at) in &videos {
                let Ok(id) = VideoId::parse(raw) else {
                    continue;
                };
                if trashed_at.is_some() || !store::mark_trashed(&mut tx, raw, admin.id, now).await?
                {
                    continue;
                }
                stopped_jobs.extend(store::cancel_work(&mut tx, raw, now).await?);
                stopped_downloads.extend(store::cancel_downloads(&mut tx, raw, now).await?);
                crate::events::record(&mut tx, &Event::VideoTrashed { video_id: id }, now).await?;
            }
        }
        store::give_videos(&mut tx, member.id, receiver.id).await?;
    }
    users::delete_comments_by(&mut tx, member.id).await?;
    let removed = users::delete_user(&mut tx, &username).await;
    if !matches!(removed, Ok(1)) {
        drop(tx);
        return users::removed_or_why(&state.db, &username, removed).await;
    }
    // Their keys and grants go with the account (ON DELETE CASCADE), and so do their share links
    // (docs/threat-model.md); the key they may remember is changed by the next key change.
    crate::library::rotation_store::note_removed(&mut tx, &username).await?;
    tx.commit().await?;
    state.events.poke();
    stop_work(state, &stopped_jobs, &stopped_downloads);
    state.live_sessions.recheck();
    tracing::info!(
        username = %username,
        videos = videos.len(),
        to = receiver.as_ref().map(|r| r.username.as_str()).unwrap_or(""),
        "member removed"
    );
    Ok(())
}
