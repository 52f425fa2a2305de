//! `cloister upload FILE…`: seals each file on this machine with the shared crypto and sends it
//! with the same protocol as the browser, resuming an interrupted upload of the same file.

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, UNIX_EPOCH};

use anyhow::{bail, Context};
use bytes::Bytes;
use clap::Args;
use cloister_shared::api::UploadCompleted;
use cloister_shared::crypto::stream::{chunk_count, DEFAULT_CHUNK_SIZE};
use cloister_shared::crypto::upload::{
    check_resume, new_upload, LocalFile, NotResumable, UploadTexts,
};
use cloister_shared::sniff::sniff;
use cloister_shared::{
    content_fingerprint, sample_ranges, upload_fingerprint, ContentSample, Dek, LibraryKey,
    Purpose, StreamHeader, StreamSealer, VideoId,
};
use fs_err::os::unix::fs::FileExt;
use fs_err::File;
use indicatif::{ProgressBar, ProgressStyle};
use tokio::task::JoinSet;

use super::remote::sign_in_and_unlock;
use super::ClientArgs;
use crate::client::{ApiClient, ClientError};
use cloister_shared::keyring::Unlocked;
use cloister_shared::protocol::retry;

/// The seed's message for a failed upload (docs/architecture.md).
const UPLOAD_FAILED: &str = "Upload failed — network error. Please retry.";
/// How long completing an upload waits while the server asks it to (429) before giving up; the
/// upload stays on the server and completes when the command is run again.
const BUSY_PATIENCE: Duration = Duration::from_secs(600);
const MAX_BUSY_PAUSE: Duration = Duration::from_secs(15);

#[derive(Debug, Args)]
pub struct UploadArgs {
    /// Video files to upload.
    #[arg(required = true)]
    pub files: Vec<PathBuf>,
    /// Title (default: the file name without its extension).
    #[arg(long)]
    pub title: Option<String>,
    /// Description.
    #[arg(long)]
    pub description: Option<String>,
    /// Chunks sent at once.
    #[arg(long, default_value_t = 3, value_parser = clap::value_parser!(u8).range(1..=8))]
    pub parallel: u8,
    /// Pause after each chunk (milliseconds): simulates a slow link, so an upload can be
    /// interrupted on purpose (tests, trying out resume).
    #[arg(long, hide = true, default_value_t = 0)]
    pub throttle_ms: u64,
    /// Wait for processing to finish, showing its progress; fails if processing fails.
    #[arg(long)]
    pub wait: bool,
    #[command(flatten)]
    pub client: ClientArgs,
}

pub async fn run(args: UploadArgs) -> anyhow::Result<()> {
    let (client, unlocked) = sign_in_and_unlock(&args.client).await?;
    for path in &args.files {
        upload_one(&client, &unlocked, path, &args)
            .await
            .with_context(|| format!("{}", path.display()))?;
    }
    Ok(())
}

/// A file about to be sent: its name, what identifies it for resuming, and its duplicate
/// fingerprint.
struct Described {
    name: String,
    local: LocalFile,
    content: [u8; 32],
}

/// The file's name and what identifies it: size, modification time and sampled content make its
/// fingerprint (docs/uploads.md, "Upload fingerprint"). An empty file is refused; one whose first
/// bytes are not a video's is sent with a warning (docs/uploads.md, "Before sending").
fn describe(key: &LibraryKey, path: &Path) -> anyhow::Result<Described> {
    let meta = fs_err::metadata(path).context("cannot read the file")?;
    if !meta.is_file() {
        bail!("not a regular file");
    }
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let modified = meta
        .modified()
        .ok()
        .and_then(|t| t.duration_since(UNIX_EPOCH).ok())
        .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX));
    let size = meta.len();
    if size == 0 {
        bail!("the file is empty (0 bytes): there is nothing to upload");
    }
    let file = File::open(path).context("cannot open the file")?;
    let [first, middle, last] = sample_ranges(size).map(|range| {
        let mut buf = vec![0u8; usize::try_from(range.end - range.start).unwrap_or(0)];
        file.read_exact_at(&mut buf, range.start).map(|()| buf)
    });
    let unreadable = "the file changed or could not be read";
    let (first, middle, last) = (
        first.context(unreadable)?,
        middle.context(unreadable)?,
        last.context(unreadable)?,
    );
    if let Some(warning) = sniff(&first).warning() {
        eprintln!("{name}: {warning} Uploading it anyway.");
    }
    let content = ContentSample::of(size, [&first, &middle, &last]).context(unreadable)?;
    let fingerprint = upload_fingerprint(key, &name, size, modified, &content);
    Ok(Described {
        name,
        local: LocalFile { size, fingerprint },
        content: content_fingerprint(key, &content),
    })
}

