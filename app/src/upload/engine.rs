//! The browser's upload loop: fingerprint → resume or create → seal and send the missing chunks,
//! a few in flight → complete. Runs in the page (wasm), reading the file slice by slice.

use std::cell::{Cell, RefCell};
use std::collections::VecDeque;

use cloister_shared::api::CompleteUploadRequest;
use cloister_shared::crypto::keys::Dek;
use cloister_shared::crypto::stream::{Purpose, StreamHeader, StreamSealer, DEFAULT_CHUNK_SIZE};
use cloister_shared::crypto::upload::{
    check_resume, new_upload, LocalFile, NotResumable, Resumable, UploadTexts,
};
use cloister_shared::crypto::webcrypto::WebSealer;
use cloister_shared::{
    content_fingerprint, sample_ranges, upload_fingerprint, ContentSample, VideoId,
};
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;

use super::progress::{Meter, Snapshot};
use super::{UploadState, CHUNKS_IN_FLIGHT, NETWORK_FAILURE};
use crate::api::{self, ApiError};
use crate::browser::{now_ms, sleep_ms};
use crate::keyring::Unlocked;
use cloister_shared::protocol::retry;

pub struct Upload<'a> {
    pub file: &'a web_sys::File,
    pub title: &'a str,
    pub description: &'a str,
    /// The library key this tab holds: new uploads are made under its generation.
    pub keys: &'a Unlocked,
    /// Tells the member something they should know but that does not stop the upload (an
    /// unfinished upload that could not be resumed).
    pub notice: &'a dyn Fn(String),
    /// Called once the server holds the upload (created or found to resume), with its id: from
    /// then on it can be resumed, so the page remembers it (docs/uploads.md, "From a phone").
    pub started: &'a dyn Fn(&VideoId),
}

/// Why an upload stopped early.
enum Stop {
    Cancelled,
    Failed { message: String, retryable: bool },
}

impl From<ApiError> for Stop {
    fn from(err: ApiError) -> Self {
        if is_transient(&err) {
            Stop::Failed {
                message: NETWORK_FAILURE.to_owned(),
                retryable: true,
            }
        } else {
            Stop::Failed {
                message: err.message,
                retryable: false,
            }
        }
    }
}

fn crypto(err: impl std::fmt::Display) -> Stop {
    Stop::Failed {
        message: format!("Encryption failed in this browser: {err}."),
        retryable: false,
    }
}

/// Network trouble or a busy server: worth trying again (the policy the CLI shares). A 507
/// (storage low) is not: its message tells the member what to do, and it must not turn into
/// "network error".
fn is_transient(err: &ApiError) -> bool {
    let status = (err.status != 0).then_some(err.status);
    retry::after_failure(status) != retry::Next::GiveUp
}

/// Runs one upload to the end, reporting each step through `report`; returns the final state.
pub async fn run(
    upload: Upload<'_>,
    cancelled: impl Fn() -> bool,
    report: impl Fn(UploadState),
) -> UploadState {
    let mut video_id = None;
    let outcome = send(&upload, &cancelled, &report, &mut video_id).await;
    match outcome {
        Ok(done) => done,
        Err(Stop::Cancelled) => {
            // Nothing half-sent stays on the server.
            if let Some(id) = video_id {
                let _ = api::abort_upload(&id).await;
            }
            UploadState::Cancelled
        }
        Err(Stop::Failed { message, retryable }) => UploadState::Failed { message, retryable },
    }
}

/// Seals with the browser's WebCrypto where it exists (several times faster: wasm has no AES
/// instructions), else with the portable code. Both produce identical bytes (shared/tests/vectors.rs).
enum ChunkSealer {
    Web(WebSealer),
    Portable(Box<StreamSealer>),
}

impl ChunkSealer {
    async fn for_stream(dek: &Dek, video: &VideoId, header: &StreamHeader) -> Result<Self, Stop> {
        match WebSealer::new(dek, video, &Purpose::Original, header).await {
            Ok(web) => Ok(Self::Web(web)),
            // No `crypto.subtle` (plain HTTP on a LAN address is not a secure context).
            Err(_) => StreamSealer::resume(dek, video, &Purpose::Original, header)
                .map(|sealer| Self::Portable(Box::new(sealer)))
                .map_err(crypto),
        }
    }

    async fn seal_chunk(
        &self,
        index: u64,
        plaintext: &[u8],
        is_last: bool,
    ) -> Result<Vec<u8>, Stop> {
        match self {
            Self::Web(sealer) => sealer.seal_chunk(index, plaintext, is_last).await,
            Self::Portable(sealer) => sealer.seal_chunk(index, plaintext, is_last),
        }
        .map_err(crypto)
    }
}

/// A stream ready to send: the sealer, the DEK to hand over on completion, what is still missing.
struct Prepared {
    video: VideoId,
    dek: Dek,
    sealer: ChunkSealer,
    missing: Vec<u64>,
    chunk_count: u64,
}

