//! Guards that must hold under concurrent writers on either backend (issue 16): SQLite admits one
//! writer at a time, PostgreSQL does not, so each guard takes a lock there. Each test holds one
//! writer's transaction open while a second writer runs, so it fails if the guard lets the second
//! through unchecked. (Events committed out of order: tests/events.rs.) Run on PostgreSQL with `scripts/with-postgres cargo test -p cloister --test
//! concurrency`.

mod common;

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use cloister::db::Db;
use cloister::jobs::transitions;
use cloister_shared::api::Role;
use cloister_shared::VideoId;
use common::uploads::SealedFile;
use common::TestApp;

/// Every wait in these tests is bounded by this.
const BOUND: Duration = Duration::from_secs(30);
/// How long the first writer keeps its transaction open while the second runs.
const HOLD: Duration = Duration::from_millis(400);

async fn user_id(db: &Db, username: &str) -> i64 {
    sqlx::query_scalar("SELECT id FROM users WHERE username = $1")
        .bind(username)
        .fetch_one(db)
        .await
        .expect("user")
}

/// An upload row of `size` bytes for `owner`, as `POST /api/uploads` would insert it.
async fn insert_upload(db: Db, owner: i64, size: i64, hold: Duration) -> bool {
    let id = VideoId::random().expect("id");
    let fingerprint = id.to_string().into_bytes();
    let mut tx = db.begin().await.expect("begin");
    let inserted = cloister::uploads::store::insert_upload(
        &mut tx,
        &cloister::uploads::store::NewUpload {
            id: &id,
            owner_id: owner,
            size_bytes: size,
            quota_bytes: 100,
            now: 1,
            wrapped_dek: &[1; 8],
            title: &[2; 8],
            description: None,
            file_name: None,
            stream_header: &[3; 8],
            chunk_size: 4 << 20,
            chunk_count: 1,
            fingerprint: &fingerprint,
            resume_mac: None,
            content_fingerprint: None,
            key_generation: 1,
        },
    )
    .await
    .expect("insert");
    tokio::time::sleep(hold).await;
    tx.commit().await.expect("commit");
    inserted
}

#[tokio::test]
async fn two_concurrent_uploads_cannot_both_squeeze_under_the_quota() {
    let app = TestApp::spawn().await;
    app.add_user("ann", Role::Member).await;
    let ann = user_id(&app.state.db, "ann").await;
    // Two writers, each on its own pool, as two requests (or two servers) would be.
    let other = common::database::connect(app.data_dir()).await;
    let first = tokio::spawn(insert_upload(app.state.db.clone(), ann, 60, HOLD));
    tokio::time::sleep(Duration::from_millis(100)).await;
    let second = tokio::spawn(insert_upload(other, ann, 60, Duration::ZERO));
    let (first, second) = tokio::time::timeout(BOUND, async {
        (first.await.expect("task"), second.await.expect("task"))
    })
    .await
    .expect("both uploads answered in time");
    assert!(first, "the first upload fits the quota");
    assert!(
        !second,
        "the second upload would put ann over her 100-byte quota"
    );
    let stored: i64 = sqlx::query_scalar(
        "SELECT CAST(COALESCE(SUM(size_bytes), 0) AS BIGINT) FROM videos WHERE owner_id = $1",
    )
    .bind(ann)
    .fetch_one(&app.state.db)
    .await
    .expect("sum");
    assert!(
        stored <= 100,
        "{stored} bytes stored under a 100-byte quota"
    );
}

/// Tries to take a download slot (of one) for `video`, holding the transaction for `hold`.
async fn take_slot(db: Db, user: i64, video: VideoId, hold: Duration) -> bool {
    let mut tx = db.begin().await.expect("begin");
    let new = cloister::downloads::store::NewDownload {
        video: &video,
        user_id: user,
        wrapped_dek: &[1; 8],
        size_bytes: 10,
    };
    let row = cloister::downloads::store::insert_ready_in(&mut tx, &new, 1, 10_000, 1)
        .await
        .expect("insert");
    tokio::time::sleep(hold).await;
    tx.commit().await.expect("commit");
    row.is_some()
}

