//! Processing jobs under faults, in process with real SQLite, storage and ffmpeg: a panic inside
//! an attempt, an attempt whose lease lapsed while another took over, a job whose process died,
//! and a member flooding the queue.

mod common;

use std::sync::Arc;
use std::time::Duration;

use axum::http::{Method, StatusCode};
use cloister::jobs::pipeline::{self, PipelineError, ProgressCell};
use cloister::jobs::{transitions, worker};
use cloister::storage::StoredObject;
use cloister_shared::api::jobs::{JobInfo, JobPhase};
use cloister_shared::api::Role;
use common::message;
use common::processing::{probe_duration, small_clip, spawn_processing_app};
use common::uploads::SealedFile;
use common::TestApp;
use tokio_util::sync::CancellationToken;

/// Takes the next due job for `worker`, as a worker would.
async fn claim_as(app: &TestApp, worker: &str) -> transitions::Claimed {
    let candidate = transitions::next_candidate(&app.state, i64::MAX / 2)
        .await
        .expect("query")
        .expect("a candidate");
    transitions::claim(&app.state, &candidate, worker, 10)
        .await
        .expect("claim")
        .expect("claimed")
}

/// (status, worker, lease, whether the server still holds the key) of a job's row.
async fn row(app: &TestApp, job: i64) -> (String, Option<String>, Option<i64>, bool) {
    let (status, worker, lease, key): (String, Option<String>, Option<i64>, Option<Vec<u8>>) =
        sqlx::query_as(
            "SELECT status, worker_id, lease_until, wrapped_server_dek FROM jobs WHERE id = $1",
        )
        .bind(job)
        .fetch_one(&app.state.db)
        .await
        .expect("job row");
    (status, worker, lease, key.is_some())
}

#[cfg(debug_assertions)] // The panic on demand exists in debug builds only.
#[tokio::test]
async fn a_panic_in_processing_fails_the_attempt_and_the_key_is_erased_when_the_job_ends() {
    let (app, _) = spawn_processing_app().await;
    let cookie = app.signed_in("ann", Role::Member).await;
    let (file, job) = app.upload_video(&cookie, small_clip(1)).await;
    pipeline::fault::panic_when_processing(file.id);
    let (workers, _) = app.start_workers(1);

    // Before the fix the worker's task died with the panic while its ticker renewed the lease
    // for ever: the job stayed `running`.
    let failed = app
        .wait_for_job(&cookie, job, Duration::from_secs(60), |j| {
            j["status"] == "failed"
        })
        .await;
    assert_eq!(
        failed["error"],
        "an internal error in the server's processing"
    );
    assert_eq!(
        failed["attempts"], 3,
        "each panic is an attempt, retried as usual"
    );
    let (status, holder, lease, key) = row(&app, job).await;
    assert_eq!((status.as_str(), holder, lease), ("failed", None, None));
    assert!(!key, "the held key is erased when the job ends");
    // No ticker outlived its attempt to take the lease again.
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert_eq!(row(&app, job).await.2, None);
    assert!(
        app.tmp_entries().is_empty(),
        "tmp/ holds {:?}",
        app.tmp_entries()
    );
    let video_status: String = sqlx::query_scalar("SELECT status FROM videos WHERE id = $1")
        .bind(file.id.to_string())
        .fetch_one(&app.state.db)
        .await
        .expect("video");
    assert_eq!(video_status, "failed");

    // The worker lived on: it processes the next video.
    let (_, next) = app.upload_video(&cookie, small_clip(1)).await;
    assert_eq!(app.wait_final(&cookie, next).await["status"], "done");
    workers.cancel();
}

/// The pipeline of the attempt of "hung-worker", run to its end with no ticker to stop it.
async fn run_hung_attempt(
    app: &TestApp,
    stale: &transitions::Claimed,
) -> Result<transitions::Published, PipelineError> {
    let progress = Arc::new(ProgressCell::default());
    pipeline::process(
        &app.state,
        stale,
        "hung-worker",
        &CancellationToken::new(),
        &progress,
    )
    .await
}