async fn send(
    upload: &Upload<'_>,
    cancelled: &impl Fn() -> bool,
    report: &impl Fn(UploadState),
    video_id: &mut Option<String>,
) -> Result<UploadState, Stop> {
    report(UploadState::Preparing);
    let size = upload.file.size() as u64;
    if size == 0 {
        // The page refuses an empty file before this; a guard all the same.
        return Err(Stop::Failed {
            message: super::check::EMPTY_FILE.to_owned(),
            retryable: false,
        });
    }
    let prepared = prepare(upload, size).await?;
    *video_id = Some(prepared.video.to_string());
    (upload.started)(&prepared.video);
    let id = prepared.video.to_string();

    let chunk_size = u64::from(DEFAULT_CHUNK_SIZE);
    let already = prepared.chunk_count - prepared.missing.len() as u64;
    let done_chunks = Cell::new(already);
    let done_bytes = Cell::new(prepared.missing_bytes_complement(size, chunk_size));
    let meter = RefCell::new(Meter::default());
    let queue = RefCell::new(VecDeque::from(prepared.missing.clone()));
    let failure = RefCell::new(None::<Stop>);
    let snapshot = |rate| Snapshot {
        bytes_done: done_bytes.get(),
        bytes_total: size,
        chunks_done: done_chunks.get(),
        chunks_total: prepared.chunk_count,
        rate,
    };
    meter.borrow_mut().record(now_ms(), done_bytes.get());
    report(UploadState::Sending(snapshot(None)));

    let worker = || async {
        loop {
            if failure.borrow().is_some() {
                return;
            }
            if cancelled() {
                failure.replace(Some(Stop::Cancelled));
                return;
            }
            let Some(index) = queue.borrow_mut().pop_front() else {
                return;
            };
            match send_chunk(upload.file, &prepared, &id, index, size, cancelled).await {
                Ok(plain_len) => {
                    done_chunks.set(done_chunks.get() + 1);
                    done_bytes.set(done_bytes.get() + plain_len);
                    let rate = meter.borrow_mut().record(now_ms(), done_bytes.get());
                    report(UploadState::Sending(snapshot(rate)));
                }
                Err(stop) => {
                    // A chunk abandoned because the member cancelled is a cancel, not a failure.
                    failure.replace(Some(if cancelled() { Stop::Cancelled } else { stop }));
                    return;
                }
            }
        }
    };
    futures::future::join_all((0..CHUNKS_IN_FLIGHT).map(|_| worker())).await;
    if cancelled() {
        return Err(Stop::Cancelled);
    }
    if let Some(stop) = failure.take() {
        return Err(stop);
    }

    report(UploadState::Completing);
    let request = CompleteUploadRequest {
        dek: hex::encode(prepared.dek.as_bytes()),
    };
    let completed = with_retries(|| api::complete_upload(&id, &request)).await?;
    Ok(UploadState::Done {
        video_id: completed.video_id,
        job_id: completed.job_id,
        queue_position: completed.queue_position,
        note: completed.processing_note,
    })
}

impl Prepared {
    /// Plaintext bytes the server already holds (all chunks that are not missing).
    fn missing_bytes_complement(&self, size: u64, chunk_size: u64) -> u64 {
        let missing: u64 = self
            .missing
            .iter()
            .map(|&i| plain_len(size, chunk_size, i))
            .sum();
        size - missing.min(size)
    }
}

fn plain_len(size: u64, chunk_size: u64, index: u64) -> u64 {
    size.saturating_sub(index * chunk_size).min(chunk_size)
}

/// What identifies the file: its size and its fingerprint (name, size, modification time and the
/// sampled content, under the library key); and the content sample itself, for the duplicate
/// fingerprint stored with a new upload.
async fn local_file(upload: &Upload<'_>, size: u64) -> Result<(LocalFile, ContentSample), Stop> {
    let modified = upload.file.last_modified().max(0.0) as u64;
    let [first, middle, last] = sample_ranges(size);
    let first = read_slice(upload.file, first.start, first.end).await?;
    let middle = read_slice(upload.file, middle.start, middle.end).await?;
    let last = read_slice(upload.file, last.start, last.end).await?;
    let content =
        ContentSample::of(size, [&first, &middle, &last]).map_err(|_| unreadable_file())?;
    let local = LocalFile {
        size,
        fingerprint: upload_fingerprint(
            &upload.keys.library_key,
            &upload.file.name(),
            size,
            modified,
            &content,
        ),
    };
    Ok((local, content))
}

