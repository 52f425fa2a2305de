//! A server-side decrypted download of a 200 MB video through the real binary: the bytes that
//! arrive are the original's (sha256), and the server's resident memory, sampled all along the
//! transfer, stays under 64 MB. Memory must not grow with the file: that is what lets a 2 GB
//! server hand out large videos.

mod common;

use std::time::Duration;

use common::cli::{serve_with, set_up, PASSWORD};
use common::uploads::SealedFile;
use sha2::{Digest, Sha256};

const SIZE: usize = 200 * 1000 * 1000;
const RSS_LIMIT: u64 = 64 * 1024 * 1024;

/// The gate always open: this test is about memory, not about how busy the test machine is.
const OPEN_GATE: &[(&str, &str)] = &[
    ("CLOISTER_WORKERS", "0"),
    ("CLOISTER_MAX_LOAD", "1000"),
    ("CLOISTER_MAX_RAM_PERCENT", "100"),
    ("CLOISTER_MIN_AVAILABLE_RAM_MB", "0"),
    ("CLOISTER_MAX_SWAP_USED_MB", "1000000"),
    ("CLOISTER_DISK_RESERVE_BYTES", "0"),
];

fn resident_bytes(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    status
        .lines()
        .find_map(|line| line.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
        .map_or(0, |kib| kib * 1024)
}

struct Api {
    http: reqwest::Client,
    base: String,
}

impl Api {
    async fn send(&self, request: reqwest::RequestBuilder) -> reqwest::Response {
        let response = request
            .header("x-cloister-request", "1")
            .send()
            .await
            .expect("request");
        assert!(
            response.status().is_success(),
            "{} {}",
            response.status(),
            response.text().await.unwrap_or_default()
        );
        response
    }

    async fn post(&self, path: &str, body: serde_json::Value) -> serde_json::Value {
        let request = self.http.post(format!("{}{path}", self.base)).json(&body);
        self.send(request).await.json().await.expect("json")
    }
}

#[tokio::test]
async fn a_200_mb_download_is_byte_identical_in_constant_memory() {
    let data = tempfile::tempdir().expect("data dir");
    let (mut server, base) = serve_with(data.path(), 0, OPEN_GATE).await;
    set_up(data.path(), &base).await;
    let pid = server.id().expect("pid");
    let api = Api {
        http: reqwest::Client::builder()
            .cookie_store(true)
            .build()
            .expect("client"),
        base,
    };
    api.post(
        "/api/auth/login",
        serde_json::json!({"username": "root", "password": PASSWORD}),
    )
    .await;

    let file = SealedFile::new(SIZE);
    let expected = Sha256::digest(&file.plain);
    api.post("/api/uploads", file.create_body()).await;
    for index in 0..file.chunk_count() {
        let url = format!("{}/api/uploads/{}/chunks/{index}", api.base, file.id);
        api.send(api.http.put(url).body(file.chunk(index))).await;
    }
    api.post(
        &format!("/api/uploads/{}/complete", file.id),
        serde_json::json!({"dek": file.dek_hex()}),
    )
    .await;

    let ready = api
        .post(
            &format!("/api/videos/{}/download", file.id),
            serde_json::json!({"dek": file.dek_hex(), "file_name": "big.mp4"}),
        )
        .await;
    assert_eq!(ready["state"], "ready", "{ready}");
    let url = format!("{}{}", api.base, ready["url"].as_str().expect("url"));

    let before = resident_bytes(pid);
    let sampler = tokio::spawn(async move {
        let mut peak = 0;
        loop {
            peak = peak.max(resident_bytes(pid));
            tokio::time::sleep(Duration::from_millis(20)).await;
            if peak == u64::MAX {
                return peak;
            }
        }
    });
    let mut response = api.send(api.http.get(url)).await;
    assert_eq!(response.content_length(), Some(SIZE as u64));
    let mut hasher = Sha256::new();
    let mut received = 0usize;
    let mut peak = before;
    while let Some(piece) = response.chunk().await.expect("body") {
        received += piece.len();
        hasher.update(&piece);
        peak = peak.max(resident_bytes(pid));
    }
    sampler.abort();
    let _ = server.kill().await;
    assert_eq!(received, SIZE);
    assert!(
        hasher.finalize() == expected,
        "sha256 of the download differs from the original"
    );
    eprintln!(
        "server RSS: {} MiB before, peak {} MiB during a {} MB download",
        before >> 20,
        peak >> 20,
        SIZE / 1_000_000
    );
    assert!(
        peak < RSS_LIMIT,
        "server RSS peaked at {} MiB (limit {} MiB)",
        peak >> 20,
        RSS_LIMIT >> 20
    );
}
