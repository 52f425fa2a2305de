//! The job queue end to end in process: real SQLite, real ffmpeg, workers as `serve` runs them,
//! a gate fed with readings.

mod common;

use std::time::Duration;

use axum::http::{Method, StatusCode};
use cloister::gate::FixedReadings;
use cloister_shared::api::Role;
use common::message;
use common::processing::{
    busy, ffmpeg_running_in, probe_duration, small_clip, spawn_processing_app,
};

#[tokio::test]
async fn a_held_back_job_waits_with_reasons_then_runs_when_resources_free() {
    let (app, readings) = spawn_processing_app().await;
    let cookie = app.signed_in("ann", Role::Member).await;
    readings.set(busy());
    let (workers, _) = app.start_workers(1);
    let (file, job) = app.upload_video(&cookie, small_clip(2)).await;

    let waiting = app
        .wait_for_job(&cookie, job, Duration::from_secs(20), |j| {
            j["status"] == "waiting_resource"
        })
        .await;
    let reasons: Vec<String> =
        serde_json::from_value(waiting["wait_reasons"].clone()).expect("reasons");
    assert!(
        reasons.contains(&"RAM in use 85 % (limit 72 %)".to_owned()),
        "{reasons:?}"
    );
    assert!(
        reasons
            .iter()
            .any(|r| r.starts_with("only 300 MB of RAM available")),
        "{reasons:?}"
    );
    assert!(waiting["retry_at"].as_i64().is_some());
    assert!(waiting["eta_seconds"].as_u64().is_some());
    assert_eq!(waiting["queue_position"], 1);
    assert_eq!(waiting["attempts"], 0, "a deferral is not an attempt");
    // Still held back a few rechecks later.
    tokio::time::sleep(Duration::from_millis(2500)).await;
    assert_eq!(app.job(&cookie, job).await["status"], "waiting_resource");

    readings.set(FixedReadings::idle());
    let done = app.wait_final(&cookie, job).await;
    assert_eq!(done["status"], "done", "{done}");
    assert_eq!(done["attempts"], 1);
    let manifest = app.manifest(&file);
    assert!(!manifest.segments.is_empty());
    assert!(
        app.tmp_entries().is_empty(),
        "tmp/ holds {:?}",
        app.tmp_entries()
    );

    // The deferral and the start were events, in that order.
    let payloads: Vec<String> = sqlx::query_scalar("SELECT payload FROM job_events ORDER BY seq")
        .fetch_all(&app.state.db)
        .await
        .expect("events");
    let kinds: Vec<String> = payloads
        .iter()
        .map(|p| {
            let event: serde_json::Value = serde_json::from_str(p).expect("event json");
            event["type"].as_str().unwrap_or_default().to_owned()
        })
        .collect();
    let deferred = kinds
        .iter()
        .position(|k| k == "job_deferred")
        .expect("a deferral event");
    let started = kinds
        .iter()
        .position(|k| k == "job_started")
        .expect("a start event");
    assert!(
        deferred < started && kinds.last().map(String::as_str) == Some("job_done"),
        "{kinds:?}"
    );
    workers.cancel();
}

#[tokio::test]
async fn the_load_status_tells_the_verdict_and_the_queue() {
    let (app, readings) = spawn_processing_app().await;
    let cookie = app.signed_in("ann", Role::Member).await;
    let (status, _, body) = app
        .call(Method::GET, "/api/status/load", Some(&cookie), None)
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["gate_open"], true);
    assert_eq!(body["readings"]["cores"], 2);
    readings.set(busy());
    app.upload_video(&cookie, small_clip(1)).await;
    let (_, _, body) = app
        .call(Method::GET, "/api/status/load", Some(&cookie), None)
        .await;
    assert_eq!(body["gate_open"], false);
    assert_eq!(body["queue_length"], 1);
    assert_eq!(body["max_downloads"], 2);
    assert!(
        body["reasons"].as_array().is_some_and(|r| r.len() == 2),
        "{body}"
    );
    // Members get the same news without figures, said once, and no estimate: no job has
    // finished yet, so the server has no measured pace to estimate from.
    assert_eq!(
        body["plain_reasons"],
        serde_json::json!(["It is short of memory."])
    );
    assert!(body.get("busy_estimate_seconds").is_none(), "{body}");
    let (status, _, _) = app.call(Method::GET, "/api/status/load", None, None).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn only_an_admin_runs_a_held_back_job_anyway_and_then_the_gate_is_skipped() {
    let (app, readings) = spawn_processing_app().await;
    let member = app.signed_in("ann", Role::Member).await;
    let admin = app.signed_in("root", Role::Admin).await;
    readings.set(busy());
    let (workers, _) = app.start_workers(1);
    let (_, job) = app.upload_video(&member, small_clip(1)).await;
    app.wait_for_job(&member, job, Duration::from_secs(20), |j| {
        j["status"] == "waiting_resource"
    })
    .await;

    let path = format!("/api/jobs/{job}/run-anyway");
    let (status, _, body) = app.call(Method::POST, &path, Some(&member), None).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_eq!(message(&body), "Only an admin can do that.");
    let (status, _, body) = app.call(Method::POST, &path, Some(&admin), None).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let done = app.wait_final(&member, job).await;
    assert_eq!(done["status"], "done", "{done}");
    // Nothing left to override.
    let (status, _, _) = app.call(Method::POST, &path, Some(&admin), None).await;
    assert_eq!(status, StatusCode::CONFLICT);
    workers.cancel();
}

