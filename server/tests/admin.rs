//! The admin console's API (docs/admin.md) end to end in process: real SQLite, real ffmpeg,
//! workers as `serve` runs them, a gate fed with readings.

mod common;

use std::time::{Duration, Instant};

use axum::http::{Method, StatusCode};
use cloister::jobs::transitions;
use cloister_shared::api::Role;
use common::processing::{busy, ffmpeg_running_in, small_clip, spawn_processing_app};
use common::uploads::SealedFile;
use common::{message, TestApp};
use serde_json::{json, Value};

/// Every admin route with a body a valid request could carry.
fn admin_routes() -> Vec<(Method, &'static str, Option<Value>)> {
    vec![
        (Method::GET, "/api/admin/jobs", None),
        (Method::GET, "/api/admin/jobs?active=true", None),
        (
            Method::POST,
            "/api/admin/jobs/1/retry",
            Some(json!({"dek": "00".repeat(32)})),
        ),
        (Method::POST, "/api/admin/jobs/1/kill", None),
        (
            Method::POST,
            "/api/admin/jobs/1/priority",
            Some(json!({"to": "top"})),
        ),
        (Method::GET, "/api/admin/machine", None),
        (Method::GET, "/api/admin/speed", None),
        (Method::GET, "/api/admin/storage", None),
        (Method::GET, "/api/admin/housekeeping", None),
        (
            Method::POST,
            "/api/admin/housekeeping/clean",
            Some(json!({"kind": "temp_files"})),
        ),
    ]
}

