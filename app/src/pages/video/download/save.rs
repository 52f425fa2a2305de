//! "Save (decrypt here)": the sealed original fetched chunk by chunk (one `Range` request per
//! sealed chunk), each opened in this tab (WebCrypto, else the portable opener) and written out
//! before the next is fetched, so memory holds about one chunk whatever the size. A chunk that does
//! not open stops everything and the partial file is discarded.

use cloister_shared::crypto::stream::{chunk_count, sealed_chunk_len, HEADER_LEN, TAG_LEN};
use cloister_shared::crypto::webcrypto::WebOpener;
use cloister_shared::{Dek, Purpose, StreamHeader, StreamOpener, VideoId};

use super::sink::{Opened, Sink};
use crate::api;
use crate::notify::words::original_undecryptable;
use crate::player::retry::{with_retries, FetchError};

/// What the save needs; the key never leaves this tab.
pub struct SaveRequest {
    pub video: VideoId,
    /// Where the sealed original is fetched from: the member's route or a share's.
    pub original_url: String,
    pub dek: Dek,
    /// Plaintext size (`VideoSummary::size_bytes`).
    pub size: u64,
    pub file_name: String,
}

pub enum SaveEnd {
    Saved,
    /// Cancel was pressed, or the file picker was closed.
    Cancelled,
    /// A chunk did not open: its index (from 0).
    Undecryptable(u64),
    /// Anything else, in words.
    Failed(String),
}

enum Opener {
    Web(WebOpener),
    Portable(Box<StreamOpener>),
}

impl Opener {
    async fn new(dek: &Dek, video: &VideoId, header: &StreamHeader) -> Result<Self, String> {
        if let Ok(web) = WebOpener::new(dek, video, &Purpose::Original, header).await {
            return Ok(Self::Web(web));
        }
        StreamOpener::new(dek, video, &Purpose::Original, header)
            .map(|opener| Self::Portable(Box::new(opener)))
            .map_err(|_| "The original's header is not one this page can open.".to_owned())
    }

    async fn open(&self, index: u64, sealed: &[u8], is_last: bool) -> Option<Vec<u8>> {
        match self {
            Self::Web(opener) => opener.open_chunk(index, sealed, is_last).await.ok(),
            Self::Portable(opener) => opener.open_chunk(index, sealed, is_last).ok(),
        }
    }
}

const UNREACHABLE: &str =
    "Saving stopped: the server could not be reached, even after several tries. Check your connection and try again.";

fn fetch_failed(err: FetchError) -> String {
    match err {
        FetchError::Refused(message) => message,
        FetchError::Unreachable | FetchError::Abandoned => UNREACHABLE.to_owned(),
    }
}

/// Runs one save to the end. `cancelled` is asked between chunks; `progress` gets the plaintext
/// bytes written so far. `host` is where a fallback download link is clicked.
pub async fn run(
    request: SaveRequest,
    cancelled: impl Fn() -> bool,
    progress: impl Fn(u64),
    host: web_sys::Element,
) -> SaveEnd {
    // First, while the click still counts as a user gesture: the picker needs one.
    let sink = match Sink::open(&request.file_name).await {
        Ok(Opened::Ready(sink)) => sink,
        Ok(Opened::Declined) => return SaveEnd::Cancelled,
        Err(message) => return SaveEnd::Failed(message),
    };
    match write_all(&request, &sink, &cancelled, &progress).await {
        Ok(()) => match sink.finish(&host).await {
            Ok(()) => SaveEnd::Saved,
            Err(message) => SaveEnd::Failed(message),
        },
        Err(end) => {
            sink.abort().await;
            end
        }
    }
}

async fn write_all(
    request: &SaveRequest,
    sink: &Sink,
    cancelled: &impl Fn() -> bool,
    progress: &impl Fn(u64),
) -> Result<(), SaveEnd> {
    let SaveRequest {
        video,
        original_url,
        dek,
        size,
        ..
    } = request;
    let fetch = |start: u64, len: u64| {
        with_retries(
            move || api::sealed_range(original_url, start, start + len - 1, None),
            cancelled,
            |_| {},
        )
    };
    let head = fetch(0, HEADER_LEN as u64)
        .await
        .map_err(|err| end_of_fetch(err, cancelled))?;
    let header = StreamHeader::parse(&head).map_err(|_| {
        SaveEnd::Failed("The stored original is not a Cloister sealed stream.".into())
    })?;
    let opener = Opener::new(dek, video, &header)
        .await
        .map_err(SaveEnd::Failed)?;
    let count = chunk_count(*size, header.chunk_size);
    let stride = u64::from(header.chunk_size) + TAG_LEN as u64;
    let mut written = 0u64;
    for index in 0..count {
        if cancelled() {
            return Err(SaveEnd::Cancelled);
        }
        let len = sealed_chunk_len(*size, header.chunk_size, index)
            .ok_or_else(|| SaveEnd::Failed("The original is shorter than its size says.".into()))?;
        let start = HEADER_LEN as u64 + index * stride;
        let sealed = fetch(start, len)
            .await
            .map_err(|err| end_of_fetch(err, cancelled))?;
        // A short or long answer is not the chunk: it cannot open.
        if sealed.len() as u64 != len {
            return Err(SaveEnd::Undecryptable(index));
        }
        let plain = opener
            .open(index, &sealed, index + 1 == count)
            .await
            .ok_or(SaveEnd::Undecryptable(index))?;
        sink.write(&plain).await.map_err(SaveEnd::Failed)?;
        written += plain.len() as u64;
        progress(written);
    }
    Ok(())
}

fn end_of_fetch(err: FetchError, cancelled: &impl Fn() -> bool) -> SaveEnd {
    if cancelled() || err == FetchError::Abandoned {
        SaveEnd::Cancelled
    } else {
        SaveEnd::Failed(fetch_failed(err))
    }
}

impl SaveEnd {
    /// The line the panel shows; `None` for a plain success or cancel (the panel has its own).
    pub fn message(&self) -> Option<String> {
        match self {
            Self::Undecryptable(index) => Some(original_undecryptable(*index)),
            Self::Failed(message) => Some(message.clone()),
            Self::Saved | Self::Cancelled => None,
        }
    }
}
