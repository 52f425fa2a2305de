//! Several `cloister worker` processes on one data directory (issue 16): four real worker
//! processes, each with its own pool on the same database (SQLite, or PostgreSQL when the run sets
//! `CLOISTER_TEST_POSTGRES`), take eight queued videos between them; each job is processed exactly
//! once and more than one process does work. (Workers on separate pools inside one process:
//! tests/concurrency.rs.)

mod common;

use std::collections::HashSet;
use std::path::Path;
use std::process::Stdio;
use std::time::{Duration, Instant};

use cloister::db::Db;
use common::cli::{client, cloister, data_env, gate_open_with, run, serve_with, set_up};
use common::processing::small_clip;

const PROCESSES: usize = 4;
const VIDEOS: usize = 8;
/// Every job is final by then, or the test fails.
const BOUND: Duration = Duration::from_secs(60);

/// Quick timings and an open gate, as in tests/worker_cli.rs.
fn quick() -> Vec<(&'static str, &'static str)> {
    gate_open_with(&[
        ("CLOISTER_DISK_RESERVE_BYTES", "0"),
        ("CLOISTER_JOB_LEASE_SECS", "3"),
        ("CLOISTER_WORKER_POLL_SECS", "1"),
        ("CLOISTER_RETRY_BACKOFF_SECS", "1"),
    ])
}

/// (id, status, attempts, worker_id) of every job.
async fn jobs(db: &Db) -> Vec<(i64, String, i64, Option<String>)> {
    sqlx::query_as("SELECT id, status, attempts, worker_id FROM jobs ORDER BY id")
        .fetch_all(db)
        .await
        .expect("jobs")
}

/// The pid in a worker id `<host>:<pid>:<instance>:<n>` (jobs::holders).
fn pid_of(worker: &str) -> u32 {
    worker
        .rsplit(':')
        .nth(2)
        .and_then(|pid| pid.parse().ok())
        .unwrap_or_else(|| panic!("no pid in worker id {worker}"))
}

fn logs(dir: &Path) -> String {
    (0..PROCESSES)
        .map(|n| {
            let log =
                std::fs::read_to_string(dir.join(format!("worker{n}.log"))).unwrap_or_default();
            format!("--- worker {n}:\n{log}")
        })
        .collect()
}

#[tokio::test]
async fn worker_processes_process_each_job_once_and_share_the_queue() {
    let data = tempfile::tempdir().expect("data");
    let files = tempfile::tempdir().expect("files");
    let mut env = quick();
    env.push(("CLOISTER_WORKERS", "0"));
    let (_server, url) = serve_with(data.path(), 0, &env).await;
    set_up(data.path(), &url).await;

    // One clip under eight names: eight uploads, eight jobs (only an unfinished upload of the
    // same file is refused).
    let clip = small_clip(1);
    let paths: Vec<String> = (0..VIDEOS)
        .map(|n| {
            let path = files.path().join(format!("clip {n}.mp4"));
            std::fs::write(&path, &clip).expect("clip");
            path.to_str().expect("path").to_owned()
        })
        .collect();
    let paths: Vec<&str> = paths.iter().map(String::as_str).collect();
    let up = run(client(["upload"], &url, &paths), "").await;
    assert_eq!(up.code, 0, "{}", up.stderr);
    let db = common::database::connect(data.path()).await;
    let queued = jobs(&db).await;
    assert_eq!(queued.len(), VIDEOS, "{queued:?}");
    assert!(
        queued.iter().all(|(_, status, _, _)| status == "queued"),
        "nothing processes them yet: {queued:?}"
    );

    // All queued before any worker starts, so the four race for the same queue.
    let mut workers = Vec::new();
    for n in 0..PROCESSES {
        let log = std::fs::File::create(files.path().join(format!("worker{n}.log"))).expect("log");
        let mut worker = cloister();
        worker
            .arg("worker")
            .envs(data_env(data.path()))
            .envs(quick())
            .env("CLOISTER_WORKERS", "1")
            .stdout(Stdio::null())
            .stderr(log);
        workers.push(worker.spawn().expect("spawn worker"));
    }
    let pids: HashSet<u32> = workers.iter().filter_map(|w| w.id()).collect();
    assert_eq!(pids.len(), PROCESSES);

    let start = Instant::now();
    let end = loop {
        let now = jobs(&db).await;
        if now
            .iter()
            .all(|(_, status, _, _)| matches!(status.as_str(), "done" | "failed" | "cancelled"))
        {
            break now;
        }
        assert!(
            start.elapsed() < BOUND,
            "jobs not finished: {now:?}\n{}",
            logs(files.path())
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    };

    for (job, status, attempts, _) in &end {
        assert_eq!(status, "done", "job {job}\n{}", logs(files.path()));
        assert_eq!(*attempts, 1, "job {job} took one attempt");
        let started = common::count_events(&db, *job, &[("type", "job_started")]).await;
        assert_eq!(started, 1, "job {job} was started once");
        let done = common::count_events(&db, *job, &[("type", "job_done")]).await;
        assert_eq!(done, 1, "job {job} was done once");
        let failed = common::count_events(&db, *job, &[("type", "job_failed")]).await;
        assert_eq!(failed, 0, "job {job} never failed");
    }
    let holders: Vec<u32> = end
        .iter()
        .map(|(job, _, _, holder)| {
            pid_of(
                holder
                    .as_deref()
                    .unwrap_or_else(|| panic!("job {job} names its worker")),
            )
        })
        .collect();
    assert!(
        holders.iter().all(|pid| pids.contains(pid)),
        "every job was done by one of the worker processes {pids:?}: {holders:?}"
    );
    let working: HashSet<u32> = holders.iter().copied().collect();
    assert!(
        working.len() > 1,
        "more than one process did work: {holders:?}"
    );
    eprintln!(
        "{} jobs over {} of {PROCESSES} processes in {:?}",
        end.len(),
        working.len(),
        start.elapsed()
    );
}