#[tokio::test]
async fn a_member_cannot_reach_the_admin_api_and_a_stranger_must_sign_in() {
    let (app, _) = spawn_processing_app().await;
    let member = app.signed_in("ann", Role::Member).await;
    let admin = app.signed_in("root", Role::Admin).await;
    let (_, job) = app.upload_video(&member, small_clip(1)).await;
    assert_eq!(job, 1, "the routes above name this job");
    let stray = app.data_dir().join("tmp").join("job-424242");
    std::fs::create_dir_all(&stray).expect("stray dir");

    for (method, path, body) in admin_routes() {
        let (status, _, answer) = app
            .call(method.clone(), path, Some(&member), body.clone())
            .await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{method} {path}: {answer}");
        assert_eq!(message(&answer), "Only an admin can do that.");
        let (status, _, answer) = app.call(method.clone(), path, None, body.clone()).await;
        assert_eq!(
            status,
            StatusCode::UNAUTHORIZED,
            "{method} {path}: {answer}"
        );
    }
    // A malformed body or id does not tell a member more than "no".
    let (status, _, _) = app
        .call(
            Method::POST,
            "/api/admin/jobs/abc/priority",
            Some(&member),
            Some(json!({"to": "sideways"})),
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    // Nothing the member asked for happened.
    assert!(stray.exists(), "a member's clean removed nothing");
    let job_now = app.job(&admin, job).await;
    assert_eq!(job_now["priority"], 1, "{job_now}");
    // And an admin gets through.
    for (method, path, _) in admin_routes()
        .into_iter()
        .filter(|(m, _, _)| m == Method::GET)
    {
        let (status, _, answer) = app.call(method, path, Some(&admin), None).await;
        assert_eq!(status, StatusCode::OK, "{path}: {answer}");
    }
}

#[tokio::test]
async fn admin_job_routes_check_their_input() {
    let (app, _) = spawn_processing_app().await;
    let admin = app.signed_in("root", Role::Admin).await;
    let (file, job) = app.upload_video(&admin, small_clip(1)).await;
    let cases = [
        ("/api/admin/jobs/abc/kill", None, StatusCode::BAD_REQUEST),
        ("/api/admin/jobs/0/kill", None, StatusCode::BAD_REQUEST),
        ("/api/admin/jobs/999/kill", None, StatusCode::NOT_FOUND),
        (
            "/api/admin/jobs/999/priority",
            Some(json!({"to": "top"})),
            StatusCode::NOT_FOUND,
        ),
        (
            "/api/admin/jobs/1/priority",
            Some(json!({"to": "value", "priority": 1_000_001})),
            StatusCode::BAD_REQUEST,
        ),
        (
            "/api/admin/jobs/1/priority",
            Some(json!({"to": "sideways"})),
            StatusCode::BAD_REQUEST,
        ),
        (
            "/api/admin/housekeeping/clean",
            Some(json!({"kind": "everything"})),
            StatusCode::BAD_REQUEST,
        ),
    ];
    for (path, body, expected) in cases {
        let (status, _, answer) = app.call(Method::POST, path, Some(&admin), body).await;
        assert_eq!(status, expected, "{path}: {answer}");
        assert!(!message(&answer).is_empty(), "{path}");
    }
    // Queued, not running: there is nothing to kill; not finished: nothing to retry.
    let (status, answer) = kill(&app, &admin, job).await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert_eq!(
        message(&answer),
        "Only a running job can be killed; cancel a queued one instead."
    );
    let (status, answer) = retry(&app, &admin, job, &file.dek_hex()).await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert_eq!(
        message(&answer),
        "Only a failed or cancelled job can be retried."
    );
}

async fn kill(app: &TestApp, cookie: &str, job: i64) -> (StatusCode, Value) {
    let path = format!("/api/admin/jobs/{job}/kill");
    let (status, _, body) = app.call(Method::POST, &path, Some(cookie), None).await;
    (status, body)
}

async fn retry(app: &TestApp, cookie: &str, job: i64, dek_hex: &str) -> (StatusCode, Value) {
    let (status, _, body) = app
        .call(
            Method::POST,
            &format!("/api/admin/jobs/{job}/retry"),
            Some(cookie),
            Some(json!({ "dek": dek_hex })),
        )
        .await;
    (status, body)
}

#[tokio::test]
async fn retrying_a_failed_job_runs_it_again_with_the_key_handed_over_again() {
    let (app, _) = spawn_processing_app().await;
    let member = app.signed_in("ann", Role::Member).await;
    let admin = app.signed_in("root", Role::Admin).await;
    let (workers, _) = app.start_workers(1);
    let (junk, job) = app.upload_video(&member, vec![7u8; 5000]).await;
    let end = app.wait_final(&member, job).await;
    assert_eq!(end["status"], "failed", "{end}");
    assert_eq!(started_count(&event_kinds(&app, job).await), 1);

    // The key must be the video's: another one does not open the original.
    let wrong = SealedFile::new(10).dek_hex();
    let (status, body) = retry(&app, &admin, job, &wrong).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert!(message(&body).contains("does not open"), "{body}");
    let (status, body) = retry(&app, &admin, job, "abc").await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");

    let (status, body) = retry(&app, &admin, job, &junk.dek_hex()).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["job_id"], job);
    assert!(
        matches!(body["status"].as_str(), Some("queued" | "running")),
        "{body}"
    );
    let end = app
        .wait_for_job(&member, job, Duration::from_secs(60), |j| {
            j["status"] == "failed"
        })
        .await;
    assert_eq!(end["attempts"], 1, "attempts start again from zero: {end}");
    assert_eq!(
        started_count(&event_kinds(&app, job).await),
        2,
        "the job ran again"
    );
    let kinds = event_kinds(&app, job).await;
    assert!(
        kinds.windows(2).any(|w| w == ["job_failed", "job_queued"]),
        "the retry was announced: {kinds:?}"
    );
    let wrapped: Option<Vec<u8>> =
        sqlx::query_scalar("SELECT wrapped_server_dek FROM jobs WHERE id = $1")
            .bind(job)
            .fetch_one(&app.state.db)
            .await
            .expect("row");
    assert!(wrapped.is_none(), "the key is erased again when it ends");
    workers.cancel();
}

fn started_count(kinds: &[String]) -> usize {
    kinds.iter().filter(|k| *k == "job_started").count()
}

async fn event_kinds(app: &TestApp, job: i64) -> Vec<String> {
    // The payloads are parsed here: JSON functions differ between the two databases.
    let payloads: Vec<String> = sqlx::query_scalar("SELECT payload FROM job_events ORDER BY seq")
        .fetch_all(&app.state.db)
        .await
        .expect("events");
    payloads
        .iter()
        .map(|payload| serde_json::from_str::<serde_json::Value>(payload).expect("event JSON"))
        .filter(|event| event["job_id"].as_i64() == Some(job))
        .filter_map(|event| event["type"].as_str().map(str::to_owned))
        .collect()
}

