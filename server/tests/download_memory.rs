//! Server-side decrypted downloads through the real binary, measured in the server's memory:
//! a 200 MB video arrives byte-identical (sha256) while resident memory, sampled all along the
//! transfer, stays under 64 MB; and a burst of download requests with wrong keys — each of which
//! makes the server read and decrypt a 4 MiB chunk — leaves its peak memory (VmHWM) under
//! 100 MB, every request answered with a clear 4xx, the right key still welcome after.

mod common;

use std::time::Duration;

use common::cli::PASSWORD;
use common::served::{add_member, proc_status_bytes, Member, Served};
use common::uploads::{SealedFile, CHUNK};
use reqwest::{Method, StatusCode};
use sha2::{Digest, Sha256};

const SIZE: usize = 200 * 1000 * 1000;
const RSS_LIMIT: u64 = 64 * 1024 * 1024;
const BURST_PEAK_LIMIT: u64 = 100 * 1024 * 1024;

#[tokio::test]
async fn a_200_mb_download_is_byte_identical_in_constant_memory() {
    let Served {
        mut server,
        data: _data,
        pid,
        root,
        ..
    } = Served::start().await;

    let file = SealedFile::new(SIZE);
    let expected = Sha256::digest(&file.plain);
    root.upload(&file).await;

    let ready = root
        .post(
            &format!("/api/videos/{}/download", file.id),
            serde_json::json!({"dek": file.dek_hex(), "file_name": "big.mp4"}),
        )
        .await;
    assert_eq!(ready["state"], "ready", "{ready}");
    let url = ready["url"].as_str().expect("url");

    let before = proc_status_bytes(pid, "VmRSS");
    let sampler = tokio::spawn(async move {
        let mut peak = 0;
        loop {
            peak = peak.max(proc_status_bytes(pid, "VmRSS"));
            tokio::time::sleep(Duration::from_millis(20)).await;
            if peak == u64::MAX {
                return peak;
            }
        }
    });
    let mut response = root.ok(root.request(Method::GET, url)).await;
    assert_eq!(response.content_length(), Some(SIZE as u64));
    let mut hasher = Sha256::new();
    let mut received = 0usize;
    let mut peak = before;
    while let Some(piece) = response.chunk().await.expect("body") {
        received += piece.len();
        hasher.update(&piece);
        peak = peak.max(proc_status_bytes(pid, "VmRSS"));
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

/// Members sending wrong keys together: each stays inside its own allowance (25 of 30), so what
/// holds memory down is the bound on checks running and waiting, not the rate limit.
const MEMBERS: usize = 4;
const WRONG_PER_MEMBER: usize = 25;

#[tokio::test]
async fn a_hundred_parallel_wrong_keys_keep_peak_memory_under_100_mb() {
    let Served {
        mut server,
        data,
        base,
        pid,
        root,
    } = Served::start().await;
    // Two full chunks: every check reads and decrypts 4 MiB.
    let file = SealedFile::new(2 * CHUNK);
    root.upload(&file).await;
    let mut members = Vec::new();
    for n in 0..MEMBERS {
        let name = format!("member{n}");
        add_member(data.path(), &name, PASSWORD).await;
        members.push(Member::sign_in(&base, &name, PASSWORD).await);
    }

    let path = format!("/api/videos/{}/download", file.id);
    // Peak RSS from here on only (the upload had its own): "5" resets VmHWM to the current RSS.
    let _ = std::fs::write(format!("/proc/{pid}/clear_refs"), "5");
    let before = proc_status_bytes(pid, "VmHWM");
    let requests = members.iter().flat_map(|member| {
        (0..WRONG_PER_MEMBER).map(|n| {
            let wrong = hex::encode([n as u8 + 1; 32]);
            let request = member
                .request(Method::POST, &path)
                .json(&serde_json::json!({"dek": wrong, "file_name": "x"}));
            async move {
                let response = request.send().await.expect("an answer");
                let status = response.status();
                let body: serde_json::Value = response.json().await.expect("a JSON error");
                (
                    status,
                    body["error"]["message"]
                        .as_str()
                        .unwrap_or_default()
                        .to_owned(),
                )
            }
        })
    });
    let answers = tokio::time::timeout(
        Duration::from_secs(120),
        futures_util::future::join_all(requests),
    )
    .await
    .expect("every request answered in time");
    let peak = proc_status_bytes(pid, "VmHWM");

    let wrong = answers
        .iter()
        .filter(|(s, m)| {
            *s == StatusCode::BAD_REQUEST
                && m == "That key does not open this video. Check passphrase."
        })
        .count();
    let busy = answers
        .iter()
        .filter(|(s, m)| *s == StatusCode::TOO_MANY_REQUESTS && !m.is_empty())
        .count();
    eprintln!(
        "{} wrong-key requests: {wrong} checked and refused (400), {busy} told to wait (429); \
         server peak RSS {} MiB before, {} MiB after",
        answers.len(),
        before >> 20,
        peak >> 20
    );
    assert_eq!(wrong + busy, MEMBERS * WRONG_PER_MEMBER, "{answers:?}");
    assert!(wrong >= 1, "at least the first check ran: {answers:?}");
    assert!(
        peak < BURST_PEAK_LIMIT,
        "server peak RSS {} MiB (limit {} MiB)",
        peak >> 20,
        BURST_PEAK_LIMIT >> 20
    );

    // The right key still works (after waiting as told, should this member's turn be taken).
    let mut status = StatusCode::TOO_MANY_REQUESTS;
    for _ in 0..10 {
        let response = members[0]
            .request(Method::POST, &path)
            .json(&serde_json::json!({"dek": file.dek_hex(), "file_name": "x"}))
            .send()
            .await
            .expect("an answer");
        status = response.status();
        if status != StatusCode::TOO_MANY_REQUESTS {
            break;
        }
        let wait = response
            .headers()
            .get("retry-after")
            .and_then(|v| v.to_str().ok()?.parse().ok())
            .unwrap_or(1);
        tokio::time::sleep(Duration::from_secs(wait)).await;
    }
    let _ = server.kill().await;
    assert_eq!(
        status,
        StatusCode::CREATED,
        "the right key opens a download"
    );
}
