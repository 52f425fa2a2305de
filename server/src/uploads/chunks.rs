//! `PUT /api/uploads/{id}/chunks/{index}`: a sealed chunk, streamed to its place in the partial
//! original, synced, and only then recorded. Idempotent: the same chunk again rewrites the same
//! bytes and answers 200.

use std::sync::Arc;

use axum::body::Body;
use cloister_shared::api::ChunkStored;
use cloister_shared::crypto::stream::{sealed_chunk_len, HEADER_LEN, TAG_LEN};
use cloister_shared::VideoId;
use http_body_util::BodyExt;

use super::{blocking, ensure_uploading, load_owned, space, Upload};
use crate::accounts::{unix_now, User};
use crate::error::{AppError, AppResult};
use crate::state::AppState;
use crate::storage::PartialOriginal;

/// Bytes gathered from the body before one positioned write: few enough to keep memory flat
/// (a dozen chunk requests at once hold 3 MiB of buffers), many enough that the hop to a
/// blocking thread per write costs little.
const WRITE_BATCH: usize = 256 * 1024;

/// Where chunk `index` starts in the sealed file.
pub fn chunk_offset(chunk_size: u32, index: u64) -> u64 {
    HEADER_LEN as u64 + index * (u64::from(chunk_size) + TAG_LEN as u64)
}

/// Digits a chunk index may have: `u64::MAX` has 20.
const MAX_INDEX_DIGITS: usize = 20;

/// A chunk index as clients write it: canonical decimal, `0` or digits without a leading zero,
/// no sign. One spelling per chunk, so `+1` and `01` cannot pass for chunk 1.
fn parse_index(raw: &str) -> Option<u64> {
    let canonical = !raw.is_empty()
        && raw.len() <= MAX_INDEX_DIGITS
        && raw.bytes().all(|b| b.is_ascii_digit())
        && (raw == "0" || !raw.starts_with('0'));
    canonical.then(|| raw.parse().ok()).flatten()
}

/// The index from the path, checked against the upload.
fn check_index(upload: &Upload, raw: &str) -> AppResult<u64> {
    let last = upload.chunk_count.saturating_sub(1);
    let Some(index) = parse_index(raw) else {
        // The text is the client's own; a long one is not echoed back.
        let shown = if raw.len() <= MAX_INDEX_DIGITS {
            raw
        } else {
            "(too long)"
        };
        return Err(AppError::BadRequest(format!(
            "Chunk index {shown} is not a chunk number: write it in decimal without a sign or \
             leading zeros; this upload has chunks 0 to {last}."
        )));
    };
    if index >= upload.chunk_count {
        return Err(AppError::BadRequest(format!(
            "Chunk index {index} is out of range: this upload has chunks 0 to {last}."
        )));
    }
    Ok(index)
}

fn wrong_length(index: u64, expected: u64, got: u64) -> AppError {
    AppError::BadRequest(format!(
        "Chunk {index} must be exactly {expected} bytes (sealed); got {got}."
    ))
}

async fn write_batch(
    partial: &Arc<dyn PartialOriginal>,
    buf: Vec<u8>,
    offset: u64,
) -> AppResult<Vec<u8>> {
    let partial = partial.clone();
    blocking(move || partial.write_at(&buf, offset).map(|()| buf)).await
}

/// Streams `body` into the partial original at the chunk's offset; `expected` bytes exactly.
async fn stream_to_disk(
    state: &AppState,
    id: &VideoId,
    index: u64,
    offset: u64,
    expected: u64,
    body: Body,
) -> AppResult<()> {
    let storage = state.storage.clone();
    let vid = *id;
    let partial: Arc<dyn PartialOriginal> =
        Arc::from(blocking(move || storage.open_partial(&vid)).await?);
    let mut body = body;
    let mut buf = Vec::with_capacity(WRITE_BATCH);
    let mut got: u64 = 0;
    let mut written: u64 = 0;
    while let Some(frame) = body.frame().await {
        let frame = frame.map_err(|_| {
            AppError::BadRequest(format!(
                "Chunk {index} did not arrive whole (the connection broke, or the body is longer \
                 than {expected} bytes)."
            ))
        })?;
        let Ok(data) = frame.into_data() else {
            continue; // trailers carry nothing we need
        };
        got += data.len() as u64;
        if got > expected {
            return Err(wrong_length(index, expected, got));
        }
        // Flush before the buffer would grow: it stays one fixed allocation per request.
        if buf.len() + data.len() > WRITE_BATCH && !buf.is_empty() {
            let len = buf.len() as u64;
            buf = write_batch(&partial, buf, offset + written).await?;
            written += len;
            buf.clear();
        }
        if data.len() >= WRITE_BATCH {
            // A frame this large is written as it is, without a copy.
            let len = data.len() as u64;
            let p = partial.clone();
            let at = offset + written;
            blocking(move || p.write_at(&data, at)).await?;
            written += len;
        } else {
            buf.extend_from_slice(&data);
        }
    }
    if got != expected {
        return Err(wrong_length(index, expected, got));
    }
    if !buf.is_empty() {
        write_batch(&partial, buf, offset + written).await?;
    }
    // Durable before it is recorded: a recorded chunk is always on disk.
    blocking(move || partial.sync()).await
}