#[tokio::test]
async fn a_cancelled_job_retried_is_processed_unless_its_original_is_gone() {
    let (app, readings) = spawn_processing_app().await;
    let member = app.signed_in("ann", Role::Member).await;
    let admin = app.signed_in("root", Role::Admin).await;
    readings.set(busy());
    let (file, job) = app.upload_video(&member, small_clip(1)).await;
    let (gone, gone_job) = app.upload_video(&member, small_clip(1)).await;
    for id in [job, gone_job] {
        let (status, _, body) = app
            .call(
                Method::POST,
                &format!("/api/jobs/{id}/cancel"),
                Some(&admin),
                None,
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{body}");
    }
    std::fs::remove_file(
        app.data_dir()
            .join("videos")
            .join(gone.id.to_string())
            .join("original.sealed"),
    )
    .expect("remove original");
    let (status, body) = retry(&app, &admin, gone_job, &gone.dek_hex()).await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    assert_eq!(
        message(&body),
        "The original of this video is gone, so it cannot be processed again."
    );

    readings.set(cloister::gate::FixedReadings::idle());
    let (workers, _) = app.start_workers(1);
    let (status, body) = retry(&app, &admin, job, &file.dek_hex()).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let end = app.wait_final(&member, job).await;
    assert_eq!(end["status"], "done", "{end}");
    assert!(!app.manifest(&file).segments.is_empty());
    // Done now: nothing more to retry.
    let (status, _) = retry(&app, &admin, job, &file.dek_hex()).await;
    assert_eq!(status, StatusCode::CONFLICT);
    workers.cancel();
}

#[tokio::test]
async fn killing_a_running_transcode_stops_ffmpeg_and_the_job_is_tried_again() {
    let (app, _) = spawn_processing_app().await;
    let member = app.signed_in("ann", Role::Member).await;
    let admin = app.signed_in("root", Role::Admin).await;
    let (workers, _) = app.start_workers(1);
    let (job, work_dir) = app.running_transcode(&member).await;
    let (status, _, listed) = app
        .call(Method::GET, "/api/admin/jobs", Some(&admin), None)
        .await;
    assert_eq!(status, StatusCode::OK);
    let running = &listed["jobs"][0];
    assert_eq!(running["job_id"], job, "{listed}");
    assert!(running["worker"].is_string(), "{running}");
    assert!(running["duration_secs"].as_u64().is_some(), "{running}");

    let (status, body) = kill(&app, &admin, job).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["status"], "queued", "{body}");
    assert_eq!(body["error"], "stopped by an admin");
    assert_eq!(body["attempts"], 1, "the killed attempt counts");
    assert!(
        body["retry_at"].as_i64().is_some(),
        "after a backoff: {body}"
    );

    let start = Instant::now();
    while ffmpeg_running_in(&work_dir) && start.elapsed() < Duration::from_secs(10) {
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(!ffmpeg_running_in(&work_dir), "ffmpeg was killed");
    let again = app
        .wait_for_job(&member, job, Duration::from_secs(60), |j| {
            j["status"] == "running" && j["attempts"] == 2
        })
        .await;
    assert_eq!(again["status"], "running", "tried again: {again}");
    let kinds = event_kinds(&app, job).await;
    assert!(
        kinds.windows(2).any(|w| w == ["job_failed", "job_started"]),
        "{kinds:?}"
    );
    // Cancel, unlike kill, stops it for good.
    let (status, _, body) = app
        .call(
            Method::POST,
            &format!("/api/jobs/{job}/cancel"),
            Some(&admin),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let end = app.wait_final(&member, job).await;
    assert_eq!(end["status"], "cancelled");
    workers.cancel();
}

async fn set_priority(app: &TestApp, cookie: &str, job: i64, body: Value) -> (StatusCode, Value) {
    let (status, _, answer) = app
        .call(
            Method::POST,
            &format!("/api/admin/jobs/{job}/priority"),
            Some(cookie),
            Some(body),
        )
        .await;
    (status, answer)
}

async fn next_job(app: &TestApp) -> i64 {
    transitions::next_candidate(&app.state, i64::MAX / 2)
        .await
        .expect("query")
        .expect("a candidate")
        .id
}

#[tokio::test]
async fn priority_changes_the_order_workers_take_jobs_in() {
    let (app, _) = spawn_processing_app().await;
    let member = app.signed_in("ann", Role::Member).await;
    let admin = app.signed_in("root", Role::Admin).await;
    let clip = small_clip(1);
    let mut jobs = Vec::new();
    for _ in 0..3 {
        jobs.push(app.upload_video(&member, clip.clone()).await.1);
    }
    assert_eq!(next_job(&app).await, jobs[0], "oldest first");

    let (status, body) = set_priority(&app, &admin, jobs[2], json!({"to": "top"})).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["queue_position"], 1, "{body}");
    assert_eq!(next_job(&app).await, jobs[2]);
    let kinds = event_kinds(&app, jobs[2]).await;
    assert_eq!(kinds.last().map(String::as_str), Some("job_queued"));

    let (status, body) = set_priority(&app, &admin, jobs[2], json!({"to": "bottom"})).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["queue_position"], 3, "{body}");
    assert_eq!(next_job(&app).await, jobs[0]);

    let (status, body) = set_priority(
        &app,
        &admin,
        jobs[1],
        json!({"to": "value", "priority": 50}),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["priority"], 50);
    assert_eq!(next_job(&app).await, jobs[1]);
    let (_, _, listed) = app
        .call(
            Method::GET,
            "/api/admin/jobs?active=true",
            Some(&admin),
            None,
        )
        .await;
    let order: Vec<i64> = listed["jobs"]
        .as_array()
        .expect("jobs")
        .iter()
        .filter_map(|j| j["job_id"].as_i64())
        .collect();
    assert_eq!(
        order,
        vec![jobs[1], jobs[0], jobs[2]],
        "listed in queue order"
    );

    // A finished job has no place in the queue.
    let (workers, _) = app.start_workers(1);
    app.wait_final(&member, jobs[1]).await;
    workers.cancel();
    let (status, body) = set_priority(&app, &admin, jobs[1], json!({"to": "top"})).await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
}

