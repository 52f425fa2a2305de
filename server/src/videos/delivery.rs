//! Sending sealed files as they are stored: validators and caching, `If-None-Match` → 304, a
//! single `Range` → 206 (416 when it cannot be met), and bodies streamed from storage piece by
//! piece so memory stays flat whatever the file size. The server holds no key for any of this.

use std::ops::Range;
use std::sync::Arc;

use axum::body::Body;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::Response;
use cloister_shared::VideoId;
use futures_util::stream;

use crate::error::{AppError, AppResult};
use crate::storage::{StoredObject, VideoStorage};

/// Read from storage this much at a time.
const PIECE: u64 = 1024 * 1024;

/// How long a browser may reuse a response without asking.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Caching {
    /// What this URL names never changes: keep it for a year, never revalidate.
    Immutable,
    /// What this URL names can change: ask each time, with the ETag (a 304 costs no body).
    Revalidate,
}

impl Caching {
    fn header(self) -> HeaderValue {
        HeaderValue::from_static(match self {
            Self::Immutable => "private, max-age=31536000, immutable",
            Self::Revalidate => "private, no-cache",
        })
    }
}

/// A strong entity tag, quoted as it travels.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ETag(String);

impl ETag {
    /// `tag` must be made of characters allowed in an entity tag (hex, digits, `-`).
    pub fn new(tag: &str) -> Self {
        Self(format!("\"{tag}\""))
    }

    /// From a sealed stream's 32-byte salt: fresh for every sealing, so it names these bytes.
    pub fn from_salt(salt: &[u8]) -> Self {
        Self::new(&hex::encode(salt))
    }

    fn header(&self) -> AppResult<HeaderValue> {
        HeaderValue::from_str(&self.0)
            .map_err(|_| AppError::Internal(format!("{} is not a header value", self.0)))
    }

    /// `If-None-Match` lists this tag (weak comparison, as RFC 9110 asks) or is `*`.
    fn listed_in(&self, request: &HeaderMap) -> bool {
        request
            .get_all(header::IF_NONE_MATCH)
            .iter()
            .filter_map(|value| value.to_str().ok())
            .flat_map(|value| value.split(','))
            .map(str::trim)
            .any(|tag| tag == "*" || tag.strip_prefix("W/").unwrap_or(tag) == self.0)
    }
}

/// A sealed file in storage.
#[derive(Debug, Clone)]
pub enum StoredFile {
    Original,
    Object(StoredObject),
}

impl StoredFile {
    pub fn len(&self, storage: &dyn VideoStorage, video: &VideoId) -> std::io::Result<u64> {
        match self {
            Self::Original => storage.original_len(video),
            Self::Object(object) => storage.object_len(video, object),
        }
    }

    pub fn read(
        &self,
        storage: &dyn VideoStorage,
        video: &VideoId,
        offset: u64,
        len: usize,
    ) -> std::io::Result<Vec<u8>> {
        match self {
            Self::Original => storage.read_original(video, offset, len),
            Self::Object(object) => storage.read_object(video, object, offset, len),
        }
    }
}

/// What a response's body comes from.
pub enum Source {
    /// A file that does not change while it is read, streamed from storage; `len` is its length.
    Stored {
        storage: Arc<dyn VideoStorage>,
        video: VideoId,
        file: StoredFile,
        len: u64,
    },
    /// A small file read whole beforehand.
    Bytes(Vec<u8>),
}

impl Source {
    fn len(&self) -> u64 {
        match self {
            Self::Stored { len, .. } => *len,
            Self::Bytes(bytes) => bytes.len() as u64,
        }
    }

    fn body(self, range: Range<u64>) -> Body {
        match self {
            Self::Bytes(bytes) => {
                let part = usize::try_from(range.start)
                    .ok()
                    .zip(usize::try_from(range.end).ok())
                    .and_then(|(start, end)| bytes.get(start..end))
                    .unwrap_or_default();
                Body::from(part.to_vec())
            }
            Self::Stored {
                storage,
                video,
                file,
                ..
            } => Body::from_stream(pieces(storage, video, file, range)),
        }
    }
}