/// How long a refused chunk's body is read before the refusal goes out anyway.
const DRAIN_LIMIT: std::time::Duration = std::time::Duration::from_secs(10);

/// Reads (and drops) at most `expected` bytes of a refused chunk's body, then hands back `err`.
/// A server that answers mid-body and closes makes the client's TCP stack discard the answer
/// (the connection is reset while the client still writes), so a well-sized chunk refused for
/// a reason the client should read — storage low, upload finished — is heard to its end first.
async fn refuse_after_reading(body: Body, expected: u64, err: AppError) -> AppError {
    let drain = async {
        let mut body = body;
        let mut got: u64 = 0;
        while let Some(Ok(frame)) = body.frame().await {
            if let Ok(data) = frame.into_data() {
                got += data.len() as u64;
                if got > expected {
                    break;
                }
            }
        }
    };
    let _ = tokio::time::timeout(DRAIN_LIMIT, drain).await;
    err
}

/// Receives chunk `raw_index` of upload `id` for `user`.
pub async fn put_chunk(
    state: &AppState,
    user: &User,
    id: &VideoId,
    raw_index: &str,
    content_length: Option<u64>,
    body: Body,
) -> AppResult<ChunkStored> {
    let upload = load_owned(&state.db, user.id, id).await?;
    ensure_uploading(&upload)?;
    let index = check_index(&upload, raw_index)?;
    let expected = sealed_chunk_len(upload.size_bytes, upload.chunk_size, index)
        .ok_or_else(|| AppError::BadRequest(format!("Chunk index {index} is out of range.")))?;
    if let Some(len) = content_length {
        if len != expected {
            return Err(wrong_length(index, expected, len));
        }
    }

    // Space was reserved when the upload was admitted, but the disk may have filled since.
    if let Err(err) = space::admit_chunk(state, expected).await {
        return Err(refuse_after_reading(body, expected, err).await);
    }

    // Shared: other chunks of this upload may arrive at the same time; complete and abort wait.
    let lock = state.upload_locks.get(id);
    let _guard = lock.read().await;
    // It may have been completed or removed while this request waited.
    let still = load_owned(&state.db, user.id, id)
        .await
        .and_then(|upload| ensure_uploading(&upload));
    if let Err(err) = still {
        return Err(refuse_after_reading(body, expected, err).await);
    }

    let offset = chunk_offset(upload.chunk_size, index);
    stream_to_disk(state, id, index, offset, expected, body).await?;

    let index_db = i64::try_from(index).unwrap_or(i64::MAX);
    let now = unix_now();
    let received = super::store::record_chunk(
        &state.db,
        id,
        index_db,
        i64::try_from(expected).unwrap_or(i64::MAX),
        now,
    )
    .await?;
    Ok(ChunkStored {
        index,
        received_count: u64::try_from(received).unwrap_or(0),
        chunk_count: upload.chunk_count,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_canonical_decimal_indexes_are_chunk_numbers() {
        for (raw, index) in [
            ("0", 0),
            ("1", 1),
            ("10", 10),
            ("18446744073709551615", u64::MAX),
        ] {
            assert_eq!(parse_index(raw), Some(index), "{raw:?}");
        }
        for raw in [
            "+1",
            "01",
            "00",
            "-1",
            "",
            " 1",
            "1 ",
            "1.0",
            "0x1",
            "\u{661}",
            "18446744073709551616",
            "000000000000000000001",
        ] {
            assert_eq!(parse_index(raw), None, "{raw:?}");
        }
    }
}
