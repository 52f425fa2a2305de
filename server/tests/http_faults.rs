//! Hostile clients against the real `cloister serve` on loopback: parallel sign-in guesses, a
//! flood that would queue password hashes, half-open and idle connections, a stalled request
//! body, and a low open-file limit.

mod common;

use std::path::Path;
use std::process::Stdio;
use std::sync::Arc;
use std::time::{Duration, Instant};

use common::cli::{cloister, run, serve_command, serve_with, start, PASSWORD};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::watch;

const LIMITED: &str = "Too many sign-in attempts.";
const BUSY: &str = "The server is busy checking other passwords. Try again in a second.";

/// `root`, an admin with `PASSWORD`, in a fresh data directory.
async fn add_root(data: &Path) {
    let mut add = cloister();
    add.args(["user", "add", "root", "--admin", "--password-stdin"])
        .envs(common::cli::data_env(data));
    let r = run(add, &format!("{PASSWORD}\n")).await;
    assert_eq!(r.code, 0, "{}", r.stderr);
}

struct Answer {
    status: u16,
    message: String,
    retry_after: Option<String>,
}

async fn sign_in(
    http: &reqwest::Client,
    base: &str,
    username: &str,
    password: &str,
    forwarded_for: Option<&str>,
) -> Answer {
    let mut request = http
        .post(format!("{base}/api/auth/login"))
        .header("x-cloister-request", "1")
        .json(&serde_json::json!({"username": username, "password": password}));
    if let Some(address) = forwarded_for {
        request = request.header("x-forwarded-for", address);
    }
    let response = request.send().await.expect("an answer");
    let status = response.status().as_u16();
    let retry_after = response
        .headers()
        .get("retry-after")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let body: serde_json::Value = response.json().await.unwrap_or_default();
    Answer {
        status,
        message: body["error"]["message"]
            .as_str()
            .unwrap_or_default()
            .to_owned(),
        retry_after,
    }
}

fn peak_rss_kib(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status
        .lines()
        .find_map(|line| line.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
}

/// A sign-in request on its own connection, sent but for its last byte, so that many can be
/// released at the same instant.
async fn poised_sign_in(addr: &str, password: &str) -> TcpStream {
    let body = serde_json::json!({"username": "root", "password": password}).to_string();
    let request = format!(
        "POST /api/auth/login HTTP/1.1\r\nHost: {addr}\r\nx-cloister-request: 1\r\n\
         content-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
        body.len()
    );
    let mut stream = TcpStream::connect(addr).await.expect("connect");
    let bytes = request.as_bytes();
    stream
        .write_all(&bytes[..bytes.len() - 1])
        .await
        .expect("write");
    stream
}

/// Sends the last byte and reads the whole answer (the connection closes after it).
async fn release(mut stream: TcpStream, last: u8) -> Answer {
    stream.write_all(&[last]).await.expect("write");
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw).await.expect("read");
    let raw = String::from_utf8_lossy(&raw);
    let (head, body) = raw.split_once("\r\n\r\n").expect("a response");
    let status = head
        .split(' ')
        .nth(1)
        .and_then(|code| code.parse().ok())
        .expect("a status");
    let retry_after = head.lines().find_map(|line| {
        let (name, value) = line.split_once(':')?;
        name.eq_ignore_ascii_case("retry-after")
            .then(|| value.trim().to_owned())
    });
    let body: serde_json::Value = serde_json::from_str(body).unwrap_or_default();
    Answer {
        status,
        message: body["error"]["message"]
            .as_str()
            .unwrap_or_default()
            .to_owned(),
        retry_after,
    }
}