#[tokio::test]
async fn the_machine_gauges_and_speed_history_show_readings_verdict_and_pace() {
    let (app, readings) = spawn_processing_app().await;
    let admin = app.signed_in("root", Role::Admin).await;
    readings.set(busy());
    let (status, _, body) = app
        .call(Method::GET, "/api/admin/machine", Some(&admin), None)
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["load"]["gate_open"], false);
    assert_eq!(body["load"]["readings"]["ram_percent"], 85.0);
    assert!(
        body["load"]["reasons"]
            .as_array()
            .is_some_and(|r| r.iter().any(|r| r == "RAM in use 85 % (limit 72 %)")),
        "{body}"
    );
    assert_eq!(body["limits"]["max_ram_percent"], 72.0);
    assert_eq!(body["limits"]["min_available_ram_bytes"], 600u64 << 20);
    assert_eq!(body["limits"]["max_load"], 2.0);

    let (_, _, speed) = app
        .call(Method::GET, "/api/admin/speed", Some(&admin), None)
        .await;
    assert_eq!(speed["points"].as_array().map(Vec::len), Some(0));
    assert!(speed["median_seconds_per_gb"].is_null());
    readings.set(cloister::gate::FixedReadings::idle());
    let (file, _) = app.processed_video(&admin, 1).await;
    let (_, _, speed) = app
        .call(Method::GET, "/api/admin/speed", Some(&admin), None)
        .await;
    let point = &speed["points"][0];
    assert_eq!(point["size_bytes"], file.plain.len(), "{speed}");
    assert!(
        point["seconds"].as_f64().is_some_and(|s| s > 0.0),
        "{speed}"
    );
    assert_eq!(speed["median_seconds_per_gb"], point["seconds_per_gb"]);
    assert_eq!(speed["window"], 20);
}

/// Bytes of every file below `dir`.
fn du(dir: &std::path::Path) -> u64 {
    cloister::storage::tree_bytes(dir).expect("du")
}

