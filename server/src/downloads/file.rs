//! `GET /api/downloads/{id}/file`: the decrypted original, one sealed chunk at a time, so memory
//! stays at about two chunks whatever the file's size. A `Range` is served by opening only the
//! chunks it touches. The link is used up once a transfer reaches the file's last byte (recorded
//! as that last piece is handed to the connection); a transfer that stops short keeps the link
//! alive for another `download_link_secs` to resume. The stream ends with an error as soon as the
//! requester's session ends (sign-out, password change, removal of the user).

use std::ops::Range;
use std::sync::Arc;

use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::Response;
use bytes::Bytes;
use cloister_shared::api::downloads::DownloadState;
use cloister_shared::crypto::stream::{chunk_count, sealed_chunk_len, HEADER_LEN, TAG_LEN};
use cloister_shared::{Purpose, StreamHeader, StreamOpener, VideoId};
use futures_util::stream;
use percent_encoding::{utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};

use super::dispatcher::link_secs;
use super::name::open_name;
use super::routes::parse_download_id;
use super::runtime::Transfer;
use super::store;
use crate::accounts::extract::CurrentSession;
use crate::accounts::sessions::LiveSession;
use crate::accounts::unix_now;
use crate::custody;
use crate::error::{AppError, AppResult};
use crate::state::AppState;
use crate::videos::delivery::requested_range;

/// RFC 5987 `attr-char`: everything else in `filename*` is percent-encoded.
const ATTR_CHAR: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'!')
    .remove(b'#')
    .remove(b'$')
    .remove(b'&')
    .remove(b'+')
    .remove(b'-')
    .remove(b'.')
    .remove(b'^')
    .remove(b'_')
    .remove(b'`')
    .remove(b'|')
    .remove(b'~');

/// `attachment` with an ASCII `filename` for old clients and the exact UTF-8 name in `filename*`.
pub fn content_disposition(name: &str) -> String {
    let ascii: String = name
        .chars()
        .map(|c| {
            if (c.is_ascii_graphic() || c == ' ') && c != '"' && c != '\\' {
                c
            } else {
                '_'
            }
        })
        .collect();
    let encoded = utf8_percent_encode(name, ATTR_CHAR);
    format!("attachment; filename=\"{ascii}\"; filename*=UTF-8''{encoded}")
}

fn gone(what: &str) -> AppError {
    AppError::Gone(format!(
        "This download link {what}. Start a new download from the video."
    ))
}

pub async fn file(
    State(state): State<AppState>,
    session: CurrentSession,
    Path(raw): Path<String>,
    headers: HeaderMap,
) -> AppResult<Response> {
    let user = &session.user;
    let id = parse_download_id(&raw)?;
    let row = store::one(&state.db, &id, user.id).await?;
    match row.state()? {
        DownloadState::Queued => {
            return Err(AppError::Conflict(
                "This download is still queued. You will be told when it is ready.".to_owned(),
            ))
        }
        DownloadState::Done => return Err(gone("has been used")),
        DownloadState::Cancelled => return Err(gone("was cancelled")),
        DownloadState::Expired => return Err(gone("has expired")),
        DownloadState::Ready => {}
    }
    let transfer = state
        .downloads
        .begin(&id)
        .ok_or_else(|| AppError::Conflict("This download is already in progress.".to_owned()))?;
    if row.expires_at.unwrap_or(0) <= unix_now() {
        return Err(gone("has expired"));
    }
    let video = row.video()?;
    let wrapped = row
        .wrapped_dek
        .as_deref()
        .ok_or_else(|| AppError::Internal(format!("ready download {id} holds no key")))?;
    let dek = custody::unwrap_dek(&state.server_key, &video, wrapped)
        .map_err(|err| AppError::Internal(format!("download {id}: {err}")))?;
    let (header, size) = store::original_record(&state.db, &video).await?;
    let header = StreamHeader::parse(&header)
        .map_err(|err| AppError::Internal(format!("video {video} has a bad header: {err}")))?;
    let opener = StreamOpener::new(&dek, &video, &Purpose::Original, &header)
        .map_err(|err| AppError::Internal(format!("download {id}: {err}")))?;
    let file_name = open_name(&dek, &video, &store::sealed_names(&state.db, &video).await?);
    drop(dek);
    let range = requested_range(&headers, size)?;
    let live = state.live_sessions.watch(&state.db, session.token_hash);

    let mut response = Response::builder()
        .header(header::CONTENT_TYPE, "application/octet-stream")
        .header(header::CONTENT_DISPOSITION, content_disposition(&file_name))
        .header(header::ACCEPT_RANGES, "bytes")
        .header(header::CACHE_CONTROL, "no-store");
    let range = match range {
        Some(range) => {
            response = response.status(StatusCode::PARTIAL_CONTENT).header(
                header::CONTENT_RANGE,
                format!("bytes {}-{}/{size}", range.start, range.end - 1),
            );
            range
        }
        None => 0..size,
    };
    tracing::info!(download = %id, start = range.start, end = range.end, "download transfer starts");
    let plain = Plaintext {
        state: state.clone(),
        transfer: Some(transfer),
        live,
        opener: Arc::new(opener),
        video,
        chunk_size: header.chunk_size,
        size,
        range: range.clone(),
        next: range.start,
        reached_end: false,
    };
    response
        .header(header::CONTENT_LENGTH, range.end - range.start)
        .body(Body::from_stream(chunks(plain)))
        .map_err(|err| AppError::Internal(format!("building a download response: {err}")))
}