/// 200 wrong guesses from one address, all arriving at the same instant: only the allowance (5)
/// is ever checked; and the right password, sent as soon as the first guess is answered (while
/// others are still being checked: before the fix they all were, and it got in), is refused.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn parallel_wrong_sign_ins_get_no_more_checks_than_the_allowance() {
    let data = tempfile::tempdir().expect("temp dir");
    add_root(data.path()).await;
    let (server, base) = serve_with(
        data.path(),
        0,
        &[
            ("CLOISTER_WORKERS", "0"),
            ("CLOISTER_LOGIN_BURST", "5"),
            ("CLOISTER_LOGIN_REFILL_SECS", "3600"),
        ],
    )
    .await;
    let addr = base.trim_start_matches("http://").to_owned();
    let mut poised = Vec::new();
    for i in 0..200 {
        poised.push(poised_sign_in(&addr, &format!("guess {i:03}")).await);
    }
    let right = poised_sign_in(&addr, PASSWORD).await;
    let (answered_tx, mut answered_rx) = watch::channel(false);
    let answered_tx = Arc::new(answered_tx);
    let guesses: Vec<_> = poised
        .into_iter()
        .map(|stream| {
            let answered_tx = answered_tx.clone();
            tokio::spawn(async move {
                let answer = release(stream, b'}').await;
                answered_tx.send_replace(true);
                answer
            })
        })
        .collect();
    let right = tokio::spawn(async move {
        answered_rx
            .wait_for(|answered| *answered)
            .await
            .expect("an answer");
        release(right, b'}').await
    });
    let mut checked = 0;
    let mut refused = 0;
    for guess in guesses {
        let answer = tokio::time::timeout(Duration::from_secs(120), guess)
            .await
            .expect("answered in time")
            .expect("task");
        match answer.status {
            401 => checked += 1,
            429 => {
                assert!(answer.message.starts_with(LIMITED), "{}", answer.message);
                assert!(answer.retry_after.is_some());
                refused += 1;
            }
            other => panic!("unexpected {other}: {}", answer.message),
        }
    }
    let right = right.await.expect("task");
    eprintln!(
        "200 simultaneous guesses: {checked} checked (401), {refused} refused (429); right \
         password after the allowance: {}",
        right.status
    );
    assert!((1..=5).contains(&checked), "{checked} guesses were checked");
    assert_eq!(checked + refused, 200);
    assert_eq!(
        right.status, 429,
        "the right password got in: {}",
        right.message
    );
    assert!(right.message.starts_with(LIMITED), "{}", right.message);
    drop(server);
}

/// 200 sign-ins at once from 200 addresses, each within its allowance: at most `HASH_QUEUE` wait
/// for a hash, the rest are told at once to retry in a second.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_flood_of_sign_ins_finds_the_hash_queue_bounded() {
    let data = tempfile::tempdir().expect("temp dir");
    add_root(data.path()).await;
    let (server, base) = serve_with(
        data.path(),
        0,
        &[("CLOISTER_WORKERS", "0"), ("CLOISTER_TRUST_PROXY", "true")],
    )
    .await;
    let pid = server.id().expect("pid");
    let http = reqwest::Client::new();
    let flood: Vec<_> = (0..200u32)
        .map(|i| {
            let (http, base) = (http.clone(), base.clone());
            tokio::spawn(async move {
                let address = format!("10.9.{}.{}", i / 250, i % 250 + 1);
                sign_in(
                    &http,
                    &base,
                    &format!("guess{i}"),
                    "wrong password",
                    Some(&address),
                )
                .await
            })
        })
        .collect();
    let (mut checked, mut busy) = (0, 0);
    for answer in flood {
        let answer = tokio::time::timeout(Duration::from_secs(120), answer)
            .await
            .expect("answered in time")
            .expect("task");
        match answer.status {
            401 => checked += 1,
            429 => {
                assert_eq!(answer.message, BUSY);
                assert_eq!(answer.retry_after.as_deref(), Some("1"));
                busy += 1;
            }
            other => panic!("unexpected {other}: {}", answer.message),
        }
    }
    eprintln!(
        "200 parallel sign-ins from 200 addresses: {checked} checked, {busy} told the server is \
         busy; server peak RSS {:?} KiB",
        peak_rss_kib(pid)
    );
    assert!(busy > 0, "every one of 200 sign-ins queued for a hash");
    assert!(checked > 0);
    drop(server);
}

/// Reads until the server closes the connection; answers how long after `opened` that was, or
/// `None` if it was still open after `limit`.
async fn closed_within(
    stream: &mut TcpStream,
    opened: Instant,
    limit: Duration,
) -> Option<Duration> {
    let mut buf = [0u8; 1024];
    tokio::time::timeout(limit, async {
        loop {
            match stream.read(&mut buf).await {
                Ok(0) | Err(_) => return opened.elapsed(),
                Ok(_) => {}
            }
        }
    })
    .await
    .ok()
}

async fn health_is_ok(http: &reqwest::Client, base: &str) -> bool {
    http.get(format!("{base}/api/health"))
        .send()
        .await
        .is_ok_and(|r| r.status().is_success())
}

/// `count` connections that sent part of their headers, each with when it was opened.
async fn half_open(addr: &str, count: usize) -> Vec<(TcpStream, Instant)> {
    let mut streams = Vec::with_capacity(count);
    for _ in 0..count {
        let opened = Instant::now();
        let mut stream = TcpStream::connect(addr).await.expect("connect");
        stream
            .write_all(b"GET /api/health HTTP/1.1\r\nHost: x\r\n")
            .await
            .expect("partial headers");
        streams.push((stream, opened));
    }
    streams
}