#[tokio::test]
async fn an_attempt_whose_lease_lapsed_spares_the_new_attempts_files_and_publishes_nothing() {
    let (app, _) = spawn_processing_app().await;
    let cookie = app.signed_in("ann", Role::Member).await;
    let (file, job) = app.upload_video(&cookie, small_clip(2)).await;
    // A worker takes the job and hangs; its lease lapses, and another worker takes over.
    let stale = claim_as(&app, "hung-worker").await;
    sqlx::query("UPDATE jobs SET lease_until = 0 WHERE id = $1")
        .bind(job)
        .execute(&app.state.db)
        .await
        .expect("lapse");
    let lapsed = transitions::recover_lapsed(&app.state)
        .await
        .expect("recover");
    assert_eq!(lapsed.len(), 1);
    let current = claim_as(&app, "current-worker").await;
    assert_eq!((current.id, current.attempt), (job, 2));
    // The current attempt is at work in its directory.
    let current_dir = worker::work_dir(&app.state, job, Some(&current.rendition));
    std::fs::create_dir_all(&current_dir).expect("work dir");
    std::fs::write(current_dir.join("original"), b"attempt 2's plaintext").expect("write");

    // The hung attempt wakes up and runs to its end.
    let outcome = run_hung_attempt(&app, &stale).await;
    assert!(
        matches!(outcome, Err(PipelineError::Superseded)),
        "{outcome:?}"
    );
    assert!(
        current_dir.join("original").exists(),
        "the new attempt's files are untouched"
    );
    assert!(
        !worker::work_dir(&app.state, job, Some(&stale.rendition)).exists(),
        "the stale attempt removed its own directory"
    );
    let manifest = app
        .state
        .storage
        .object_len(&file.id, &StoredObject::Manifest);
    assert!(manifest.is_err(), "the stale attempt published no manifest");
    let (status, holder, _, key) = row(&app, job).await;
    assert_eq!(status, "running");
    assert_eq!(holder.as_deref(), Some("current-worker"));
    assert!(key, "the key stays for the current attempt");

    // The current attempt finishes and publishes a playable video.
    std::fs::remove_dir_all(&current_dir).expect("clear");
    let token = CancellationToken::new();
    worker::run_attempt(&app.state, "current-worker", current.clone(), 10, &token).await;
    let done = app.job(&cookie, job).await;
    assert_eq!(done["status"], "done", "{done}");
    assert_eq!(done["attempts"], 2);
    let manifest = app.manifest(&file);
    assert_eq!(manifest.rendition, current.rendition.as_str());
    let dir = tempfile::tempdir().expect("tempdir");
    let joined = dir.path().join("joined.mp4");
    std::fs::write(&joined, app.decrypted_rendition(&file, &manifest)).expect("write");
    assert!((probe_duration(&joined) - 2.0).abs() < 0.5);

    // Too late even to try: the job is done, and the stale attempt publishes nothing.
    let late = run_hung_attempt(&app, &stale).await;
    assert!(matches!(late, Err(PipelineError::Superseded)), "{late:?}");
    assert_eq!(app.manifest(&file).rendition, current.rendition.as_str());
}

#[tokio::test]
async fn a_running_job_whose_process_is_gone_shows_interrupted_resuming() {
    let (app, _) = spawn_processing_app().await;
    let cookie = app.signed_in("ann", Role::Member).await;
    let host = rustix::system::uname()
        .nodename()
        .to_string_lossy()
        .into_owned();
    let mut exited = std::process::Command::new("true").spawn().expect("true");
    let dead_pid = exited.id();
    exited.wait().expect("exited");
    let mut alive = std::process::Command::new("sleep")
        .arg("60")
        .spawn()
        .expect("sleep");
    let holders = [
        format!("{host}:{dead_pid}:17f0a:0"),
        format!("{host}:{}:17f0a:0", alive.id()),
        "another-host:1:17f0a:0".to_owned(),
    ];
    let mut jobs = Vec::new();
    for holder in &holders {
        app.upload_video(&cookie, small_clip(1)).await;
        let claimed = claim_as(&app, holder).await;
        let progress = Some((JobPhase::Decrypting, 3.0, Some(40)));
        assert!(
            transitions::heartbeat(&app.state, &claimed, holder, progress)
                .await
                .expect("heartbeat")
        );
        jobs.push(claimed.id);
    }

    worker::mark_interrupted_jobs(&app.state)
        .await
        .expect("look for interrupted jobs");
    let dead = app.job(&cookie, jobs[0]).await;
    assert_eq!(dead["status"], "running");
    assert_eq!(dead["phase"], "interrupted", "{dead}");
    let info: JobInfo = serde_json::from_value(dead).expect("job info");
    assert!(
        cloister::cli::jobs::describe(&info).contains("interrupted, resuming"),
        "{}",
        cloister::cli::jobs::describe(&info)
    );
    for live in &jobs[1..] {
        assert_eq!(
            app.job(&cookie, *live).await["phase"],
            "decrypting",
            "a live process's job, or another host's, is left to its lease"
        );
    }
    let told = common::count_events(
        &app.state.db,
        jobs[0],
        &[("type", "job_progress"), ("phase", "interrupted")],
    )
    .await;
    assert_eq!(told, 1, "browsers hear of it as a progress event");

    // It resumes once its lease lapses.
    let (workers, _) = app.start_workers(1);
    let done = app.wait_final(&cookie, jobs[0]).await;
    assert_eq!(done["status"], "done", "{done}");
    workers.cancel();
    let _ = alive.kill();
    let _ = alive.wait();
}

