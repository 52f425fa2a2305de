//! The upload protocol (docs/architecture.md, docs/uploads.md): create → put sealed chunks by index, in
//! any order, idempotently → ask which are held → complete (the DEK for processing, a job) or
//! abort; and the sweep of abandoned uploads.
//!
//! Handlers in `routes` call these functions; the CLI's server side and the worker can call the
//! same ones. Nothing here ever sees plaintext or a key, except the DEK handed over on complete.

pub mod chunks;
pub mod complete;
pub mod create;
pub mod duplicates;
mod locks;
pub mod routes;
pub mod space;
pub mod status;
pub mod store;
pub mod sweep;

use crate::db::Db;
use cloister_shared::api::VideoStatus;
use cloister_shared::VideoId;

pub use locks::UploadLocks;
pub use routes::router;
pub use sweep::spawn_sweeper;

use crate::error::{AppError, AppResult};

/// An upload (a `videos` row) as the protocol needs it.
#[derive(Debug, Clone)]
pub struct Upload {
    pub id: VideoId,
    pub owner_id: i64,
    pub status: VideoStatus,
    pub size_bytes: u64,
    pub chunk_size: u32,
    pub chunk_count: u64,
    pub stream_header: Vec<u8>,
    pub wrapped_dek: Vec<u8>,
}

/// Parses an id from a path: the only way an id reaches storage.
pub fn parse_id(raw: &str) -> AppResult<VideoId> {
    VideoId::parse(raw).map_err(|_| {
        AppError::BadRequest(
            "That is not an upload id: ids are 32 lowercase hex digits.".to_owned(),
        )
    })
}

/// The caller's upload `id`. Someone else's is "not found" too: its existence is not revealed.
pub async fn load_owned(pool: &Db, owner_id: i64, id: &VideoId) -> AppResult<Upload> {
    let upload = load(pool, id).await?;
    if upload.owner_id != owner_id {
        return Err(AppError::NotFound("No such upload.".to_owned()));
    }
    Ok(upload)
}

/// Video `id`'s upload, whoever owns it.
pub async fn load(pool: &Db, id: &VideoId) -> AppResult<Upload> {
    let row = store::upload_row(pool, id).await?;
    let not_found = || AppError::NotFound("No such upload.".to_owned());
    let (owner, status, size, chunk_size, chunk_count, header, wrapped) =
        row.ok_or_else(not_found)?;
    let corrupt = |what: &str| AppError::Internal(format!("video {id} has a bad {what}"));
    Ok(Upload {
        id: *id,
        owner_id: owner,
        status: VideoStatus::parse(&status).ok_or_else(|| corrupt("status"))?,
        size_bytes: u64::try_from(size).map_err(|_| corrupt("size"))?,
        chunk_size: u32::try_from(chunk_size).map_err(|_| corrupt("chunk size"))?,
        chunk_count: u64::try_from(chunk_count).map_err(|_| corrupt("chunk count"))?,
        stream_header: header,
        wrapped_dek: wrapped,
    })
}

/// 409 unless the upload is still taking chunks.
pub fn ensure_uploading(upload: &Upload) -> AppResult<()> {
    if upload.status == VideoStatus::Uploading {
        Ok(())
    } else {
        Err(AppError::Conflict(
            "This upload is already complete.".to_owned(),
        ))
    }
}

/// Chunk indexes held for `id`, ascending.
pub async fn received(pool: &Db, id: &VideoId) -> AppResult<Vec<u64>> {
    let rows = store::chunk_indexes(pool, id).await?;
    Ok(rows
        .into_iter()
        .filter_map(|i| u64::try_from(i).ok())
        .collect())
}

/// Runs blocking storage work off the async threads.
pub(crate) async fn blocking<T: Send + 'static>(
    work: impl FnOnce() -> std::io::Result<T> + Send + 'static,
) -> AppResult<T> {
    tokio::task::spawn_blocking(work)
        .await
        .map_err(|err| AppError::Internal(format!("storage task failed: {err}")))?
        .map_err(AppError::Io)
}

pub async fn active_job_count(pool: &Db) -> AppResult<u64> {
    Ok(u64::try_from(store::active_jobs(pool).await?).unwrap_or(0))
}

/// The "processing will be late" note, when the queue is longer than `warn_length`.
pub fn late_note(queue_length: u64, ahead: u64, warn_length: u64) -> Option<String> {
    (queue_length > warn_length).then(|| cloister_shared::api::uploads::late_processing_note(ahead))
}