/// Finds this file's unfinished upload on the server and resumes it with its DEK and salt when its
/// record passes every check (`check_resume`); otherwise tells the member why, removes that record
/// and starts a new upload with a new DEK and salt.
async fn prepare(upload: &Upload<'_>, size: u64) -> Result<Prepared, Stop> {
    let (local, content) = local_file(upload, size).await?;
    let fingerprint = hex::encode(local.fingerprint);
    if let Some(record) = with_retries(|| api::find_upload(&fingerprint)).await? {
        match check_resume(&upload.keys.library_key, &record, &local) {
            Ok(resumable) => return resume(resumable, &local).await,
            Err(why) => {
                (upload.notice)(why.message());
                if why != NotResumable::Finished {
                    // Its fingerprint would block the new upload (one unfinished upload per file).
                    let id = record.video_id.to_string();
                    with_retries(|| api::abort_upload(&id)).await?;
                }
            }
        }
    }
    let description = Some(upload.description).filter(|d| !d.trim().is_empty());
    let name = upload.file.name();
    let texts = UploadTexts {
        title: upload.title,
        description,
        file_name: &name,
    };
    let mut new = new_upload(
        &upload.keys.library_key,
        upload.keys.generation,
        &local,
        &texts,
    )
    .map_err(crypto)?;
    new.request.content_fingerprint = Some(hex::encode(content_fingerprint(
        &upload.keys.library_key,
        &content,
    )));
    let video = new.request.video_id;
    let sealer = ChunkSealer::for_stream(&new.dek, &video, &new.header).await?;
    let created = with_retries(|| api::create_upload(&new.request)).await?;
    let count = local.chunk_count();
    let missing = (0..count)
        .filter(|i| !created.received.contains(i))
        .collect();
    Ok(Prepared {
        video,
        dek: new.dek,
        sealer,
        missing,
        chunk_count: count,
    })
}

async fn resume(resumable: Resumable, local: &LocalFile) -> Result<Prepared, Stop> {
    let Resumable {
        video,
        dek,
        header,
        held,
    } = resumable;
    let sealer = ChunkSealer::for_stream(&dek, &video, &header).await?;
    let count = local.chunk_count();
    let missing = (0..count)
        .filter(|i| held.binary_search(i).is_err())
        .collect();
    Ok(Prepared {
        video,
        dek,
        sealer,
        missing,
        chunk_count: count,
    })
}

/// Reads, seals and sends chunk `index`; returns its plaintext length.
async fn send_chunk(
    file: &web_sys::File,
    prepared: &Prepared,
    id: &str,
    index: u64,
    size: u64,
    cancelled: &impl Fn() -> bool,
) -> Result<u64, Stop> {
    let chunk_size = u64::from(DEFAULT_CHUNK_SIZE);
    let start = index * chunk_size;
    let end = (start + chunk_size).min(size);
    let plaintext = read_slice(file, start, end).await?;
    let is_last = index + 1 == prepared.chunk_count;
    let sealed = prepared
        .sealer
        .seal_chunk(index, &plaintext, is_last)
        .await?;
    drop(plaintext);
    with_retries_unless(|| api::put_chunk(id, index, &sealed), cancelled).await?;
    Ok(end - start)
}

/// One slice of the file, or `None` when it cannot be read (for the checks before sending).
pub async fn read_bytes(file: &web_sys::File, start: u64, end: u64) -> Option<Vec<u8>> {
    read_slice(file, start, end).await.ok()
}

/// One slice of the file, read on its own: the whole file is never in memory.
async fn read_slice(file: &web_sys::File, start: u64, end: u64) -> Result<Vec<u8>, Stop> {
    let unreadable = |_| unreadable_file();
    let blob = file
        .slice_with_f64_and_f64(start as f64, end as f64)
        .map_err(unreadable)?;
    let buffer = JsFuture::from(blob.array_buffer())
        .await
        .map_err(unreadable)?;
    let buffer = buffer
        .dyn_into::<js_sys::ArrayBuffer>()
        .map_err(unreadable)?;
    Ok(js_sys::Uint8Array::new(&buffer).to_vec())
}

fn unreadable_file() -> Stop {
    Stop::Failed {
        message: "The file could not be read. Was it moved or deleted? Choose it again to resume."
            .to_owned(),
        retryable: false,
    }
}

/// Calls `call` until it succeeds or fails for a reason other than the network or a busy server.
async fn with_retries<T, F, Fut>(call: F) -> Result<T, ApiError>
where
    F: Fn() -> Fut,
    Fut: std::future::Future<Output = Result<T, ApiError>>,
{
    with_retries_unless(call, &|| false).await
}

/// As `with_retries`, but gives up at once when `cancelled` turns true, even mid-backoff.
async fn with_retries_unless<T, F, Fut>(
    call: F,
    cancelled: &impl Fn() -> bool,
) -> Result<T, ApiError>
where
    F: Fn() -> Fut,
    Fut: std::future::Future<Output = Result<T, ApiError>>,
{
    const TICK_MS: u32 = 200;
    let mut failures = 0;
    loop {
        match call().await {
            Err(err) if is_transient(&err) && retry::pause_after(failures + 1).is_some() => {
                failures += 1;
                let pause = retry::pause_after(failures).unwrap_or_default();
                let pause_ms = u32::try_from(pause.as_millis()).unwrap_or(u32::MAX);
                let mut waited = 0;
                while waited < pause_ms {
                    if cancelled() {
                        return Err(err);
                    }
                    sleep_ms(TICK_MS).await;
                    waited += TICK_MS;
                }
            }
            other => return other,
        }
    }
}
