//! Loopback upload benchmark (docs/benchmarks.md, "Upload"): starts the real `cloister serve`
//! with a temp data directory, runs N clients each uploading one file of S MiB over the upload
//! protocol, and reports ingest throughput (MB/s of sealed bytes) and the server's peak RSS.
//!
//!     cargo build --release -p cloister --example upload_bench --bin cloister
//!     target/release/examples/upload_bench --clients 4 --size-mib 1024
//!
//! By default the clients send pre-sealed buffers, so the figure is the server's ingest rate and
//! not the clients' sealing speed (on a 2-core machine the clients would otherwise take CPU from
//! the server). Chunk 0 and the last chunk are sealed for real (complete checks that the DEK
//! opens chunk 0); middle chunks reuse one sealed buffer of the right length, which costs the
//! server exactly the same work: it cannot and does not authenticate them. `--seal` seals every
//! chunk in the client instead, as `cloister upload` does.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context;
use bytes::Bytes;
use clap::Parser;
use cloister::client::ApiClient;
use cloister_shared::api::CreateUploadRequest;
use cloister_shared::crypto::stream::{chunk_count, seal_all, sealed_len, DEFAULT_CHUNK_SIZE};
use cloister_shared::{wrap_dek, Dek, LibraryKey, Purpose, StreamSealer, VideoId};
use tokio::task::JoinSet;

mod support;

use support::{add_user, start_server, vm_kib, Server, PASSWORD};

#[derive(Parser)]
struct Args {
    /// Clients uploading at once.
    #[arg(long, default_value_t = 4, value_parser = clap::value_parser!(u32).range(1..=16))]
    clients: u32,
    /// Size of each client's file (MiB).
    #[arg(long, default_value_t = 1024, value_parser = clap::value_parser!(u64).range(1..=8192))]
    size_mib: u64,
    /// Chunks each client keeps in flight.
    #[arg(long, default_value_t = 3, value_parser = clap::value_parser!(u8).range(1..=8))]
    parallel: u8,
    /// Seal every chunk in the client (end to end) instead of sending pre-sealed buffers.
    #[arg(long)]
    seal: bool,
    /// The `cloister` binary to benchmark.
    #[arg(long, default_value = "target/release/cloister")]
    binary: PathBuf,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let data = tempfile::tempdir().context("temp dir")?;
    add_user(&args.binary, data.path()).await?;
    let Server {
        child: mut server,
        pid,
        url,
    } = start_server(&args.binary, data.path(), &[], &[]).await?;
    let rss_at_start = vm_kib(pid, "VmRSS")?;

    let size = args.size_mib << 20;
    let key = LibraryKey::generate()?;
    let started = Instant::now();
    let mut clients = JoinSet::new();
    for n in 0..args.clients {
        let url = url.clone();
        let key = key.clone();
        let (parallel, seal) = (args.parallel, args.seal);
        clients.spawn(async move { upload(&url, &key, n, size, parallel, seal).await });
    }
    while let Some(done) = clients.join_next().await {
        done??;
    }
    let elapsed = started.elapsed();
    let peak = vm_kib(pid, "VmHWM")?;
    let sealed = sealed_len(size, DEFAULT_CHUNK_SIZE) * u64::from(args.clients);
    let mbps = sealed as f64 / 1e6 / elapsed.as_secs_f64();
    println!(
        "clients={} size={} MiB parallel={} mode={}",
        args.clients,
        args.size_mib,
        args.parallel,
        if args.seal {
            "sealed in client"
        } else {
            "pre-sealed"
        }
    );
    println!("sealed bytes: {sealed}");
    println!("wall time: {:.2} s", elapsed.as_secs_f64());
    println!("ingest: {mbps:.0} MB/s");
    println!(
        "server RSS: {:.1} MiB at start, peak (VmHWM) {:.1} MiB",
        rss_at_start as f64 / 1024.0,
        peak as f64 / 1024.0
    );
    server.start_kill()?;
    let _ = server.wait().await;
    Ok(())
}

fn plain_chunk(size: u64, index: u64, fill: u8) -> Vec<u8> {
    let cs = u64::from(DEFAULT_CHUNK_SIZE);
    let len = cs.min(size - index * cs) as usize;
    vec![fill ^ (index as u8); len]
}

async fn upload(
    url: &str,
    key: &LibraryKey,
    n: u32,
    size: u64,
    parallel: u8,
    seal: bool,
) -> anyhow::Result<()> {
    let client = ApiClient::new(url)?;
    client.login("bench", PASSWORD).await?;
    let id = VideoId::random()?;
    let dek = Dek::generate()?;
    let sealer = Arc::new(StreamSealer::new(
        &dek,
        &id,
        &Purpose::Original,
        DEFAULT_CHUNK_SIZE,
    )?);
    let count = chunk_count(size, DEFAULT_CHUNK_SIZE);
    let title = seal_all(
        &dek,
        &id,
        &Purpose::Title,
        DEFAULT_CHUNK_SIZE,
        format!("bench {n}").as_bytes(),
    )?;
    client
        .create_upload(&CreateUploadRequest {
            video_id: id,
            size_bytes: size,
            chunk_count: count,
            stream_header: hex::encode(sealer.header().to_bytes()),
            wrapped_dek: wrap_dek(key, &id, &dek)?,
            title_sealed: hex::encode(title),
            description_sealed: None,
            file_name_sealed: None,
            fingerprint: hex::encode([n as u8; 32]),
            resume_mac: None,
            content_fingerprint: None,
            key_generation: 1,
        })
        .await?;
    let seal_one = |index: u64| -> anyhow::Result<Bytes> {
        let plain = plain_chunk(size, index, n as u8);
        Ok(Bytes::from(sealer.seal_chunk(
            index,
            &plain,
            index + 1 == count,
        )?))
    };
    // Pre-sealed mode: real chunk 0 and last chunk, one sealed full-size buffer for the rest.
    let first = seal_one(0)?;
    let last = seal_one(count - 1)?;
    let middle = if count > 2 {
        seal_one(1)?
    } else {
        first.clone()
    };
    let mut in_flight = JoinSet::new();
    for index in 0..count {
        let body = if seal && index != 0 && index + 1 != count {
            let sealer = sealer.clone();
            tokio::task::spawn_blocking(move || -> anyhow::Result<Bytes> {
                let plain = plain_chunk(size, index, n as u8);
                Ok(Bytes::from(sealer.seal_chunk(index, &plain, false)?))
            })
            .await??
        } else if index == 0 {
            first.clone()
        } else if index + 1 == count {
            last.clone()
        } else {
            middle.clone()
        };
        while in_flight.len() >= usize::from(parallel) {
            if let Some(r) = in_flight.join_next().await {
                r??;
            }
        }
        let client = client.clone();
        in_flight.spawn(async move { client.put_chunk(&id, index, body).await.map(drop) });
    }
    while let Some(r) = in_flight.join_next().await {
        r??;
    }
    let done = tokio::time::timeout(
        Duration::from_secs(120),
        client.complete_upload(&id, hex::encode(dek.as_bytes())),
    )
    .await??;
    eprintln!("client {n}: video {} job {}", done.video_id, done.job_id);
    Ok(())
}