/// The answer to a GET of a sealed file: 304 when the client holds this version, else the whole
/// file (200) or the one range it asked for (206).
pub fn respond(
    request: &HeaderMap,
    etag: &ETag,
    caching: Caching,
    source: Source,
) -> AppResult<Response> {
    let validators = |builder: axum::http::response::Builder| -> AppResult<_> {
        Ok(builder
            .header(header::ETAG, etag.header()?)
            .header(header::CACHE_CONTROL, caching.header()))
    };
    if etag.listed_in(request) {
        return validators(Response::builder().status(StatusCode::NOT_MODIFIED))?
            .body(Body::empty())
            .map_err(building);
    }
    let len = source.len();
    let range = requested_range(request, len)?;
    let mut response = validators(Response::builder())?
        .header(header::CONTENT_TYPE, "application/octet-stream")
        .header(header::ACCEPT_RANGES, "bytes");
    let range = match range {
        Some(range) => {
            response = response.status(StatusCode::PARTIAL_CONTENT).header(
                header::CONTENT_RANGE,
                format!("bytes {}-{}/{len}", range.start, range.end - 1),
            );
            range
        }
        None => 0..len,
    };
    response
        .header(header::CONTENT_LENGTH, range.end - range.start)
        .body(source.body(range))
        .map_err(building)
}

fn building(err: axum::http::Error) -> AppError {
    AppError::Internal(format!("building a file response: {err}"))
}

/// The single range asked for, as [start, end); `None` without a `Range` header. Several ranges
/// are refused (no client needs them), like a range past the end.
pub(crate) fn requested_range(request: &HeaderMap, len: u64) -> AppResult<Option<Range<u64>>> {
    let Some(raw) = request.get(header::RANGE) else {
        return Ok(None);
    };
    let unsatisfiable = || AppError::RangeNotSatisfiable { len };
    let raw = raw.to_str().map_err(|_| unsatisfiable())?;
    let ranges = http_range_header::parse_range_header(raw)
        .and_then(|parsed| parsed.validate(len))
        .map_err(|_| unsatisfiable())?;
    match ranges.as_slice() {
        [range] => Ok(Some(*range.start()..range.end() + 1)),
        _ => Err(unsatisfiable()),
    }
}

/// `range` of `file`, read a piece at a time on the blocking pool.
fn pieces(
    storage: Arc<dyn VideoStorage>,
    video: VideoId,
    file: StoredFile,
    range: Range<u64>,
) -> impl futures_util::Stream<Item = std::io::Result<Vec<u8>>> {
    let end = range.end;
    stream::unfold(range.start, move |offset| {
        let (storage, file) = (storage.clone(), file.clone());
        async move {
            if offset >= end {
                return None;
            }
            let want = (end - offset).min(PIECE) as usize;
            let read = blocking(storage, move |s| file.read(s, &video, offset, want)).await;
            match read {
                Ok(bytes) if !bytes.is_empty() => {
                    let next = offset + bytes.len() as u64;
                    Some((Ok(bytes), next))
                }
                Ok(_) => Some((Err(std::io::Error::other("the file ended early")), end)),
                Err(err) => Some((Err(std::io::Error::other(err.to_string())), end)),
            }
        }
    })
}

/// Runs a storage operation on the blocking pool.
pub async fn blocking<T: Send + 'static>(
    storage: Arc<dyn VideoStorage>,
    work: impl FnOnce(&dyn VideoStorage) -> std::io::Result<T> + Send + 'static,
) -> AppResult<T> {
    tokio::task::spawn_blocking(move || work(storage.as_ref()))
        .await
        .map_err(|err| AppError::Internal(format!("storage task failed: {err}")))?
        .map_err(AppError::Io)
}
