//! `POST /api/uploads`: every check happens before a byte is stored.

use cloister_shared::api::uploads::{
    FINGERPRINT_LEN, MAX_DESCRIPTION_SEALED_BYTES, MAX_FILE_NAME_SEALED_BYTES,
    MAX_TITLE_SEALED_BYTES, RESUME_MAC_LEN,
};
use cloister_shared::api::{CreateUploadRequest, UploadCreated};
use cloister_shared::crypto::stream::{chunk_count, DEFAULT_CHUNK_SIZE, HEADER_LEN, TAG_LEN};
use cloister_shared::StreamHeader;

use super::{active_job_count, blocking, late_note, space};
use crate::accounts::{unix_now, User};
use crate::error::{AppError, AppResult};
use crate::state::AppState;

/// The seed's message, word for word (docs/architecture.md).
pub const STORAGE_LOW: &str =
    "Upload cannot be accepted — server storage is low. Try smaller file or contact admin.";

fn decode_hex(field: &str, value: &str, max_bytes: usize) -> AppResult<Vec<u8>> {
    if value.len() > max_bytes * 2 {
        return Err(AppError::BadRequest(format!(
            "{field} is too long: at most {max_bytes} bytes."
        )));
    }
    hex::decode(value).map_err(|_| AppError::BadRequest(format!("{field} must be lowercase hex.")))
}

/// A sealed title, description or file name: a valid stream header, then chunks whose lengths fit
/// the header's chunk size (each a tag plus at most one chunk of text). The server cannot open it;
/// this is the shape every client's sealing produces. Upload and edit both check with this.
pub fn sealed_blob(field: &str, value: &str, max_bytes: usize) -> AppResult<Vec<u8>> {
    let bytes = decode_hex(field, value, max_bytes)?;
    let not_sealed = || AppError::BadRequest(format!("{field} is not a sealed stream."));
    let header = StreamHeader::parse(&bytes).map_err(|_| not_sealed())?;
    let body = bytes.len().checked_sub(HEADER_LEN).ok_or_else(not_sealed)?;
    let full_chunk = header.chunk_size as usize + TAG_LEN;
    let last = body % full_chunk;
    if body < TAG_LEN || (last != 0 && last < TAG_LEN) {
        return Err(not_sealed());
    }
    Ok(bytes)
}

pub use cloister_shared::protocol::human_bytes;

/// What the checks accepted, ready to insert.
struct Checked {
    header: Vec<u8>,
    title: Vec<u8>,
    description: Option<Vec<u8>>,
    file_name: Option<Vec<u8>>,
    fingerprint: Vec<u8>,
    resume_mac: Option<Vec<u8>>,
    content_fingerprint: Option<Vec<u8>>,
}

fn check_shape(req: &CreateUploadRequest, max_upload: u64) -> AppResult<Checked> {
    let header = decode_hex("stream_header", &req.stream_header, HEADER_LEN)?;
    let parsed = StreamHeader::parse(&header)
        .ok()
        .filter(|_| header.len() == HEADER_LEN)
        .ok_or_else(|| {
            AppError::BadRequest(format!(
                "stream_header is not a sealed-stream header ({HEADER_LEN} bytes)."
            ))
        })?;
    if parsed.chunk_size != DEFAULT_CHUNK_SIZE {
        return Err(AppError::BadRequest(format!(
            "Uploads use chunks of {DEFAULT_CHUNK_SIZE} bytes (4 MiB); this header says {}.",
            parsed.chunk_size
        )));
    }
    let expected = chunk_count(req.size_bytes, DEFAULT_CHUNK_SIZE);
    if req.chunk_count != expected {
        return Err(AppError::BadRequest(format!(
            "A file of {} bytes has {expected} chunks of 4 MiB, not {}.",
            req.size_bytes, req.chunk_count
        )));
    }
    if req.size_bytes > max_upload {
        return Err(AppError::PayloadTooLarge(format!(
            "This file is {}; the largest upload this server accepts is {}.",
            human_bytes(req.size_bytes),
            human_bytes(max_upload)
        )));
    }
    let fingerprint = fingerprint_bytes("fingerprint", &req.fingerprint)?;
    let content_fingerprint = req
        .content_fingerprint
        .as_deref()
        .map(|fp| fingerprint_bytes("content_fingerprint", fp))
        .transpose()?;
    let resume_mac = req
        .resume_mac
        .as_deref()
        .map(|mac| decode_hex("resume_mac", mac, RESUME_MAC_LEN))
        .transpose()?;
    if resume_mac
        .as_ref()
        .is_some_and(|mac| mac.len() != RESUME_MAC_LEN)
    {
        return Err(AppError::BadRequest(format!(
            "resume_mac must be {RESUME_MAC_LEN} bytes ({} hex digits).",
            RESUME_MAC_LEN * 2
        )));
    }
    let title = sealed_blob("title_sealed", &req.title_sealed, MAX_TITLE_SEALED_BYTES)?;
    let description = req
        .description_sealed
        .as_deref()
        .map(|d| sealed_blob("description_sealed", d, MAX_DESCRIPTION_SEALED_BYTES))
        .transpose()?;
    let file_name = req
        .file_name_sealed
        .as_deref()
        .map(|d| sealed_blob("file_name_sealed", d, MAX_FILE_NAME_SEALED_BYTES))
        .transpose()?;
    Ok(Checked {
        header,
        title,
        description,
        file_name,
        fingerprint,
        resume_mac,
        content_fingerprint,
    })
}