/// What a resumed or new upload needs: id, DEK, sealer and the chunks the server holds.
struct Session {
    id: VideoId,
    dek: Dek,
    sealer: Arc<StreamSealer>,
    held: HashSet<u64>,
}

impl Session {
    fn new(id: VideoId, dek: Dek, header: &StreamHeader, held: &[u64]) -> anyhow::Result<Self> {
        let sealer = StreamSealer::resume(&dek, &id, &Purpose::Original, header)?;
        Ok(Self {
            id,
            dek,
            sealer: Arc::new(sealer),
            held: held.iter().copied().collect(),
        })
    }
}

/// Resumes the server's unfinished upload of this file when its record passes every check
/// (`check_resume`); otherwise says why, removes that record and starts afresh, with a new DEK and
/// salt, so no chunk is ever sealed twice under one (key, nonce) with different bytes.
async fn resume_or_start(
    client: &ApiClient,
    unlocked: &Unlocked,
    args: &UploadArgs,
    described: &Described,
) -> anyhow::Result<Session> {
    let key = &unlocked.library_key;
    let (name, file) = (&described.name, &described.local);
    let Some(record) = client.find_upload(&hex::encode(file.fingerprint)).await? else {
        return start(client, unlocked, args, described).await;
    };
    match check_resume(key, &record, file) {
        Ok(ok) => {
            println!(
                "Resuming {name}: {} of {} chunks are already on the server.",
                ok.held.len(),
                record.chunk_count
            );
            Session::new(ok.video, ok.dek, &ok.header, &ok.held)
        }
        Err(why) => {
            println!("{name}: {}", why.message());
            if why != NotResumable::Finished {
                // Its fingerprint would block the new upload (one unfinished upload per file).
                client.abort_upload(&record.video_id).await?;
            }
            start(client, unlocked, args, described).await
        }
    }
}

async fn start(
    client: &ApiClient,
    unlocked: &Unlocked,
    args: &UploadArgs,
    described: &Described,
) -> anyhow::Result<Session> {
    let (name, file) = (described.name.as_str(), &described.local);
    let default_title = Path::new(name)
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    let texts = UploadTexts {
        title: args.title.as_deref().unwrap_or(&default_title),
        description: args.description.as_deref(),
        file_name: name,
    };
    let mut new = new_upload(&unlocked.library_key, unlocked.generation, file, &texts)?;
    new.request.content_fingerprint = Some(hex::encode(described.content));
    let created = client.create_upload(&new.request).await?;
    if let Some(note) = &created.processing_note {
        eprintln!("{note}");
    }
    Session::new(
        new.request.video_id,
        new.dek,
        &new.header,
        &created.received,
    )
}

/// Reads and seals chunk `index` (4 MiB at most in memory) on a blocking thread.
async fn sealed_chunk(
    file: Arc<File>,
    sealer: Arc<StreamSealer>,
    size: u64,
    index: u64,
) -> anyhow::Result<Bytes> {
    tokio::task::spawn_blocking(move || -> anyhow::Result<Bytes> {
        let cs = u64::from(DEFAULT_CHUNK_SIZE);
        let start = index * cs;
        let len = usize::try_from(cs.min(size - start))?;
        let mut plain = vec![0u8; len];
        file.read_exact_at(&mut plain, start)
            .context("the file changed or could not be read while uploading")?;
        let last = index + 1 == chunk_count(size, DEFAULT_CHUNK_SIZE);
        Ok(Bytes::from(sealer.seal_chunk(index, &plain, last)?))
    })
    .await?
}

/// What the retry policy both clients share says after `err` (a 507 is not retried: storage is
/// low, and its message says so).
fn next_after(err: &ClientError) -> retry::Next {
    match err {
        ClientError::Unreachable { .. } | ClientError::Protocol { .. } => {
            retry::after_failure(None)
        }
        ClientError::Api { status, .. } => retry::after_failure(Some(status.as_u16())),
        ClientError::BadServer(_) => retry::Next::GiveUp,
    }
}

fn retryable(err: &ClientError) -> bool {
    next_after(err) == retry::Next::Retry
}

async fn put_with_retry(
    client: ApiClient,
    id: VideoId,
    index: u64,
    sealed: Bytes,
) -> anyhow::Result<u64> {
    let len = sealed.len() as u64;
    let mut failures = 0;
    loop {
        match client.put_chunk(&id, index, sealed.clone()).await {
            Ok(_) => return Ok(len),
            Err(err) if next_after(&err) == retry::Next::GiveUp => return Err(err.into()),
            Err(err) => {
                failures += 1;
                let Some(pause) = retry::pause_after(failures) else {
                    bail!("{UPLOAD_FAILED} ({err})");
                };
                tracing::warn!(chunk = index, attempt = failures, error = %err, "retrying");
                tokio::time::sleep(pause).await;
            }
        }
    }
}