#[tokio::test]
async fn storage_shows_each_users_quota_use_and_bytes_on_disk() {
    let (app, _) = spawn_processing_app().await;
    let ann = app.signed_in("ann", Role::Member).await;
    let admin = app.signed_in("root", Role::Admin).await;
    let (file, _) = app.processed_video(&ann, 2).await;
    let unfinished = SealedFile::new(100_000);
    let (status, body) = app.create_upload(&ann, &unfinished).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");

    let (status, _, body) = app
        .call(Method::GET, "/api/admin/storage", Some(&admin), None)
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let users = body["users"].as_array().expect("users");
    let ann_row = users.iter().find(|u| u["username"] == "ann").expect("ann");
    assert_eq!(ann_row["videos"], 2);
    assert_eq!(ann_row["quota_bytes"], 1u64 << 30);
    assert_eq!(
        ann_row["quota_used_bytes"],
        (file.plain.len() + unfinished.plain.len()) as u64,
        "what the quota counts: plaintext sizes, unfinished uploads included"
    );
    let videos = app.data_dir().join("videos");
    let on_disk =
        du(&videos.join(file.id.to_string())) + du(&videos.join(unfinished.id.to_string()));
    assert!(on_disk > file.plain.len() as u64, "original and rendition");
    assert_eq!(ann_row["stored_bytes"], on_disk);
    let root_row = users
        .iter()
        .find(|u| u["username"] == "root")
        .expect("root");
    assert_eq!(
        (
            root_row["videos"].as_u64(),
            root_row["stored_bytes"].as_u64()
        ),
        (Some(0), Some(0))
    );
    assert!(body["disk_free_bytes"].as_u64().is_some());
}

/// The next job, claimed by a worker of another process (`cloister worker`).
async fn claim_elsewhere(app: &TestApp) -> transitions::Claimed {
    let candidate = transitions::next_candidate(&app.state, i64::MAX / 2)
        .await
        .expect("query")
        .expect("candidate");
    transitions::claim(&app.state, &candidate, "elsewhere:1:0", 10)
        .await
        .expect("claim")
        .expect("claimed")
}

async fn housekeeping(app: &TestApp, cookie: &str) -> Value {
    let (status, _, body) = app
        .call(Method::GET, "/api/admin/housekeeping", Some(cookie), None)
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body
}

/// Items and bytes of one category.
fn category(report: &Value, kind: &str) -> (u64, u64) {
    let found = report["categories"]
        .as_array()
        .expect("categories")
        .iter()
        .find(|c| c["kind"] == kind)
        .unwrap_or_else(|| panic!("no {kind} in {report}"));
    assert!(found["description"].as_str().is_some_and(|d| !d.is_empty()));
    (
        found["items"].as_u64().expect("items"),
        found["bytes"].as_u64().expect("bytes"),
    )
}

async fn clean(app: &TestApp, cookie: &str, kind: &str) -> (u64, u64) {
    let (status, _, body) = app
        .call(
            Method::POST,
            "/api/admin/housekeeping/clean",
            Some(cookie),
            Some(json!({ "kind": kind })),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["kind"], kind);
    (
        body["removed"].as_u64().expect("removed"),
        body["freed_bytes"].as_u64().expect("freed"),
    )
}

fn plant(path: &std::path::Path, bytes: usize) {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).expect("dir");
    }
    std::fs::write(path, vec![1u8; bytes]).expect("plant");
}

/// Sets a file's modification time `secs` seconds back.
fn age(path: &std::path::Path, secs: u64) {
    let when = std::time::SystemTime::now() - Duration::from_secs(secs);
    std::fs::File::options()
        .write(true)
        .open(path)
        .and_then(|f| f.set_modified(when))
        .expect("set mtime");
}