/// One transfer's progress through the file. When it is dropped (finished, failed, or the client
/// went away) it records the outcome and frees the link.
struct Plaintext {
    state: AppState,
    transfer: Option<Transfer>,
    /// Ends the stream when the requester's session ends.
    live: LiveSession,
    opener: Arc<StreamOpener>,
    video: VideoId,
    chunk_size: u32,
    size: u64,
    range: Range<u64>,
    /// The next plaintext byte to send.
    next: u64,
    reached_end: bool,
}

impl Plaintext {
    /// The piece of the chunk holding byte `next` that falls in the range.
    async fn next_piece(&mut self) -> std::io::Result<Bytes> {
        let chunk_size = u64::from(self.chunk_size);
        let index = self.next / chunk_size;
        let chunks = chunk_count(self.size, self.chunk_size);
        let sealed_len = sealed_chunk_len(self.size, self.chunk_size, index)
            .ok_or_else(|| std::io::Error::other("chunk index out of range"))?;
        let offset = HEADER_LEN as u64 + index * (chunk_size + TAG_LEN as u64);
        let (storage, opener, video) =
            (self.state.storage.clone(), self.opener.clone(), self.video);
        let plain = tokio::task::spawn_blocking(move || {
            let sealed = storage.read_original(&video, offset, sealed_len as usize)?;
            opener
                .open_chunk(index, &sealed, index + 1 == chunks)
                .map_err(|_| std::io::Error::other(format!("chunk {index} does not open")))
        })
        .await
        .map_err(std::io::Error::other)??;
        let chunk_start = index * chunk_size;
        let from = usize::try_from(self.next - chunk_start).unwrap_or(usize::MAX);
        let to =
            usize::try_from(self.range.end.min(chunk_start + plain.len() as u64) - chunk_start)
                .unwrap_or(0);
        let piece = plain
            .get(from..to)
            .filter(|p| !p.is_empty())
            .ok_or_else(|| {
                std::io::Error::other(format!("chunk {index} is shorter than its place"))
            })?;
        let piece = Bytes::copy_from_slice(piece);
        self.next += piece.len() as u64;
        if self.next >= self.size {
            self.reached_end = true;
        }
        Ok(piece)
    }
}

impl Plaintext {
    /// Records how the transfer went (the link used up, or kept alive to resume) and frees it.
    async fn record(&mut self) {
        let Some(transfer) = self.transfer.take() else {
            return;
        };
        record(&self.state, transfer, self.reached_end).await;
    }
}

async fn record(state: &AppState, transfer: Transfer, reached_end: bool) {
    let id = transfer.download_id().to_owned();
    let now = unix_now();
    let recorded = if reached_end {
        store::finish(&state.db, &id, now).await.map(|_| ())
    } else {
        store::extend(&state.db, &id, now + link_secs(state)).await
    };
    match recorded {
        Ok(()) if reached_end => tracing::info!(download = %id, "download complete"),
        Ok(()) => tracing::info!(download = %id, "download transfer stopped early"),
        Err(err) => tracing::warn!(download = %id, error = %err, "recording a download"),
    }
    // Only now may another transfer of the link begin.
    drop(transfer);
}

impl Drop for Plaintext {
    /// The client went away, or a chunk failed: keep the link alive to resume.
    fn drop(&mut self) {
        if let Some(transfer) = self.transfer.take() {
            let (state, reached_end) = (self.state.clone(), self.reached_end);
            tokio::spawn(async move { record(&state, transfer, reached_end).await });
        }
    }
}

fn signed_out(plain: &Plaintext) -> std::io::Error {
    tracing::info!(video = %plain.video, "download stream ended: its session ended");
    std::io::Error::other("the session of this download ended")
}

fn chunks(plain: Plaintext) -> impl futures_util::Stream<Item = std::io::Result<Bytes>> {
    stream::unfold(Some(plain), |plain| async move {
        let mut plain = plain?;
        if plain.next >= plain.range.end {
            return None;
        }
        let cancelled = plain
            .transfer
            .as_ref()
            .is_some_and(|t| t.cancelled.is_cancelled());
        if cancelled {
            return Some((
                Err(std::io::Error::other("the download was cancelled")),
                None,
            ));
        }
        let ended = plain.live.ended();
        let piece = tokio::select! {
            biased;
            () = ended => None,
            piece = plain.next_piece() => Some(piece),
        };
        let Some(piece) = piece else {
            return Some((Err(signed_out(&plain)), None));
        };
        match piece {
            Ok(piece) => {
                if plain.next >= plain.range.end {
                    // Recorded before the last piece goes out: a client holding every byte may
                    // ask again at once, and must find the link used up (or free to resume).
                    plain.record().await;
                }
                Some((Ok(piece), Some(plain)))
            }
            Err(err) => {
                tracing::error!(error = %err, video = %plain.video, "a download cannot be decrypted");
                Some((Err(err), None))
            }
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_names_fit_in_the_header() {
        assert_eq!(
            content_disposition("Holiday 2026.mp4"),
            "attachment; filename=\"Holiday 2026.mp4\"; filename*=UTF-8''Holiday%202026.mp4"
        );
        assert_eq!(
            content_disposition("Été \"à\" la mer.mkv"),
            "attachment; filename=\"_t_ ___ la mer.mkv\"; \
             filename*=UTF-8''%C3%89t%C3%A9%20%22%C3%A0%22%20la%20mer.mkv"
        );
        assert!(axum::http::HeaderValue::from_str(&content_disposition("a\u{7f}b;c")).is_ok());
    }
}
