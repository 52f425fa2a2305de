//! `POST /api/uploads/{id}/complete` and `DELETE /api/uploads/{id}`.

use std::time::Duration;

use cloister_shared::api::{CompleteUploadRequest, Event, UploadCompleted};
use cloister_shared::{Dek, VideoId};
use tokio::sync::{OwnedRwLockWriteGuard, RwLock};
use zeroize::Zeroizing;

use super::{blocking, ensure_uploading, late_note, load_owned, received, Upload};
use crate::accounts::{unix_now, User};
use crate::custody;
use crate::error::{AppError, AppResult};
use crate::key_check::{self, KeyVerdict, SealedOriginal};
use crate::state::AppState;

/// How long complete or abort waits for chunk uploads of the same upload still in flight.
const LOCK_WAIT: Duration = Duration::from_secs(30);
/// At most this many missing indexes are listed in a message.
const MISSING_LISTED: usize = 20;

pub(crate) fn parse_dek(hex_dek: &str) -> AppResult<Dek> {
    let mut bytes = Zeroizing::new([0u8; 32]);
    hex::decode_to_slice(hex_dek, bytes.as_mut())
        .map_err(|_| AppError::BadRequest("dek must be 32 bytes as 64 hex digits.".to_owned()))?;
    Ok(Dek::from_bytes(*bytes))
}

/// Takes the upload's lock alone, once chunk writes in flight have finished.
async fn exclusive(state: &AppState, id: &VideoId) -> AppResult<OwnedRwLockWriteGuard<()>> {
    let lock: std::sync::Arc<RwLock<()>> = state.upload_locks.get(id);
    tokio::time::timeout(LOCK_WAIT, lock.write_owned())
        .await
        .map_err(|_| {
            AppError::Conflict(
                "Chunks of this upload are still arriving; try again when they are done."
                    .to_owned(),
            )
        })
}

fn missing_message(missing: &[u64]) -> String {
    let listed: Vec<String> = missing
        .iter()
        .take(MISSING_LISTED)
        .map(u64::to_string)
        .collect();
    let more = missing.len().saturating_sub(MISSING_LISTED);
    let noun = if missing.len() == 1 {
        "Chunk"
    } else {
        "Chunks"
    };
    let verb = if missing.len() == 1 { "is" } else { "are" };
    if more > 0 {
        format!(
            "{noun} {} and {more} more {verb} missing.",
            listed.join(", ")
        )
    } else {
        format!("{noun} {} {verb} missing.", listed.join(", "))
    }
}

/// Checks the assembled file with the DEK through the one key check (`crate::key_check`): its
/// length, its header, and that the DEK opens chunk 0 (catching a client that hands over the
/// wrong key). A mismatch of length or header is the server's fault, logged, and answered 409.
pub(crate) async fn verify_file(
    state: &AppState,
    user_id: i64,
    upload: &Upload,
    dek: &Dek,
) -> AppResult<()> {
    let original = SealedOriginal {
        video: upload.id,
        header: upload.stream_header.clone(),
        size: upload.size_bytes,
    };
    match key_check::check(state, user_id, original, dek).await {
        Ok(KeyVerdict::Opens) => Ok(()),
        Ok(KeyVerdict::WrongKey) => Err(AppError::BadRequest(
            "This key does not open the upload: it is not the key the file was sealed with."
                .to_owned(),
        )),
        Err(AppError::Conflict(_)) => Err(AppError::Conflict(
            "The stored file does not match its chunks; cancel this upload and send it again."
                .to_owned(),
        )),
        Err(other) => Err(other),
    }
}

async fn queue_figures(
    conn: &mut sqlx::AnyConnection,
    job_id: i64,
    priority: i64,
) -> AppResult<(u64, u64)> {
    let (length, ahead) = super::store::queue_figures(conn, job_id, priority).await?;
    Ok((
        u64::try_from(length).unwrap_or(0),
        u64::try_from(ahead).unwrap_or(0),
    ))
}

/// Completes upload `id`: every chunk held, the file checked, synced and renamed into place, then
/// in one transaction the video becomes `uploaded` and a `process` job is queued holding the DEK
/// wrapped under the server key.
pub async fn complete(
    state: &AppState,
    user: &User,
    id: &VideoId,
    req: &CompleteUploadRequest,
) -> AppResult<UploadCompleted> {
    let dek = parse_dek(&req.dek)?;
    load_owned(&state.db, user.id, id).await?;
    let _guard = exclusive(state, id).await?;
    let upload = load_owned(&state.db, user.id, id).await?;
    ensure_uploading(&upload)?;

    let held = received(&state.db, id).await?;
    let missing: Vec<u64> = (0..upload.chunk_count)
        .filter(|i| held.binary_search(i).is_err())
        .collect();
    if !missing.is_empty() {
        return Err(AppError::Conflict(missing_message(&missing)));
    }
    verify_file(state, user.id, &upload, &dek).await?;

    let storage = state.storage.clone();
    let vid = *id;
    blocking(move || storage.finish_original(&vid)).await?;

    let wrapped = custody::wrap_dek(&state.server_key, id, &dek)
        .map_err(|err| AppError::Internal(err.to_string()))?;
    let now = unix_now();
    let mut tx = state.db.begin().await?;
    if !super::store::mark_uploaded(&mut tx, id, now).await? {
        return Err(AppError::Conflict(
            "This upload is already complete.".to_owned(),
        ));
    }
    // After the write above, which holds the database's write lock: the count cannot race.
    let priority = crate::jobs::store::admit(
        &mut tx,
        user.id,
        upload.size_bytes,
        state.config.jobs.max_queued_jobs_per_member,
    )
    .await?;
    let job_id = super::store::queue_job(
        &mut tx,
        id,
        priority,
        now,
        &wrapped,
        i64::try_from(upload.size_bytes).unwrap_or(i64::MAX),
    )
    .await?;
    let (queue_length, ahead) = queue_figures(&mut tx, job_id, priority).await?;
    crate::events::record(
        &mut tx,
        &Event::JobQueued {
            job_id,
            video_id: *id,
            queue_position: ahead + 1,
        },
        now,
    )
    .await?;
    tx.commit().await?;
    state.upload_locks.forget(id);
    state.events.poke();
    state.jobs.wake_workers();

    tracing::info!(video = %id, job = job_id, "upload complete, processing queued");
    Ok(UploadCompleted {
        video_id: *id,
        job_id,
        queue_position: ahead + 1,
        queue_length,
        processing_note: late_note(queue_length, ahead, state.config.uploads.queue_warn_length),
    })
}

/// Removes an unfinished upload of `user`: its files, its chunk rows and its video row.
pub async fn abort(state: &AppState, user: &User, id: &VideoId) -> AppResult<()> {
    load_owned(&state.db, user.id, id).await?;
    let _guard = exclusive(state, id).await?;
    let upload = load_owned(&state.db, user.id, id).await?;
    if ensure_uploading(&upload).is_err() {
        return Err(AppError::Conflict(
            "This upload is complete; it can no longer be cancelled.".to_owned(),
        ));
    }
    remove(state, id).await?;
    state.upload_locks.forget(id);
    tracing::info!(video = %id, user = %user.username, "upload cancelled");
    Ok(())
}

/// Files first, then the row: a failure in between leaves a row the sweep removes later, never
/// files no row points to.
pub(crate) async fn remove(state: &AppState, id: &VideoId) -> AppResult<()> {
    let storage = state.storage.clone();
    let vid = *id;
    blocking(move || storage.remove_video(&vid)).await?;
    super::store::delete_upload(&state.db, id).await?;
    Ok(())
}