#[tokio::test]
async fn two_concurrent_ready_downloads_cannot_both_take_the_last_slot() {
    let app = TestApp::spawn().await;
    let cookie = app.signed_in("ann", Role::Member).await;
    let ann = user_id(&app.state.db, "ann").await;
    let file = SealedFile::new(1000);
    let (status, body) = app.create_upload(&cookie, &file).await;
    assert_eq!(status.as_u16(), 201, "{body}");
    let other = common::database::connect(app.data_dir()).await;
    let first = tokio::spawn(take_slot(app.state.db.clone(), ann, file.id, HOLD));
    tokio::time::sleep(Duration::from_millis(100)).await;
    let second = tokio::spawn(take_slot(other, ann, file.id, Duration::ZERO));
    let (first, second) = tokio::time::timeout(BOUND, async {
        (first.await.expect("task"), second.await.expect("task"))
    })
    .await
    .expect("both downloads answered in time");
    assert!(first, "the first download gets the free slot");
    assert!(!second, "no slot is left for the second");
    let ready = cloister::downloads::holding_slots(&app.state.db)
        .await
        .expect("slots");
    assert_eq!(ready, 1);
}

/// Workers: each on its own pool, as workers of separate processes would be.
const WORKERS: usize = 4;
/// Jobs queued for them.
const JOBS: usize = 12;

#[tokio::test]
async fn workers_on_separate_pools_process_each_job_once_and_none_starves() {
    let app = TestApp::spawn_with(|config| {
        config.jobs.max_queued_jobs_per_member = 100;
    })
    .await;
    let cookie = app.signed_in("ann", Role::Member).await;
    for n in 0..JOBS {
        let file = SealedFile::new(1000 + n);
        let (status, body) = app.create_upload(&cookie, &file).await;
        assert_eq!(status.as_u16(), 201, "{body}");
        let (status, body) = app.put_chunk(&cookie, &file, 0).await;
        assert_eq!(status.as_u16(), 200, "{body}");
        let (status, body) = app
            .complete_upload(&cookie, &file.id, &file.dek_hex())
            .await;
        assert_eq!(status.as_u16(), 200, "{body}");
    }

    let start = Arc::new(tokio::sync::Barrier::new(WORKERS));
    let processed = Arc::new(AtomicUsize::new(0));
    let mut handles = Vec::new();
    for w in 0..WORKERS {
        let mut state = app.state.core.clone();
        state.db = common::database::connect(app.data_dir()).await;
        let (start, processed) = (start.clone(), processed.clone());
        handles.push(tokio::spawn(async move {
            let worker = format!("test:{w}:0");
            let mut mine = Vec::new();
            start.wait().await;
            while processed.load(Ordering::SeqCst) < JOBS {
                let Some(picked) = transitions::pick(&state).await.expect("pick") else {
                    // The rest are held by other workers; look again shortly.
                    tokio::time::sleep(Duration::from_millis(20)).await;
                    continue;
                };
                let Some(job) = transitions::claim_picked(&state, picked, &worker, 1)
                    .await
                    .expect("claim")
                else {
                    continue;
                };
                // Processing takes a while, so the others take the next jobs meanwhile.
                tokio::time::sleep(Duration::from_millis(50)).await;
                let published = transitions::Published {
                    rendition: job.rendition.clone(),
                    duration_ms: 1,
                    has_thumb: false,
                };
                assert!(transitions::finish(&state, &job, &worker, &published)
                    .await
                    .expect("finish"));
                processed.fetch_add(1, Ordering::SeqCst);
                mine.push(job.id);
            }
            mine
        }));
    }
    let per_worker = tokio::time::timeout(BOUND, async {
        let mut all = Vec::new();
        for handle in handles {
            all.push(handle.await.expect("worker"));
        }
        all
    })
    .await
    .expect("the workers finished every job in time");

    let mut times: HashMap<i64, usize> = HashMap::new();
    for job in per_worker.iter().flatten() {
        *times.entry(*job).or_default() += 1;
    }
    assert_eq!(times.len(), JOBS, "{per_worker:?}");
    assert!(times.values().all(|n| *n == 1), "{per_worker:?}");
    assert!(
        per_worker.iter().all(|jobs| !jobs.is_empty()),
        "a worker got no job: {per_worker:?}"
    );
    let rows: Vec<(String, i64)> = sqlx::query_as("SELECT status, attempts FROM jobs")
        .fetch_all(&app.state.db)
        .await
        .expect("jobs");
    assert_eq!(rows.len(), JOBS);
    assert!(
        rows.iter()
            .all(|(status, attempts)| status == "done" && *attempts == 1),
        "{rows:?}"
    );
}
