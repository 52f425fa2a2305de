//! Processing with the real binary: a server killed with SIGKILL in the middle of a job takes
//! the job up again after a restart and leaves no plaintext behind; SIGTERM hands a running job
//! back at once, whatever downloads are still streaming; `cloister worker` processes jobs in its
//! own process; `cloister upload --wait` follows processing; `cloister jobs` lists.

mod common;

use std::path::Path;
use std::time::{Duration, Instant};

use cloister::db::Db;
use common::cli::{client, cloister, gate_open_with, run, serve_with, set_up, PASSWORD};
use common::processing::{slow_clip, small_clip, work_dir_of};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// Quick timings, and a gate that lets everything through: these tests are about the queue
/// surviving processes, not about how busy the test machine is (the gate has its own tests).
fn quick() -> Vec<(&'static str, &'static str)> {
    gate_open_with(&[
        ("CLOISTER_DISK_RESERVE_BYTES", "0"),
        ("CLOISTER_JOB_LEASE_SECS", "3"),
        ("CLOISTER_WORKER_POLL_SECS", "1"),
        ("CLOISTER_RETRY_BACKOFF_SECS", "1"),
    ])
}

async fn database(data: &Path) -> Db {
    common::database::connect(data).await
}

async fn job_state(db: &Db, job: i64) -> (String, Option<String>, i64) {
    sqlx::query_as("SELECT status, phase, attempts FROM jobs WHERE id = $1")
        .bind(job)
        .fetch_one(db)
        .await
        .expect("job row")
}

