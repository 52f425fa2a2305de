//! Loopback benchmark of server-side decrypted downloads (docs/benchmarks.md, "Downloads"):
//! starts the real `cloister serve` on a temp data directory, uploads D videos of S MiB (every
//! chunk sealed for real, since the server opens every one), then measures
//! - one download at a time: throughput (median of N runs),
//! - D downloads at once: aggregate throughput and the server's peak RSS during them,
//! - the same AES-256-GCM opening in this process on one thread, the ceiling of one transfer.
//!
//! `scripts/bench-download.sh` runs it beside `openssl speed -evp aes-256-gcm`.

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{bail, Context};
use bytes::Bytes;
use clap::Parser;
use cloister::client::ApiClient;
use cloister_shared::api::downloads::StartDownloadRequest;
use cloister_shared::api::CreateUploadRequest;
use cloister_shared::crypto::stream::{chunk_count, seal_all, DEFAULT_CHUNK_SIZE};
use cloister_shared::{wrap_dek, Dek, LibraryKey, Purpose, StreamOpener, StreamSealer, VideoId};

mod support;

use support::{add_user, start_server, vm_kib, Server, PASSWORD};

#[derive(Parser)]
struct Args {
    /// Size of each video (MiB).
    #[arg(long, default_value_t = 512, value_parser = clap::value_parser!(u64).range(1..=8192))]
    size_mib: u64,
    /// Downloads at once in the concurrent run (the server's D is set to match).
    #[arg(long, default_value_t = 2, value_parser = clap::value_parser!(u32).range(1..=8))]
    downloads: u32,
    /// Runs of each measurement; medians are reported.
    #[arg(long, default_value_t = 5, value_parser = clap::value_parser!(u32).range(1..=50))]
    runs: u32,
    /// The `cloister` binary to benchmark.
    #[arg(long, default_value = "target/release/cloister")]
    binary: PathBuf,
}

struct Video {
    id: VideoId,
    dek: Dek,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let data = tempfile::tempdir().context("temp dir")?;
    add_user(&args.binary, data.path()).await?;
    let downloads = args.downloads.to_string();
    let Server {
        child: mut server,
        pid,
        url,
    } = start_server(
        &args.binary,
        data.path(),
        &["--workers", "0"],
        &[
            ("CLOISTER_MAX_DOWNLOADS", &downloads),
            // The gate is not what is measured: a loaded benchmark machine must not refuse.
            ("CLOISTER_MAX_LOAD", "1000"),
            ("CLOISTER_MAX_RAM_PERCENT", "100"),
            ("CLOISTER_MIN_AVAILABLE_RAM_MB", "0"),
            ("CLOISTER_MAX_SWAP_USED_MB", "1000000"),
        ],
    )
    .await?;
    let client = ApiClient::new(&url)?;
    client.login("bench", PASSWORD).await?;

    let size = args.size_mib << 20;
    let mut videos = Vec::new();
    for n in 0..args.downloads {
        videos.push(upload(&client, n, size).await?);
    }
    let rss_idle = vm_kib(pid, "VmRSS")?;

    let mut single = Vec::new();
    for _ in 0..args.runs {
        let started = Instant::now();
        download(&client, &videos[0]).await?;
        single.push(size as f64 / 1e6 / started.elapsed().as_secs_f64());
    }

    let mut together = Vec::new();
    let mut peak_rss = 0u64;
    for _ in 0..args.runs {
        let peak = Arc::new(AtomicU64::new(0));
        let running = Arc::new(AtomicBool::new(true));
        let sampler = {
            let (peak, running) = (peak.clone(), running.clone());
            tokio::spawn(async move {
                while running.load(Ordering::Relaxed) {
                    peak.fetch_max(vm_kib(pid, "VmRSS").unwrap_or(0), Ordering::Relaxed);
                    tokio::time::sleep(Duration::from_millis(20)).await;
                }
            })
        };
        let started = Instant::now();
        let all = videos.iter().map(|v| download(&client, v));
        for done in futures_util::future::join_all(all).await {
            done?;
        }
        let secs = started.elapsed().as_secs_f64();
        running.store(false, Ordering::Relaxed);
        sampler.await?;
        together.push(size as f64 * f64::from(args.downloads) / 1e6 / secs);
        peak_rss = peak_rss.max(peak.load(Ordering::Relaxed));
    }