#[tokio::test]
async fn cancelling_a_running_job_kills_ffmpeg_and_leaves_no_plaintext() {
    let (app, _) = spawn_processing_app().await;
    let cookie = app.signed_in("ann", Role::Member).await;
    let other = app.signed_in("bob", Role::Member).await;
    let (workers, _) = app.start_workers(1);
    let (job, work_dir) = app.running_transcode(&cookie).await;

    let path = format!("/api/jobs/{job}/cancel");
    let (status, _, _) = app.call(Method::POST, &path, Some(&other), None).await;
    assert_eq!(
        status,
        StatusCode::FORBIDDEN,
        "only the uploader or an admin may cancel"
    );
    let (status, _, body) = app.call(Method::POST, &path, Some(&cookie), None).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["status"], "cancelled");

    let start = std::time::Instant::now();
    while (ffmpeg_running_in(&work_dir) || work_dir.exists())
        && start.elapsed() < Duration::from_secs(10)
    {
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(!ffmpeg_running_in(&work_dir), "ffmpeg was killed");
    assert!(
        app.tmp_entries().is_empty(),
        "tmp/ holds {:?}",
        app.tmp_entries()
    );
    let (status, _, body) = app.call(Method::POST, &path, Some(&cookie), None).await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert_eq!(message(&body), "This job has already finished.");
    let video_status: String = sqlx::query_scalar(
        "SELECT v.status FROM videos v JOIN jobs j ON j.video_id = v.id WHERE j.id = $1",
    )
    .bind(job)
    .fetch_one(&app.state.db)
    .await
    .expect("video");
    assert_eq!(video_status, "uploaded", "the original is kept");
    workers.cancel();
}

#[tokio::test]
async fn two_workers_never_process_one_job_twice() {
    let (app, _) = spawn_processing_app().await;
    let cookie = app.signed_in("ann", Role::Member).await;
    let clip = small_clip(1);
    let mut jobs = Vec::new();
    for _ in 0..4 {
        jobs.push(app.upload_video(&cookie, clip.clone()).await.1);
    }
    let (workers, _) = app.start_workers(2);
    for job in &jobs {
        let done = app.wait_final(&cookie, *job).await;
        assert_eq!(done["status"], "done", "{done}");
        assert_eq!(done["attempts"], 1, "{done}");
    }
    for job in &jobs {
        let starts = common::count_events(&app.state.db, *job, &[("type", "job_started")]).await;
        assert_eq!(starts, 1, "job {job} started once");
    }
    workers.cancel();
}

#[tokio::test]
async fn concurrent_claims_of_one_job_give_it_to_one_worker() {
    let (app, _) = spawn_processing_app().await;
    let cookie = app.signed_in("ann", Role::Member).await;
    let (_, job) = app.upload_video(&cookie, small_clip(1)).await;
    let candidate = cloister::jobs::transitions::next_candidate(&app.state, i64::MAX / 2)
        .await
        .expect("query")
        .expect("a candidate");
    assert_eq!(candidate.id, job);
    let claims = (0..8).map(|n| {
        let state = app.state.clone();
        let candidate = candidate.clone();
        tokio::spawn(async move {
            cloister::jobs::transitions::claim(&state, &candidate, &format!("w{n}"), 10).await
        })
    });
    let mut won = 0;
    for claim in claims {
        if claim.await.expect("task").expect("claim").is_some() {
            won += 1;
        }
    }
    assert_eq!(won, 1);
}