fn progress_bar(total: u64, done: u64) -> ProgressBar {
    let bar = ProgressBar::new(total);
    let style = ProgressStyle::with_template(
        "{msg} [{bar:30}] {bytes}/{total_bytes} {bytes_per_sec} ETA {eta}",
    )
    .unwrap_or_else(|_| ProgressStyle::default_bar())
    .progress_chars("=> ");
    bar.set_style(style);
    bar.set_position(done);
    bar
}

async fn upload_one(
    client: &ApiClient,
    unlocked: &Unlocked,
    path: &Path,
    args: &UploadArgs,
) -> anyhow::Result<()> {
    let described = describe(&unlocked.library_key, path)?;
    let size = described.local.size;
    let name = described.name.clone();
    let session = resume_or_start(client, unlocked, args, &described).await?;
    let count = chunk_count(size, DEFAULT_CHUNK_SIZE);
    let todo: Vec<u64> = (0..count).filter(|i| !session.held.contains(i)).collect();
    let held_bytes = (count - todo.len() as u64) * u64::from(DEFAULT_CHUNK_SIZE);
    let bar = progress_bar(size, held_bytes.min(size));
    bar.set_message(name.clone());

    let file = Arc::new(File::open(path).context("cannot open the file")?);
    let mut in_flight = JoinSet::new();
    for &index in &todo {
        let sealed = sealed_chunk(file.clone(), session.sealer.clone(), size, index).await?;
        let plain_len = (sealed.len() as u64).saturating_sub(16);
        while in_flight.len() >= usize::from(args.parallel) {
            finish_one(&mut in_flight, &bar).await?;
        }
        let client = client.clone();
        let id = session.id;
        in_flight.spawn(async move {
            put_with_retry(client, id, index, sealed)
                .await
                .map(|_| plain_len)
        });
        if args.throttle_ms > 0 {
            tokio::time::sleep(Duration::from_millis(args.throttle_ms)).await;
        }
    }
    while !in_flight.is_empty() {
        finish_one(&mut in_flight, &bar).await?;
    }
    bar.finish_and_clear();

    let done = complete_with_retry(client, &session).await?;
    println!("Sent {} of {count} chunks.", todo.len());
    print_done(&name, &done);
    if args.wait {
        println!("Processing {name}:");
        super::jobs::wait(client, done.job_id).await?;
    }
    Ok(())
}

async fn finish_one(
    in_flight: &mut JoinSet<anyhow::Result<u64>>,
    bar: &ProgressBar,
) -> anyhow::Result<()> {
    if let Some(joined) = in_flight.join_next().await {
        bar.inc(joined??);
    }
    Ok(())
}

async fn complete_with_retry(
    client: &ApiClient,
    session: &Session,
) -> anyhow::Result<UploadCompleted> {
    let mut failures = 0;
    let mut busy = BusyWait::default();
    loop {
        match client
            .complete_upload(&session.id, hex::encode(session.dek.as_bytes()))
            .await
        {
            Ok(done) => return Ok(done),
            // Busy checking keys, this member's key checks spent, or their processing queue full:
            // the upload is kept, so wait and complete it then (a batch upload must not fail
            // half-way because the server paces it).
            Err(ClientError::Api {
                status, message, ..
            }) if status == reqwest::StatusCode::TOO_MANY_REQUESTS => {
                busy.wait(&message).await?;
            }
            Err(err) if retryable(&err) && retry::pause_after(failures + 1).is_some() => {
                failures += 1;
                tokio::time::sleep(retry::pause_after(failures).unwrap_or_default()).await;
            }
            Err(err) => return Err(err.into()),
        }
    }
}

/// How `complete` waits while the server answers 429: growing pauses, the reason said once,
/// giving up after `BUSY_PATIENCE`.
struct BusyWait {
    started: Option<std::time::Instant>,
    pause: Duration,
    said: Option<String>,
}

impl Default for BusyWait {
    fn default() -> Self {
        Self {
            started: None,
            pause: Duration::from_secs(1),
            said: None,
        }
    }
}

impl BusyWait {
    async fn wait(&mut self, message: &str) -> anyhow::Result<()> {
        let started = *self.started.get_or_insert_with(std::time::Instant::now);
        if started.elapsed() >= BUSY_PATIENCE {
            bail!("{message}");
        }
        if self.said.as_deref() != Some(message) {
            eprintln!("{message} Waiting, then completing the upload.");
            self.said = Some(message.to_owned());
        }
        tokio::time::sleep(self.pause).await;
        self.pause = (self.pause * 2).min(MAX_BUSY_PAUSE);
        Ok(())
    }
}

fn print_done(name: &str, done: &UploadCompleted) {
    println!(
        "Uploaded {name}: video {}, job {} (position {} of {} in the processing queue).",
        done.video_id, done.job_id, done.queue_position, done.queue_length
    );
    if let Some(note) = &done.processing_note {
        println!("{note}");
    }
}
