//! Free disk for uploads (docs/uploads.md, "Disk space"): a new upload is admitted only if the
//! disk holds it, everything already admitted will still write, and the reserve; every chunk is
//! checked again against a hard floor kept for the database; a write that finds the disk full
//! anyway is refused like the rest. Each refusal is a 507 with the storage-low message, logged
//! once at warn: a full disk is an answer, not a server fault.

use tokio::sync::{Mutex, MutexGuard};

use super::blocking;
use super::create::STORAGE_LOW;
use crate::error::{AppError, AppResult};
use crate::state::AppState;

/// One admission at a time: the check and the upload's row it admits must not interleave with
/// another's, or two uploads could both be counted against the same free bytes. Only `serve`
/// admits uploads, so a lock in this process is enough.
static ADMISSION: Mutex<()> = Mutex::const_new(());

pub async fn admission() -> MutexGuard<'static, ()> {
    ADMISSION.lock().await
}

fn storage_low() -> AppError {
    AppError::InsufficientStorage(STORAGE_LOW.to_owned())
}

async fn free_bytes(state: &AppState) -> AppResult<u64> {
    let disk = state.disk.clone();
    let root = state.data.root().to_path_buf();
    blocking(move || disk.available_bytes(&root)).await
}

/// Admits a new upload of `size` (plaintext) bytes: free space must exceed twice its size, what
/// admitted uploads and unfinished jobs still hold, and `--disk-reserve-bytes`. Call under
/// `admission()`, held until the upload's row exists.
pub async fn admit_upload(state: &AppState, size: u64) -> AppResult<()> {
    let free = free_bytes(state).await?;
    let reserved = super::store::reserved_bytes(&state.db).await?;
    let needed = size
        .saturating_mul(2)
        .saturating_add(reserved)
        .saturating_add(state.config.gate.disk_reserve_bytes);
    if free > needed {
        return Ok(());
    }
    tracing::warn!(free, needed, reserved, size, "upload refused: storage low");
    Err(storage_low())
}

/// A chunk of `len` sealed bytes may be written only if `--disk-floor-bytes` stay free after it.
pub async fn admit_chunk(state: &AppState, len: u64) -> AppResult<()> {
    let free = free_bytes(state).await?;
    let floor = state.config.gate.disk_floor_bytes;
    if free > len.saturating_add(floor) {
        return Ok(());
    }
    tracing::warn!(free, len, floor, "chunk refused: storage low");
    Err(storage_low())
}

/// A write that found the disk full (the filesystem or SQLite said so) becomes the storage-low
/// refusal; any other error passes through.
pub fn refuse_if_disk_full(err: AppError) -> AppError {
    if err.is_disk_full() {
        tracing::warn!(error = %err, "request refused: the disk is full");
        storage_low()
    } else {
        err
    }
}