#[tokio::test]
async fn a_job_whose_worker_died_is_taken_up_again_and_its_leftovers_removed() {
    let (app, _) = spawn_processing_app().await;
    let cookie = app.signed_in("ann", Role::Member).await;
    let (file, job) = app.upload_video(&cookie, small_clip(2)).await;
    // A worker of a crashed process: it claimed the job, wrote plaintext and part of a
    // rendition, then vanished without renewing its lease.
    let candidate = cloister::jobs::transitions::next_candidate(&app.state, i64::MAX / 2)
        .await
        .expect("query")
        .expect("candidate");
    let claimed = cloister::jobs::transitions::claim(&app.state, &candidate, "dead:1:0", 10)
        .await
        .expect("claim")
        .expect("claimed");
    let work_dir = app
        .data_dir()
        .join("tmp")
        .join(format!("job-{job}-{}", claimed.rendition));
    std::fs::create_dir_all(&work_dir).expect("work dir");
    std::fs::write(work_dir.join("original"), b"plaintext").expect("leftover");
    let stale = app
        .data_dir()
        .join("videos")
        .join(file.id.to_string())
        .join(claimed.rendition.dir_name());
    std::fs::create_dir_all(&stale).expect("rendition");
    std::fs::write(stale.join("0.sealed"), b"partial").expect("partial");
    sqlx::query("UPDATE jobs SET lease_until = 0 WHERE id = $1")
        .bind(job)
        .execute(&app.state.db)
        .await
        .expect("lapse");

    let (workers, _) = app.start_workers(1);
    let done = app.wait_final(&cookie, job).await;
    assert_eq!(done["status"], "done", "{done}");
    assert_eq!(done["attempts"], 2, "the dead attempt counts");
    assert!(!stale.exists(), "the dead attempt's rendition is removed");
    assert!(
        app.tmp_entries().is_empty(),
        "tmp/ holds {:?}",
        app.tmp_entries()
    );
    let manifest = app.manifest(&file);
    assert_ne!(
        manifest.rendition,
        claimed.rendition.as_str(),
        "a new rendition id per attempt"
    );
    workers.cancel();
}

#[tokio::test]
async fn a_processed_video_decrypts_to_a_stream_ffprobe_reads() {
    let (app, _) = spawn_processing_app().await;
    let cookie = app.signed_in("ann", Role::Member).await;
    let (workers, _) = app.start_workers(1);
    let (file, job) = app.upload_video(&cookie, small_clip(6)).await;
    let done = app.wait_final(&cookie, job).await;
    assert_eq!(done["status"], "done", "{done}");
    assert_eq!(done["percent"], 100.0);
    let manifest = app.manifest(&file);
    let stream = app.decrypted_rendition(&file, &manifest);
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("joined.mp4");
    std::fs::write(&path, stream).expect("write");
    let seconds = probe_duration(&path);
    assert!((seconds - 6.0).abs() < 0.5, "duration {seconds}");
    assert!((manifest.duration_ms as f64 / 1000.0 - 6.0).abs() < 0.5);
    let (status, _, body) = app
        .call(
            Method::GET,
            &format!("/api/videos/{}", file.id),
            Some(&cookie),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["status"], "ready");
    let wrapped: Option<Vec<u8>> =
        sqlx::query_scalar("SELECT wrapped_server_dek FROM jobs WHERE id = $1")
            .bind(job)
            .fetch_one(&app.state.db)
            .await
            .expect("row");
    assert!(
        wrapped.is_none(),
        "the held DEK is erased when the job ends"
    );
    workers.cancel();
}

#[tokio::test]
async fn job_routes_check_their_input() {
    let (app, _) = spawn_processing_app().await;
    let cookie = app.signed_in("ann", Role::Member).await;
    for (path, expected) in [
        ("/api/jobs/abc", StatusCode::BAD_REQUEST),
        ("/api/jobs/-1", StatusCode::BAD_REQUEST),
        ("/api/jobs/999", StatusCode::NOT_FOUND),
        ("/api/jobs?video_id=../../x", StatusCode::BAD_REQUEST),
    ] {
        let (status, _, body) = app.call(Method::GET, path, Some(&cookie), None).await;
        assert_eq!(status, expected, "{path}: {body}");
        assert!(!message(&body).is_empty());
    }
    let (status, _, _) = app.call(Method::GET, "/api/jobs", None, None).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let (status, _, body) = app
        .call(Method::GET, "/api/jobs?active=true", Some(&cookie), None)
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["jobs"].as_array().map(Vec::len), Some(0));
}