/// 200 connections that never finish their headers are closed after the header timeout, and
/// normal requests are answered meanwhile; an idle keep-alive connection and a stalled request
/// body are cut off too.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn half_open_idle_and_stalled_connections_are_closed_and_do_not_block_others() {
    let data = tempfile::tempdir().expect("temp dir");
    let (server, base) = serve_with(
        data.path(),
        0,
        &[
            ("CLOISTER_WORKERS", "0"),
            ("CLOISTER_HTTP_HEADER_TIMEOUT_SECS", "2"),
            ("CLOISTER_HTTP_BODY_TIMEOUT_SECS", "2"),
        ],
    )
    .await;
    let addr = base.trim_start_matches("http://").to_owned();
    let mut streams = half_open(&addr, 200).await;
    let http = reqwest::Client::new();
    for _ in 0..10 {
        assert!(health_is_ok(&http, &base).await, "a normal request failed");
    }
    // An idle keep-alive connection, after one answered request.
    let idle_opened = Instant::now();
    let mut idle = TcpStream::connect(&addr).await.expect("connect");
    idle.write_all(b"GET /api/health HTTP/1.1\r\nHost: x\r\n\r\n")
        .await
        .expect("request");
    // A request body that stops after 10 of its 100 bytes.
    let stalled_opened = Instant::now();
    let mut stalled = TcpStream::connect(&addr).await.expect("connect");
    stalled
        .write_all(
            b"POST /api/auth/login HTTP/1.1\r\nHost: x\r\nx-cloister-request: 1\r\n\
              content-type: application/json\r\ncontent-length: 100\r\n\r\n{\"username",
        )
        .await
        .expect("partial body");
    let limit = Duration::from_secs(30);
    let (mut shortest, mut longest) = (Duration::MAX, Duration::ZERO);
    for (i, (stream, opened)) in streams.iter_mut().enumerate() {
        let held = closed_within(stream, *opened, limit).await;
        let held = held.unwrap_or_else(|| panic!("half-open connection {i} still open"));
        shortest = shortest.min(held);
        longest = longest.max(held);
    }
    let idle_held = closed_within(&mut idle, idle_opened, limit)
        .await
        .expect("idle closed");
    let stalled_held = closed_within(&mut stalled, stalled_opened, limit)
        .await
        .expect("stalled body cut off");
    eprintln!(
        "header and body timeouts 2 s: 200 half-open connections held {shortest:?} to \
         {longest:?}; idle keep-alive {idle_held:?}; stalled body {stalled_held:?}"
    );
    assert!(health_is_ok(&http, &base).await);
    drop(server);
}

/// Under `ulimit -n 128`, 200 half-open connections do not make the server run out of files:
/// normal requests are answered and the log never says "Too many open files".
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_low_open_file_limit_still_serves_normal_requests() {
    let data = tempfile::tempdir().expect("temp dir");
    let log_path = data.path().join("serve.log");
    let log = std::fs::File::create(&log_path).expect("log file");
    let mut command = serve_command(
        data.path(),
        0,
        &[
            ("CLOISTER_WORKERS", "0"),
            ("CLOISTER_HTTP_HEADER_TIMEOUT_SECS", "1"),
            ("NO_COLOR", "1"),
        ],
    );
    command.stderr(Stdio::from(log));
    // SAFETY: only setrlimit, which is async-signal-safe, runs between fork and exec.
    unsafe {
        command.pre_exec(|| {
            let limit = rustix::process::Rlimit {
                current: Some(128),
                maximum: Some(128),
            };
            rustix::process::setrlimit(rustix::process::Resource::Nofile, limit)
                .map_err(std::io::Error::from)
        });
    }
    let (server, base) = start(command).await;
    let addr = base.trim_start_matches("http://").to_owned();
    let _streams = half_open(&addr, 200).await;
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(60))
        .build()
        .expect("client");
    let started = Instant::now();
    for _ in 0..5 {
        assert!(health_is_ok(&http, &base).await, "a normal request failed");
    }
    eprintln!(
        "ulimit -n 128 with 200 half-open connections: 5 normal requests answered in {:?}",
        started.elapsed()
    );
    drop(server);
    let log = std::fs::read_to_string(&log_path).expect("log");
    assert!(!log.contains("Too many open files"), "{log}");
    assert!(log.contains("max_connections=32"), "{log}");
}