#[tokio::test]
async fn housekeeping_counts_and_cleans_leftovers_but_never_a_running_job_or_a_published_video() {
    let (app, _) = spawn_processing_app().await;
    let ann = app.signed_in("ann", Role::Member).await;
    let admin = app.signed_in("root", Role::Admin).await;
    let (published, manifest) = app.processed_video(&ann, 1).await;
    let videos = app.data_dir().join("videos");
    let tmp = app.data_dir().join("tmp");

    // An abandoned upload: one chunk, nothing since for two hours.
    let abandoned = SealedFile::new(100_000);
    let (status, body) = app.create_upload(&ann, &abandoned).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let (status, body) = app.put_chunk(&ann, &abandoned, 0).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    sqlx::query("UPDATE videos SET updated_at = updated_at - 7200 WHERE id = $1")
        .bind(abandoned.id.to_string())
        .execute(&app.state.db)
        .await
        .expect("age the upload");
    let abandoned_dir = videos.join(abandoned.id.to_string());
    let abandoned_bytes = du(&abandoned_dir);
    assert!(abandoned_bytes > 100_000);
    // A fresh unfinished upload is not abandoned.
    let fresh = SealedFile::new(1000);
    app.create_upload(&ann, &fresh).await;

    // A running job (its worker is elsewhere): its work directory and rendition are in use.
    let (_, running_job) = app.upload_video(&ann, small_clip(1)).await;
    let claimed = claim_elsewhere(&app).await;
    assert_eq!(claimed.id, running_job);
    let running_dir = tmp.join(format!("job-{running_job}"));
    plant(&running_dir.join("original"), 3000);
    let running_rendition = videos
        .join(claimed.video.to_string())
        .join(claimed.rendition.dir_name());
    plant(&running_rendition.join("0.sealed"), 2000);

    // Leftovers: a dead attempt's rendition beside the published one, a finished job's work
    // directory, a file nothing touched for two hours, and one just written.
    let dead_rendition = videos
        .join(published.id.to_string())
        .join("r0123456789abcdef");
    plant(&dead_rendition.join("0.sealed"), 5000);
    plant(&dead_rendition.join("init.sealed"), 500);
    let dead_work = tmp.join("job-999999");
    plant(&dead_work.join("original"), 7000);
    let old_stray = tmp.join("stray.part");
    plant(&old_stray, 800);
    age(&old_stray, 7200);
    let new_stray = tmp.join("being-written.part");
    plant(&new_stray, 900);

    let report = housekeeping(&app, &admin).await;
    assert_eq!(
        category(&report, "abandoned_uploads"),
        (1, abandoned_bytes),
        "{report}"
    );
    assert_eq!(category(&report, "failed_leftovers"), (1, 5500), "{report}");
    assert_eq!(category(&report, "temp_files"), (2, 7800), "{report}");

    assert_eq!(
        clean(&app, &admin, "abandoned_uploads").await,
        (1, abandoned_bytes)
    );
    assert!(!abandoned_dir.exists());
    assert!(
        videos.join(fresh.id.to_string()).exists(),
        "a fresh upload stays"
    );
    assert_eq!(clean(&app, &admin, "failed_leftovers").await, (1, 5500));
    assert!(!dead_rendition.exists());
    assert_eq!(clean(&app, &admin, "temp_files").await, (2, 7800));
    assert!(!dead_work.exists() && !old_stray.exists());
    assert!(new_stray.exists(), "a file written just now stays");
    assert!(
        running_dir.join("original").exists(),
        "the running job's work stays"
    );
    assert!(
        running_rendition.join("0.sealed").exists(),
        "its rendition too"
    );

    // The published video is whole: its manifest and every file it names still open.
    let stream = app.decrypted_rendition(&published, &manifest);
    assert!(!stream.is_empty());
    assert!(videos
        .join(published.id.to_string())
        .join("original.sealed")
        .exists());
    let report = housekeeping(&app, &admin).await;
    for kind in ["abandoned_uploads", "failed_leftovers", "temp_files"] {
        assert_eq!(category(&report, kind), (0, 0), "{kind}: {report}");
    }
}

#[tokio::test]
async fn a_kill_reaches_a_worker_in_another_process_at_its_next_heartbeat() {
    let (app, _) = spawn_processing_app().await;
    let admin = app.signed_in("root", Role::Admin).await;
    let (_, job) = app.upload_video(&admin, small_clip(1)).await;
    // `cloister worker` in another process holds the job: nothing here can cancel its ffmpeg.
    let claimed = claim_elsewhere(&app).await;
    assert!(
        transitions::heartbeat(&app.state, &claimed, "elsewhere:1:0", None)
            .await
            .expect("heartbeat")
    );

    let (status, body) = kill(&app, &admin, job).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["status"], "queued");
    assert!(body["worker"].is_null(), "{body}");
    // Its next heartbeat tells the other worker to stop (its ticker then cancels the attempt).
    let still_mine = transitions::heartbeat(&app.state, &claimed, "elsewhere:1:0", None)
        .await
        .expect("heartbeat");
    assert!(!still_mine, "the job is no longer that worker's");
    let kinds = event_kinds(&app, job).await;
    assert_eq!(
        kinds.last().map(String::as_str),
        Some("job_failed"),
        "{kinds:?}"
    );
}