/// Uploads `len` bytes as `cookie` up to (not including) complete.
async fn uploaded(app: &TestApp, cookie: &str, len: usize) -> SealedFile {
    let file = SealedFile::new(len);
    app.send_chunks(cookie, &file).await;
    file
}

/// A small upload of `cookie`, completed: its job.
async fn completed(app: &TestApp, cookie: &str) -> i64 {
    let file = uploaded(app, cookie, 1000).await;
    let (status, body) = app.complete_upload(cookie, &file.id, &file.dek_hex()).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body["job_id"].as_i64().expect("job")
}

#[tokio::test]
async fn a_member_with_a_full_queue_is_told_to_wait_and_keeps_the_upload() {
    let app = TestApp::spawn_with(|config| config.jobs.max_queued_jobs_per_member = 3).await;
    let ann = app.signed_in("ann", Role::Member).await;
    let bob = app.signed_in("bob", Role::Member).await;
    let mut jobs = Vec::new();
    for _ in 0..3 {
        jobs.push(completed(&app, &ann).await);
    }
    let fourth = uploaded(&app, &ann, 1000).await;
    let (status, body) = app
        .complete_upload(&ann, &fourth.id, &fourth.dek_hex())
        .await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS, "{body}");
    assert_eq!(
        message(&body),
        "You already have 3 videos waiting to be processed (at most 3). Your upload is kept: \
         complete it again once some of them are done."
    );
    // Another member is not held back by ann's queue.
    let other = uploaded(&app, &bob, 1000).await;
    let (status, _) = app.complete_upload(&bob, &other.id, &other.dek_hex()).await;
    assert_eq!(status, StatusCode::OK);

    // Once one of ann's jobs is gone, the same upload completes.
    let (status, _, _) = app
        .call(
            Method::POST,
            &format!("/api/jobs/{}/cancel", jobs[0]),
            Some(&ann),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let (status, body) = app
        .complete_upload(&ann, &fourth.id, &fourth.dek_hex())
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
}

#[tokio::test]
async fn a_flood_of_small_files_gets_one_place_ahead_not_all() {
    let app = TestApp::spawn().await;
    let ann = app.signed_in("ann", Role::Member).await;
    let bob = app.signed_in("bob", Role::Member).await;
    let ann_jobs = [
        completed(&app, &ann).await,
        completed(&app, &ann).await,
        completed(&app, &ann).await,
    ];
    let bob_job = completed(&app, &bob).await;

    // The order workers take them: ann's first small file, then bob's, then ann's others.
    let (status, _, body) = app
        .call(Method::GET, "/api/jobs?active=true", Some(&bob), None)
        .await;
    assert_eq!(status, StatusCode::OK);
    let mut order: Vec<(u64, i64)> = body["jobs"]
        .as_array()
        .expect("jobs")
        .iter()
        .map(|j| {
            (
                j["queue_position"].as_u64().expect("position"),
                j["job_id"].as_i64().expect("id"),
            )
        })
        .collect();
    order.sort_unstable();
    let ids: Vec<i64> = order.into_iter().map(|(_, id)| id).collect();
    assert_eq!(ids, [ann_jobs[0], bob_job, ann_jobs[1], ann_jobs[2]]);
    let next = transitions::next_candidate(&app.state, i64::MAX / 2)
        .await
        .expect("query")
        .expect("candidate");
    assert_eq!(next.id, ann_jobs[0]);
}
