//! `cloister upload FILE…`: seals each file on this machine with the shared crypto and sends it
//! with the same protocol as the browser, resuming an interrupted upload of the same file.

use std::collections::HashSet;
use std::fs::File;
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, UNIX_EPOCH};

use anyhow::{bail, Context};
use bytes::Bytes;
use clap::Args;
use cloister_shared::api::{CreateUploadRequest, UploadCompleted, UploadState, VideoStatus};
use cloister_shared::crypto::stream::{chunk_count, seal_all, DEFAULT_CHUNK_SIZE};
use cloister_shared::{
    unwrap_dek, upload_fingerprint, wrap_dek, Dek, LibraryKey, Purpose, StreamHeader, StreamSealer,
    VideoId,
};
use indicatif::{ProgressBar, ProgressStyle};
use tokio::task::JoinSet;

use super::remote::sign_in_and_unlock;
use super::ClientArgs;
use crate::client::{ApiClient, ClientError};

/// The seed's message for a failed upload (DESIGN.md §5).
const UPLOAD_FAILED: &str = "Upload failed — network error. Please retry.";
/// Attempts per chunk on network errors, with exponential backoff from `FIRST_BACKOFF`.
const ATTEMPTS: u32 = 8;
const FIRST_BACKOFF: Duration = Duration::from_millis(500);
const MAX_BACKOFF: Duration = Duration::from_secs(8);

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
    let (client, library_key) = sign_in_and_unlock(&args.client).await?;
    for path in &args.files {
        upload_one(&client, &library_key, path, &args)
            .await
            .with_context(|| format!("{}", path.display()))?;
    }
    Ok(())
}

/// Name, size and modification time (ms): what the fingerprint is made of.
fn describe(path: &Path) -> anyhow::Result<(String, u64, u64)> {
    let meta = std::fs::metadata(path).context("cannot read the file")?;
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
    Ok((name, meta.len(), modified))
}

/// What a resumed or new upload needs: id, DEK, sealer and the chunks the server holds.
struct Session {
    id: VideoId,
    dek: Dek,
    sealer: Arc<StreamSealer>,
    held: HashSet<u64>,
}

fn resume(key: &LibraryKey, state: &UploadState, size: u64) -> anyhow::Result<Session> {
    if state.size_bytes != size || state.chunk_count != chunk_count(size, DEFAULT_CHUNK_SIZE) {
        bail!("the server's unfinished upload of this file does not match it; cancel it in the web app");
    }
    let dek = unwrap_dek(key, &state.video_id, &state.wrapped_dek)
        .context("cannot open the unfinished upload's key (another library?)")?;
    let header_bytes =
        hex::decode(&state.stream_header).context("bad stream header from the server")?;
    let header = StreamHeader::parse(&header_bytes).context("bad stream header from the server")?;
    // Same file (the fingerprint covers name, size and mtime), same DEK and salt: re-sealed chunks
    // are byte-identical to the ones already sent.
    let sealer = StreamSealer::resume(&dek, &state.video_id, &Purpose::Original, &header)?;
    Ok(Session {
        id: state.video_id,
        dek,
        sealer: Arc::new(sealer),
        held: state.received.iter().copied().collect(),
    })
}

async fn start(
    client: &ApiClient,
    key: &LibraryKey,
    args: &UploadArgs,
    path: &Path,
    size: u64,
    fingerprint: &[u8; 32],
) -> anyhow::Result<Session> {
    let id = VideoId::random()?;
    let dek = Dek::generate()?;
    let sealer = StreamSealer::new(&dek, &id, &Purpose::Original, DEFAULT_CHUNK_SIZE)?;
    let title = args.title.clone().unwrap_or_else(|| {
        path.file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_default()
    });
    let seal_text = |text: &str, purpose: Purpose| -> anyhow::Result<String> {
        Ok(hex::encode(seal_all(
            &dek,
            &id,
            &purpose,
            DEFAULT_CHUNK_SIZE,
            text.as_bytes(),
        )?))
    };
    let request = CreateUploadRequest {
        video_id: id,
        size_bytes: size,
        chunk_count: chunk_count(size, DEFAULT_CHUNK_SIZE),
        stream_header: hex::encode(sealer.header().to_bytes()),
        wrapped_dek: wrap_dek(key, &id, &dek)?,
        title_sealed: seal_text(&title, Purpose::Title)?,
        description_sealed: args
            .description
            .as_deref()
            .map(|d| seal_text(d, Purpose::Description))
            .transpose()?,
        file_name_sealed: path
            .file_name()
            .map(|name| seal_text(&name.to_string_lossy(), Purpose::FileName))
            .transpose()?,
        fingerprint: hex::encode(fingerprint),
    };
    let created = client.create_upload(&request).await?;
    if let Some(note) = &created.processing_note {
        eprintln!("{note}");
    }
    Ok(Session {
        id,
        dek,
        sealer: Arc::new(sealer),
        held: HashSet::new(),
    })
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

fn retryable(err: &ClientError) -> bool {
    match err {
        ClientError::Unreachable { .. } | ClientError::Protocol { .. } => true,
        ClientError::Api { status, .. } => status.is_server_error(),
        ClientError::BadServer(_) => false,
    }
}

async fn put_with_retry(
    client: ApiClient,
    id: VideoId,
    index: u64,
    sealed: Bytes,
) -> anyhow::Result<u64> {
    let len = sealed.len() as u64;
    let mut backoff = FIRST_BACKOFF;
    for attempt in 1..=ATTEMPTS {
        match client.put_chunk(&id, index, sealed.clone()).await {
            Ok(_) => return Ok(len),
            Err(err) if retryable(&err) && attempt < ATTEMPTS => {
                tracing::warn!(chunk = index, attempt, error = %err, "retrying");
                tokio::time::sleep(backoff).await;
                backoff = (backoff * 2).min(MAX_BACKOFF);
            }
            Err(err) if retryable(&err) => bail!("{UPLOAD_FAILED} ({err})"),
            Err(err) => return Err(err.into()),
        }
    }
    bail!("{UPLOAD_FAILED}")
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
    key: &LibraryKey,
    path: &Path,
    args: &UploadArgs,
) -> anyhow::Result<()> {
    let (name, size, modified) = describe(path)?;
    let fingerprint = upload_fingerprint(key, &name, size, modified);
    let session = match client.find_upload(&hex::encode(fingerprint)).await? {
        Some(state) if state.status == VideoStatus::Uploading => {
            let session = resume(key, &state, size)?;
            println!(
                "Resuming {name}: {} of {} chunks are already on the server.",
                session.held.len(),
                state.chunk_count
            );
            session
        }
        _ => start(client, key, args, path, size, &fingerprint).await?,
    };
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
    let mut backoff = FIRST_BACKOFF;
    for attempt in 1..=ATTEMPTS {
        match client
            .complete_upload(&session.id, hex::encode(session.dek.as_bytes()))
            .await
        {
            Ok(done) => return Ok(done),
            Err(err) if retryable(&err) && attempt < ATTEMPTS => {
                tokio::time::sleep(backoff).await;
                backoff = (backoff * 2).min(MAX_BACKOFF);
            }
            Err(err) => return Err(err.into()),
        }
    }
    bail!("{UPLOAD_FAILED}")
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
