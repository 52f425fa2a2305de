//! Abandoned uploads: an unfinished upload with no new chunk for `--abandoned-upload-hours` is
//! removed with its files, so a closed tab does not hold disk and quota for ever.

use std::time::Duration;

use cloister_shared::VideoId;

use super::complete::remove;
use crate::accounts::unix_now;
use crate::error::AppResult;
use crate::state::AppState;

const EVERY: Duration = Duration::from_secs(15 * 60);

/// Removes unfinished uploads last touched (created, or a chunk received) before `cutoff` (Unix
/// seconds). Uploads busy right now are skipped. Returns how many were removed.
pub async fn sweep_before(state: &AppState, cutoff: i64) -> AppResult<u64> {
    let ids = super::store::quiet_uploads(&state.db, cutoff).await?;
    let mut removed = 0;
    for raw in ids {
        let Ok(id) = VideoId::parse(&raw) else {
            tracing::error!(id = %raw, "video row with a malformed id left alone");
            continue;
        };
        let lock = state.upload_locks.get(&id);
        let Ok(_guard) = lock.try_write() else {
            continue; // a chunk is arriving: not abandoned after all
        };
        // Look again under the lock: a chunk may have landed since the select.
        if !super::store::still_quiet(&state.db, &id, cutoff).await? {
            continue;
        }
        remove(state, &id).await?;
        state.upload_locks.forget(&id);
        removed += 1;
        tracing::info!(video = %id, "abandoned upload removed");
    }
    Ok(removed)
}

/// The sweep with the configured age, as of now.
pub async fn sweep_abandoned(state: &AppState) -> AppResult<u64> {
    let hours = i64::try_from(state.config.uploads.abandoned_upload_hours).unwrap_or(24);
    sweep_before(state, unix_now() - hours * 3600).await
}

/// Every 15 minutes (and once at start), for `serve`.
pub fn spawn_sweeper(state: AppState) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut ticks = tokio::time::interval(EVERY);
        loop {
            ticks.tick().await;
            if let Err(err) = sweep_abandoned(&state).await {
                tracing::warn!(error = %err, "could not sweep abandoned uploads");
            }
        }
    })
}