    let ceiling = open_in_process(size.min(256 << 20))?;
    println!("videos: {} × {} MiB", args.downloads, args.size_mib);
    println!(
        "one download at a time: median {:.0} MB/s",
        median(&mut single)
    );
    println!(
        "{} downloads at once: median {:.0} MB/s in total",
        args.downloads,
        median(&mut together)
    );
    println!("AES-256-GCM opening in process, one thread: {ceiling:.0} MB/s");
    println!(
        "server RSS: {:.1} MiB idle after the uploads, peak {:.1} MiB during {} downloads at once",
        rss_idle as f64 / 1024.0,
        peak_rss as f64 / 1024.0,
        args.downloads
    );
    server.start_kill()?;
    let _ = server.wait().await;
    Ok(())
}

fn median(values: &mut [f64]) -> f64 {
    values.sort_by(f64::total_cmp);
    values.get(values.len() / 2).copied().unwrap_or(0.0)
}

/// Asks for a download and reads it to the end; fails if a byte is missing.
async fn download(client: &ApiClient, video: &Video) -> anyhow::Result<()> {
    let info = client
        .start_download(
            &video.id,
            &StartDownloadRequest {
                dek: hex::encode(video.dek.as_bytes()),
                file_name: "bench.bin".to_owned(),
                queue: false,
            },
        )
        .await?;
    let url = info.url.context("the download is not ready")?;
    let mut response = client.download_file(&url).await?;
    let mut received = 0u64;
    while let Some(piece) = response.chunk().await? {
        received += piece.len() as u64;
    }
    if received != info.size_bytes {
        bail!("received {received} of {} bytes", info.size_bytes);
    }
    Ok(())
}

async fn upload(client: &ApiClient, n: u32, size: u64) -> anyhow::Result<Video> {
    let key = LibraryKey::generate()?;
    let id = VideoId::random()?;
    let dek = Dek::generate()?;
    let sealer = Arc::new(StreamSealer::new(
        &dek,
        &id,
        &Purpose::Original,
        DEFAULT_CHUNK_SIZE,
    )?);
    let count = chunk_count(size, DEFAULT_CHUNK_SIZE);
    let title = seal_all(&dek, &id, &Purpose::Title, DEFAULT_CHUNK_SIZE, b"bench")?;
    client
        .create_upload(&CreateUploadRequest {
            video_id: id,
            size_bytes: size,
            chunk_count: count,
            stream_header: hex::encode(sealer.header().to_bytes()),
            wrapped_dek: wrap_dek(&key, &id, &dek)?,
            title_sealed: hex::encode(title),
            description_sealed: None,
            file_name_sealed: None,
            fingerprint: hex::encode([n as u8; 32]),
            resume_mac: None,
            content_fingerprint: None,
            key_generation: 1,
        })
        .await?;
    for index in 0..count {
        let sealer = sealer.clone();
        let sealed = tokio::task::spawn_blocking(move || -> anyhow::Result<Bytes> {
            let cs = u64::from(DEFAULT_CHUNK_SIZE);
            let plain = vec![index as u8 ^ n as u8; cs.min(size - index * cs) as usize];
            Ok(Bytes::from(sealer.seal_chunk(
                index,
                &plain,
                index + 1 == count,
            )?))
        })
        .await??;
        client.put_chunk(&id, index, sealed).await?;
    }
    client
        .complete_upload(&id, hex::encode(dek.as_bytes()))
        .await?;
    Ok(Video { id, dek })
}

/// MB/s of opening `size` bytes of sealed chunks on this thread: what one transfer could reach
/// if reading and sending cost nothing.
fn open_in_process(size: u64) -> anyhow::Result<f64> {
    let id = VideoId::random()?;
    let dek = Dek::generate()?;
    let sealer = StreamSealer::new(&dek, &id, &Purpose::Original, DEFAULT_CHUNK_SIZE)?;
    let opener = StreamOpener::new(&dek, &id, &Purpose::Original, sealer.header())?;
    let plain = vec![7u8; DEFAULT_CHUNK_SIZE as usize];
    let sealed = sealer.seal_chunk(0, &plain, false)?;
    let rounds = size / u64::from(DEFAULT_CHUNK_SIZE);
    let started = Instant::now();
    for _ in 0..rounds.max(1) {
        std::hint::black_box(opener.open_chunk(0, &sealed, false)?);
    }
    Ok((rounds.max(1) * u64::from(DEFAULT_CHUNK_SIZE)) as f64
        / 1e6
        / started.elapsed().as_secs_f64())
}