async fn wait_for(
    db: &Db,
    job: i64,
    limit: Duration,
    done: impl Fn(&(String, Option<String>, i64)) -> bool,
) -> (String, Option<String>, i64) {
    let start = Instant::now();
    loop {
        let state = job_state(db, job).await;
        if done(&state) {
            return state;
        }
        assert!(start.elapsed() < limit, "job {job} stuck at {state:?}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// "Uploaded NAME: video ID, job N (…)" → N.
fn job_id(stdout: &str) -> i64 {
    stdout
        .split("job ")
        .nth(1)
        .and_then(|rest| rest.split(|c: char| !c.is_ascii_digit()).next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no job id in {stdout}"))
}

/// Whether some process runs with its working directory in `dir` (ffmpeg runs in the job's).
fn working_in(dir: &Path) -> bool {
    std::fs::read_dir("/proc")
        .into_iter()
        .flatten()
        .filter_map(Result::ok)
        .filter_map(|entry| std::fs::read_link(entry.path().join("cwd")).ok())
        .any(|cwd| cwd.starts_with(dir))
}

fn tmp_entries(data: &Path) -> Vec<String> {
    std::fs::read_dir(data.join("tmp"))
        .expect("tmp")
        .filter_map(Result::ok)
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect()
}

#[tokio::test]
async fn a_server_killed_while_processing_takes_the_job_up_again_after_restart() {
    let data = tempfile::tempdir().expect("data");
    let files = tempfile::tempdir().expect("files");
    let (mut server, url) = serve_with(data.path(), 0, &quick()).await;
    set_up(data.path(), &url).await;
    let path = files.path().join("long walk.webm");
    std::fs::write(&path, slow_clip(30)).expect("clip");
    let up = run(
        client(["upload"], &url, &[path.to_str().expect("path")]),
        "",
    )
    .await;
    assert_eq!(up.code, 0, "{}", up.stderr);
    let job = job_id(&up.stdout);
    let db = database(data.path()).await;
    wait_for(&db, job, Duration::from_secs(60), |(status, phase, _)| {
        status == "running" && phase.as_deref() == Some("transcoding")
    })
    .await;
    let work_dir = data
        .path()
        .join("tmp")
        .join(work_dir_of(&tmp_entries(data.path()), job));
    assert!(working_in(&work_dir), "ffmpeg runs in the job's directory");
    server.start_kill().expect("SIGKILL");
    server.wait().await.expect("killed");
    // The kernel takes ffmpeg down with the server: no orphan keeps burning the cores.
    let start = Instant::now();
    while working_in(&work_dir) && start.elapsed() < Duration::from_secs(5) {
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(!working_in(&work_dir), "ffmpeg died with the server");
    let port = url
        .rsplit(':')
        .next()
        .and_then(|p| p.parse().ok())
        .expect("port");
    let (_server, url) = serve_with(data.path(), port, &quick()).await;
    // The restarted server saw the job's process was gone: browsers and `cloister jobs` were told
    // "interrupted, resuming" instead of the dead attempt's last phase.
    let start = Instant::now();
    loop {
        let interrupted = common::count_events(
            &db,
            job,
            &[("type", "job_progress"), ("phase", "interrupted")],
        )
        .await;
        if interrupted == 1 {
            break;
        }
        assert!(
            interrupted == 0 && start.elapsed() < Duration::from_secs(10),
            "{interrupted} interrupted events"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let (status, _, attempts) = wait_for(&db, job, Duration::from_secs(120), |(status, _, _)| {
        status == "done" || status == "failed"
    })
    .await;
    assert_eq!(status, "done");
    assert_eq!(attempts, 2, "the attempt that died with the server counts");
    assert!(
        tmp_entries(data.path()).is_empty(),
        "tmp/ holds {:?}",
        tmp_entries(data.path())
    );
    let ls = run(client(["ls"], &url, &[]), "").await;
    assert!(
        ls.stdout.contains("ready") && ls.stdout.contains("long walk"),
        "{}",
        ls.stdout
    );
    let jobs = run(client(["jobs"], &url, &["--all"]), "").await;
    assert_eq!(jobs.code, 0, "{}", jobs.stderr);
    assert!(
        jobs.stdout.contains("gate open") && jobs.stdout.contains("done"),
        "{}",
        jobs.stdout
    );
}

#[tokio::test]
async fn a_separate_worker_process_does_the_processing_and_upload_waits_for_it() {
    let data = tempfile::tempdir().expect("data");
    let files = tempfile::tempdir().expect("files");
    let mut env = quick();
    env.push(("CLOISTER_WORKERS", "0"));
    let (_server, url) = serve_with(data.path(), 0, &env).await;
    set_up(data.path(), &url).await;
    let path = files.path().join("garden.mp4");
    std::fs::write(&path, small_clip(3)).expect("clip");

    // No worker yet: the job stays queued.
    let up = run(
        client(["upload"], &url, &[path.to_str().expect("path")]),
        "",
    )
    .await;
    assert_eq!(up.code, 0, "{}", up.stderr);
    let job = job_id(&up.stdout);
    let jobs = run(client(["jobs"], &url, &[]), "").await;
    assert!(
        jobs.stdout.contains("queued, position 1"),
        "{}",
        jobs.stdout
    );

    let mut worker = cloister();
    worker
        .arg("worker")
        .envs(common::cli::data_env(data.path()))
        .envs(quick())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null());
    let _worker = worker.spawn().expect("spawn worker");

    let second = files.path().join("garden again.mp4");
    std::fs::write(&second, small_clip(2)).expect("clip");
    let waited = run(
        client(
            ["upload"],
            &url,
            &["--wait", second.to_str().expect("path")],
        ),
        "",
    )
    .await;
    assert_eq!(waited.code, 0, "upload --wait: {}", waited.stderr);
    let db = database(data.path()).await;
    let (status, _, _) = job_state(&db, job_id(&waited.stdout)).await;
    assert_eq!(status, "done", "--wait returned once processing was done");
    let (status, _, _) = wait_for(&db, job, Duration::from_secs(60), |(s, _, _)| s == "done").await;
    assert_eq!(status, "done");
}

/// Signs in as the set-up admin over HTTP; the session's `Cookie` header value.
async fn session(url: &str) -> String {
    let response = reqwest::Client::new()
        .post(format!("{url}/api/auth/login"))
        .header("x-cloister-request", "1")
        .json(&serde_json::json!({ "username": "root", "password": PASSWORD }))
        .send()
        .await
        .expect("login");
    assert!(
        response.status().is_success(),
        "login: {}",
        response.status()
    );
    response
        .headers()
        .get_all(reqwest::header::SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with("cloister_session="))
        .and_then(|v| v.split(';').next())
        .expect("a session cookie")
        .to_owned()
}

/// Starts downloading the sealed original of `video` and stops reading after the status line: the
/// response cannot finish, so the server has a download in flight until the socket is dropped.
async fn stalled_download(url: &str, cookie: &str, video: &str) -> tokio::net::TcpStream {
    let addr: std::net::SocketAddr = url.trim_start_matches("http://").parse().expect("address");
    let socket = tokio::net::TcpSocket::new_v4().expect("socket");
    // A small window keeps the server from pushing the whole file into kernel buffers.
    socket.set_recv_buffer_size(4096).expect("buffer");
    let mut stream = socket.connect(addr).await.expect("connect");
    let request = format!(
        "GET /api/videos/{video}/original HTTP/1.1\r\nHost: {addr}\r\nCookie: {cookie}\r\n\r\n"
    );
    stream.write_all(request.as_bytes()).await.expect("request");
    let mut head = [0u8; 12];
    stream.read_exact(&mut head).await.expect("status line");
    assert_eq!(&head, b"HTTP/1.1 200", "the download started");
    stream
}

#[tokio::test]
async fn sigterm_hands_the_running_job_back_at_once_even_while_a_download_streams() {
    let data = tempfile::tempdir().expect("data");
    let files = tempfile::tempdir().expect("files");
    let (mut server, url) = serve_with(data.path(), 0, &quick()).await;
    set_up(data.path(), &url).await;
    // 16 MiB to download: far more than socket buffers hold. (Not a video: its job fails at once,
    // its original stays.)
    let big = files.path().join("big.bin");
    let mut noise = Vec::new();
    std::io::Read::read_to_end(
        &mut std::io::Read::take(
            std::fs::File::open("/dev/urandom").expect("urandom"),
            16 << 20,
        ),
        &mut noise,
    )
    .expect("noise");
    std::fs::write(&big, noise).expect("write");
    let path = files.path().join("long walk.webm");
    std::fs::write(&path, slow_clip(40)).expect("clip");
    let up = run(
        client(
            ["upload"],
            &url,
            &[big.to_str().expect("path"), path.to_str().expect("path")],
        ),
        "",
    )
    .await;
    assert_eq!(up.code, 0, "{}", up.stderr);
    let db = database(data.path()).await;
    let jobs: Vec<(i64, String)> = sqlx::query_as("SELECT id, video_id FROM jobs ORDER BY id")
        .fetch_all(&db)
        .await
        .expect("jobs");
    let [(_, big_video), (job, _)] = &jobs[..] else {
        panic!("two jobs: {jobs:?}");
    };
    let job = *job;
    wait_for(&db, job, Duration::from_secs(60), |(status, phase, _)| {
        status == "running" && phase.as_deref() == Some("transcoding")
    })
    .await;
    let download = stalled_download(&url, &session(&url).await, big_video).await;

    let pid = server
        .id()
        .and_then(|id| rustix::process::Pid::from_raw(i32::try_from(id).ok()?))
        .expect("pid");
    rustix::process::kill_process(pid, rustix::process::Signal::TERM).expect("SIGTERM");
    let signalled = Instant::now();
    // Before the fix the workers stopped only once HTTP requests had drained: the job stayed
    // running for as long as the download did, and a kill after that cost it an attempt.
    let (status, _, attempts) = wait_for(&db, job, Duration::from_secs(10), |(status, _, _)| {
        status != "running"
    })
    .await;
    let error: Option<String> = sqlx::query_scalar("SELECT error FROM jobs WHERE id = $1")
        .bind(job)
        .fetch_one(&db)
        .await
        .expect("row");
    assert_eq!(status, "queued", "handed back to the queue ({error:?})");
    eprintln!("handed back {:?} after SIGTERM", signalled.elapsed());
    assert_eq!(attempts, 0, "the interrupted attempt does not count");
    let (holder, key): (Option<String>, Option<Vec<u8>>) =
        sqlx::query_as("SELECT worker_id, wrapped_server_dek FROM jobs WHERE id = $1")
            .bind(job)
            .fetch_one(&db)
            .await
            .expect("row");
    assert_eq!(holder, None, "the lease is released");
    assert!(key.is_some(), "the key is kept for the next attempt");
    assert!(
        server.try_wait().expect("server").is_none(),
        "the server still serves the download it had begun"
    );

    drop(download);
    let exit = tokio::time::timeout(Duration::from_secs(15), server.wait())
        .await
        .expect("the server stops once the download is gone")
        .expect("exit status");
    assert!(exit.success(), "{exit:?}");
    assert!(
        tmp_entries(data.path()).is_empty(),
        "tmp/ holds {:?}",
        tmp_entries(data.path())
    );
}
