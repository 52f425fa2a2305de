//! Deleting a video for good, atomically as members see it (docs/decisions.md, "Delete, trash,
//! restore"): one transaction marks the row "purging" — from then on the video is in no listing,
//! no trash and no file route — then the files go, then the row (its chunks, jobs, comments,
//! downloads and share links with it, by cascade). A crash between leaves a marked row that
//! housekeeping (`sweep`) finishes; never a listed video with missing files.

use std::time::Duration;

use cloister_shared::api::Event;
use cloister_shared::VideoId;

use super::domain::{retention_secs, stop_work};
use super::store;
use crate::accounts::unix_now;
use crate::error::{AppError, AppResult};
use crate::state::AppState;

/// How long a purge waits for chunks of an unfinished upload still arriving.
const UPLOAD_LOCK_WAIT: Duration = Duration::from_secs(30);

/// Purges the video (no permission check: callers decide). A purge already begun is finished.
#[tracing::instrument(skip(state))]
pub async fn purge(state: &AppState, id: &VideoId) -> AppResult<()> {
    // An upload's chunks write under this lock: none lands while its files go.
    let lock = state.upload_locks.get(id);
    let _guard = tokio::time::timeout(UPLOAD_LOCK_WAIT, lock.write_owned())
        .await
        .map_err(|_| {
            AppError::Conflict(
                "Chunks of this upload are still arriving; try again in a moment.".to_owned(),
            )
        })?;
    begin(state, id).await?;
    #[cfg(debug_assertions)]
    fault::stop_if_asked(id)?;
    finish(state, id).await?;
    state.upload_locks.forget(id);
    Ok(())
}

/// Step one: in one transaction, cancel its work, erase its keys, mark it purging and say so.
async fn begin(state: &AppState, id: &VideoId) -> AppResult<()> {
    let now = unix_now();
    let raw = id.to_string();
    let mut tx = state.db.begin().await?;
    let jobs = store::cancel_work(&mut tx, &raw, now).await?;
    let downloads = store::cancel_downloads(&mut tx, &raw, now).await?;
    if store::mark_purging(&mut tx, &raw, now).await? {
        crate::events::record(&mut tx, &Event::VideoPurged { video_id: *id }, now).await?;
    }
    tx.commit().await?;
    state.events.poke();
    stop_work(state, &jobs, &downloads);
    Ok(())
}

/// Steps two and three: the files, then the row.
async fn finish(state: &AppState, id: &VideoId) -> AppResult<()> {
    let storage = state.storage.clone();
    let vid = *id;
    crate::uploads::blocking(move || storage.remove_video(&vid)).await?;
    store::delete_purged(&state.db, &id.to_string()).await
}

/// Purges every video in the trash (an admin's "Empty trash"), or only `owner`'s; answers how
/// many.
#[tracing::instrument(skip(state))]
pub async fn empty(state: &AppState, owner: Option<i64>) -> AppResult<u64> {
    let ids = store::trashed_before(&state.db, i64::MAX, owner).await?;
    purge_all(state, ids).await
}

async fn purge_all(state: &AppState, ids: Vec<String>) -> AppResult<u64> {
    let mut purged = 0;
    for raw in ids {
        let Ok(id) = VideoId::parse(&raw) else {
            tracing::error!(id = %raw, "video row with a malformed id left alone");
            continue;
        };
        purge(state, &id).await?;
        purged += 1;
    }
    Ok(purged)
}

/// Housekeeping: finishes purges a crash interrupted, then purges what stayed in the trash longer
/// than the retention. Answers how many videos went.
#[tracing::instrument(skip(state))]
pub async fn sweep(state: &AppState, now: i64) -> AppResult<u64> {
    let mut done = 0;
    for raw in store::purges_begun(&state.db).await? {
        let Ok(id) = VideoId::parse(&raw) else {
            continue;
        };
        finish(state, &id).await?;
        tracing::info!(video = %id, "interrupted purge finished");
        done += 1;
    }
    let expired = store::trashed_before(&state.db, now - retention_secs(state), None).await?;
    done += purge_all(state, expired).await?;
    Ok(done)
}

/// Every 15 minutes (and once at start), for `serve`.
pub fn spawn_sweeper(state: AppState) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut ticks = tokio::time::interval(Duration::from_secs(15 * 60));
        loop {
            ticks.tick().await;
            match sweep(&state, unix_now()).await {
                Ok(0) => {}
                Ok(n) => tracing::info!(videos = n, "trash housekeeping purged videos"),
                Err(err) => tracing::warn!(error = %err, "could not sweep the trash"),
            }
        }
    })
}

/// Debug builds only (tests): a purge of a chosen video stops right after marking it, as a crash
/// there would (docs/operations.md, "Trash").
#[cfg(debug_assertions)]
pub mod fault {
    use std::sync::Mutex;

    use cloister_shared::VideoId;

    use crate::error::{AppError, AppResult};

    static STOP_FOR: Mutex<Vec<VideoId>> = Mutex::new(Vec::new());

    /// Every purge of `video` stops after its first step.
    pub fn stop_after_marking(video: VideoId) {
        if let Ok(mut videos) = STOP_FOR.lock() {
            videos.push(video);
        }
    }

    pub(super) fn stop_if_asked(video: &VideoId) -> AppResult<()> {
        let asked = STOP_FOR.lock().is_ok_and(|videos| videos.contains(video));
        if asked {
            return Err(AppError::Internal(format!(
                "purge of {video} stopped by a test"
            )));
        }
        Ok(())
    }
}
