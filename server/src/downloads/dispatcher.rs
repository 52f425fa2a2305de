//! Gives queued downloads a slot when one frees and the gate allows, expires links nobody used,
//! and tells the member concerned over their own sockets (personal events, docs/architecture.md).

use std::time::Duration;

use cloister_shared::api::downloads::file_url;
use cloister_shared::api::Event;

use super::name;
use super::store::{self, DownloadRow};
use crate::accounts::unix_now;
use crate::error::{AppError, AppResult};
use crate::state::AppState;

pub fn link_secs(state: &AppState) -> i64 {
    i64::try_from(state.config.limits.download_link_secs).unwrap_or(i64::MAX / 2)
}

/// May a decrypting download start now (memory, swap and load)?
pub async fn gate_allows(state: &AppState) -> AppResult<bool> {
    let gate = state.gate.clone();
    let verdict = tokio::task::spawn_blocking(move || gate.check_download())
        .await
        .map_err(|err| AppError::Internal(err.to_string()))?;
    Ok(verdict.open())
}

/// Expires links past their time that no transfer uses, and downloads queued too long, telling
/// their owners.
pub async fn expire_stale(state: &AppState) -> AppResult<()> {
    let runtime = state.downloads.clone();
    let expired =
        store::expire_stale(&state.db, unix_now(), |id| runtime.is_transferring(id)).await?;
    for row in expired {
        tracing::info!(download = %row.id, "download link expired unused");
        let video_id = row.video()?;
        let file_name = name::of_row(state, &row).await?;
        state.events.send_personal(
            row.user_id,
            Event::DownloadExpired {
                download_id: row.id,
                video_id,
                file_name,
            },
        );
    }
    Ok(())
}

async fn announce_ready(state: &AppState, row: DownloadRow) -> AppResult<()> {
    tracing::info!(download = %row.id, "queued download ready");
    let video_id = row.video()?;
    let file_name = name::of_row(state, &row).await?;
    state.events.send_personal(
        row.user_id,
        Event::DownloadReady {
            url: file_url(&row.id),
            expires_at: row.expires_at.unwrap_or_default(),
            download_id: row.id,
            video_id,
            file_name,
        },
    );
    Ok(())
}

async fn tick(state: &AppState) -> AppResult<()> {
    expire_stale(state).await?;
    let slots = state.config.limits.max_downloads;
    loop {
        if !store::any_queued(&state.db).await? || !gate_allows(state).await? {
            break;
        }
        let now = unix_now();
        match store::promote_next(&state.db, now, now + link_secs(state), slots).await? {
            Some(row) => announce_ready(state, row).await?,
            None => break,
        }
    }
    store::sweep_finished(&state.db, unix_now()).await?;
    Ok(())
}

/// Runs for the life of the server: at every wake-up (a slot freed, a download queued) and at
/// the gate's recheck interval.
pub fn spawn_dispatcher(state: AppState) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let every = Duration::from_secs(state.config.gate.recheck_secs.max(1));
        loop {
            if let Err(err) = tick(&state).await {
                tracing::warn!(error = %err, "download dispatcher");
            }
            tokio::select! {
                () = state.downloads.woken() => {},
                () = tokio::time::sleep(every) => {},
            }
        }
    })
}