/// A 32-byte fingerprint written as 64 hex digits.
pub fn fingerprint_bytes(field: &str, value: &str) -> AppResult<Vec<u8>> {
    let bytes = decode_hex(field, value, FINGERPRINT_LEN)?;
    if bytes.len() != FINGERPRINT_LEN {
        return Err(AppError::BadRequest(format!(
            "{field} must be {FINGERPRINT_LEN} bytes ({} hex digits).",
            FINGERPRINT_LEN * 2
        )));
    }
    Ok(bytes)
}

async fn used_bytes(state: &AppState, user: &User) -> AppResult<u64> {
    let used = super::store::used_bytes(&state.db, user.id).await?;
    Ok(u64::try_from(used).unwrap_or(0))
}

fn over_quota(used: u64, size: u64, quota: u64) -> AppError {
    AppError::PayloadTooLarge(format!(
        "This upload would put you over your storage quota: you use {} of {}, and this file is {}.",
        human_bytes(used),
        human_bytes(quota),
        human_bytes(size)
    ))
}

async fn refuse_duplicates(
    state: &AppState,
    user: &User,
    req: &CreateUploadRequest,
    fp: &[u8],
) -> AppResult<()> {
    if super::store::video_exists(&state.db, &req.video_id).await? {
        return Err(AppError::Conflict(
            "A video with this id exists already; make a new id.".to_owned(),
        ));
    }
    if let Some(id) = super::store::open_upload_of(&state.db, user.id, fp).await? {
        return Err(AppError::Conflict(format!(
            "You already have an unfinished upload of this file ({id}): resume it, or cancel it first."
        )));
    }
    Ok(())
}

/// Checks `req` and creates the upload: a `videos` row in `uploading` and a partial original
/// holding the header.
pub async fn create(
    state: &AppState,
    user: &User,
    req: &CreateUploadRequest,
) -> AppResult<UploadCreated> {
    let checked = check_shape(req, state.config.limits.max_upload_bytes)?;
    let used = used_bytes(state, user).await?;
    if used.saturating_add(req.size_bytes) > user.quota_bytes {
        return Err(over_quota(used, req.size_bytes, user.quota_bytes));
    }
    // Held until the row exists, so the next admission counts this upload.
    let _admission = space::admission().await;
    space::admit_upload(state, req.size_bytes).await?;
    refuse_duplicates(state, user, req, &checked.fingerprint).await?;

    let size = i64::try_from(req.size_bytes)
        .map_err(|_| AppError::BadRequest("size_bytes is out of range.".to_owned()))?;
    let count = i64::try_from(req.chunk_count)
        .map_err(|_| AppError::BadRequest("chunk_count is out of range.".to_owned()))?;
    let quota = i64::try_from(user.quota_bytes).unwrap_or(i64::MAX);
    let now = unix_now();
    // The quota and the key generation are checked inside the INSERT, so two uploads at once
    // cannot both squeeze under the quota, and no upload lands under a key a key change has just
    // replaced (docs/accounts.md, "Keys for people"). Before the library is set up the first key
    // will be generation 1.
    let mut tx = state.db.begin().await?;
    let inserted = super::store::insert_upload(
        &mut tx,
        &super::store::NewUpload {
            id: &req.video_id,
            owner_id: user.id,
            size_bytes: size,
            quota_bytes: quota,
            now,
            wrapped_dek: req.wrapped_dek.to_bytes().as_slice(),
            title: &checked.title,
            description: checked.description.as_deref(),
            file_name: checked.file_name.as_deref(),
            stream_header: &checked.header,
            chunk_size: i64::from(DEFAULT_CHUNK_SIZE),
            chunk_count: count,
            fingerprint: &checked.fingerprint,
            resume_mac: checked.resume_mac.as_deref(),
            content_fingerprint: checked.content_fingerprint.as_deref(),
            key_generation: i64::from(req.key_generation),
        },
    )
    .await?;
    if !inserted {
        drop(tx);
        let current = crate::library::store::generation(&state.db)
            .await?
            .unwrap_or(1);
        if req.key_generation != current {
            return Err(AppError::Conflict(
                "The library key has changed since you unlocked. Unlock again and retry."
                    .to_owned(),
            ));
        }
        let used = used_bytes(state, user).await?;
        return Err(over_quota(used, req.size_bytes, user.quota_bytes));
    }
    tx.commit().await?;

    let storage = state.storage.clone();
    let id = req.video_id;
    let header = checked.header;
    if let Err(err) = blocking(move || storage.begin_original(&id, &header)).await {
        // No file, no upload: take the row back so the quota is not held by nothing.
        let _ = super::store::delete_upload(&state.db, &id).await;
        return Err(err);
    }
    tracing::info!(video = %id, user = %user.username, size = req.size_bytes, "upload created");
    let queued = active_job_count(&state.db).await?;
    Ok(UploadCreated {
        video_id: id,
        chunk_size: DEFAULT_CHUNK_SIZE,
        chunk_count: req.chunk_count,
        received: Vec::new(),
        // This video will join the queue behind every job in it now.
        processing_note: late_note(queued + 1, queued, state.config.uploads.queue_warn_length),
    })
}
