//! Delete, trash, restore and purge through the real router (docs/api.md, "Trash"): who may act,
//! twice is once, every state of a video (an unfinished upload, a queued job, a running ffmpeg, a
//! ready video with a download), a purge interrupted after its first step and finished by
//! housekeeping, the quota counting the trash, the retention, removing a member, and the CLI.

mod common;

use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::http::{Method, StatusCode};
use cloister::storage::FixedDiskSpace;
use cloister::trash::purge;
use cloister_shared::api::Role;
use cloister_shared::crypto::stream::{seal_all, DEFAULT_CHUNK_SIZE};
use cloister_shared::{CommentId, Purpose, VideoId};
use common::processing::{ffmpeg_running_in, spawn_processing_app};
use common::uploads::SealedFile;
use common::{message, TestApp};
use serde_json::{json, Value};

const DAY: i64 = 86_400;

async fn app() -> TestApp {
    TestApp::spawn_with_state(
        |_| {},
        |state| state.core.disk = Arc::new(FixedDiskSpace(1 << 50)),
    )
    .await
}

/// A video uploaded and completed by `cookie`: status `uploaded`, its job queued (no workers).
async fn video(app: &TestApp, cookie: &str) -> SealedFile {
    app.upload_video(cookie, SealedFile::new(5000).plain)
        .await
        .0
}

async fn act(app: &TestApp, cookie: &str, what: &str, id: &VideoId) -> (StatusCode, Value) {
    let (method, uri) = match what {
        "trash" => (Method::POST, format!("/api/videos/{id}/trash")),
        "restore" => (Method::POST, format!("/api/videos/{id}/restore")),
        "purge" => (Method::DELETE, format!("/api/videos/{id}")),
        other => panic!("no action {other}"),
    };
    let (status, _, body) = app.call(method, &uri, Some(cookie), None).await;
    (status, body)
}

async fn gallery_ids(app: &TestApp, cookie: &str) -> Vec<String> {
    let (status, _, body) = app
        .call(Method::GET, "/api/videos", Some(cookie), None)
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body["videos"]
        .as_array()
        .expect("videos")
        .iter()
        .map(|v| v["video_id"].as_str().expect("id").to_owned())
        .collect()
}

async fn trash_ids(app: &TestApp, cookie: &str) -> Vec<String> {
    let (status, _, body) = app
        .call(Method::GET, "/api/trash", Some(cookie), None)
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body["videos"]
        .as_array()
        .expect("videos")
        .iter()
        .map(|v| v["video_id"].as_str().expect("id").to_owned())
        .collect()
}

/// The kinds of the video events recorded for `id`, in order.
async fn video_events(app: &TestApp, id: &VideoId) -> Vec<String> {
    let payloads: Vec<String> = sqlx::query_scalar("SELECT payload FROM job_events ORDER BY seq")
        .fetch_all(&app.state.db)
        .await
        .expect("events");
    payloads
        .iter()
        .map(|p| serde_json::from_str::<Value>(p).expect("json"))
        .filter(|e| e["video_id"] == id.to_string())
        .filter_map(|e| e["type"].as_str().map(str::to_owned))
        .filter(|kind| kind.starts_with("video_"))
        .collect()
}

fn video_dir(app: &TestApp, id: &VideoId) -> std::path::PathBuf {
    app.data_dir().join("videos").join(id.to_string())
}

async fn row_exists(app: &TestApp, id: &VideoId) -> bool {
    sqlx::query_scalar::<_, i64>("SELECT COUNT(*) FROM videos WHERE id = $1")
        .bind(id.to_string())
        .fetch_one(&app.state.db)
        .await
        .expect("count")
        == 1
}

async fn post_comment(app: &TestApp, cookie: &str, file: &SealedFile) {
    let id = CommentId::random().expect("id");
    let purpose = Purpose::comment(&id.to_string()).expect("purpose");
    let sealed =
        seal_all(&file.dek, &file.id, &purpose, DEFAULT_CHUNK_SIZE, b"nice").expect("seal");
    let (status, _, body) = app
        .call(
            Method::POST,
            &format!("/api/videos/{}/comments", file.id),
            Some(cookie),
            Some(json!({"comment_id": id.to_string(), "body_sealed": hex::encode(sealed)})),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
}

#[tokio::test]
async fn the_owner_trashes_restores_and_purges_and_every_step_is_live_and_idempotent() {
    let app = app().await;
    let ann = app.signed_in("ann", Role::Member).await;
    let bob = app.signed_in("bob", Role::Member).await;
    let file = video(&app, &ann).await;
    post_comment(&app, &bob, &file).await;
    let id = file.id;
    let job: i64 = sqlx::query_scalar("SELECT id FROM jobs WHERE video_id = $1")
        .bind(id.to_string())
        .fetch_one(&app.state.db)
        .await
        .expect("job");

    let (status, body) = act(&app, &ann, "trash", &id).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["trashed"], true);
    assert_eq!(body["retention_days"], 30);
    let purge_at = body["purge_at"].as_i64().expect("purge_at");
    assert!((purge_at - cloister::accounts::unix_now() - 30 * DAY).abs() < 10);
    // Twice is once: same answer, nothing new recorded.
    let (status, again) = act(&app, &ann, "trash", &id).await;
    assert_eq!(status, StatusCode::OK, "{again}");
    assert_eq!(again["purge_at"], body["purge_at"]);
    assert_eq!(video_events(&app, &id).await, ["video_trashed"]);

    // Gone from both galleries, every file route, and one-video lookups.
    assert!(!gallery_ids(&app, &ann).await.contains(&id.to_string()));
    assert!(!gallery_ids(&app, &bob).await.contains(&id.to_string()));
    let (status, _, body) = app
        .call(
            Method::GET,
            &format!("/api/videos/{id}/original"),
            Some(&bob),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(message(&body), "This video was moved to the trash.");
    let (status, _, _) = app
        .call(Method::GET, &format!("/api/videos/{id}"), Some(&ann), None)
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    // Its comments are out of reach, to read or to write, while it is in the trash.
    let comments = format!("/api/videos/{id}/comments");
    let (status, _, _) = app.call(Method::GET, &comments, Some(&bob), None).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let comment_id = CommentId::random().expect("id");
    let purpose = Purpose::comment(&comment_id.to_string()).expect("purpose");
    let sealed = seal_all(&file.dek, &id, &purpose, DEFAULT_CHUNK_SIZE, b"late").expect("seal");
    let body = json!({"comment_id": comment_id.to_string(), "body_sealed": hex::encode(sealed)});
    let (status, _, _) = app
        .call(Method::POST, &comments, Some(&bob), Some(body))
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    // Its queued job is cancelled and the server's copy of its key erased.
    let (job_status, key): (String, Option<Vec<u8>>) =
        sqlx::query_as("SELECT status, wrapped_server_dek FROM jobs WHERE id = $1")
            .bind(job)
            .fetch_one(&app.state.db)
            .await
            .expect("job");
    assert_eq!(job_status, "cancelled");
    assert!(key.is_none(), "the server key copy is erased");

    // In the owner's trash only (an admin sees every trash).
    assert_eq!(trash_ids(&app, &ann).await, [id.to_string()]);
    assert!(trash_ids(&app, &bob).await.is_empty());
    let root = app.signed_in("root", Role::Admin).await;
    let (_, _, all) = app.call(Method::GET, "/api/trash", Some(&root), None).await;
    assert_eq!(all["videos"][0]["video_id"], id.to_string());
    assert_eq!(all["videos"][0]["trashed_by"], "ann");
    assert_eq!(all["videos"][0]["owner"], "ann");
    assert_eq!(all["videos"][0]["purge_at"], purge_at);

    // Restore: back in every gallery, twice is once.
    let (status, body) = act(&app, &ann, "restore", &id).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["trashed"], false);
    let (status, _) = act(&app, &ann, "restore", &id).await;
    assert_eq!(status, StatusCode::OK);
    assert!(gallery_ids(&app, &bob).await.contains(&id.to_string()));
    assert!(trash_ids(&app, &ann).await.is_empty());
    // The cancelled job is not resurrected: the video says it failed, not "waiting" for ever.
    let (_, _, shown) = app
        .call(Method::GET, &format!("/api/videos/{id}"), Some(&bob), None)
        .await;
    assert_eq!(shown["status"], "failed");

    // Purge (from anywhere): files, comments, jobs and the row go; twice is "No such video.".
    assert!(video_dir(&app, &id).exists());
    let (status, body) = act(&app, &ann, "purge", &id).await;
    assert_eq!(status, StatusCode::NO_CONTENT, "{body}");
    assert!(!video_dir(&app, &id).exists());
    assert!(!row_exists(&app, &id).await);
    for table in ["comments", "jobs", "upload_chunks"] {
        let n: i64 =
            sqlx::query_scalar(&format!("SELECT COUNT(*) FROM {table} WHERE video_id = $1"))
                .bind(id.to_string())
                .fetch_one(&app.state.db)
                .await
                .expect("count");
        assert_eq!(n, 0, "{table}");
    }
    let (status, body) = act(&app, &ann, "purge", &id).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(message(&body), "No such video.");
    assert_eq!(
        video_events(&app, &id).await,
        ["video_trashed", "video_restored", "video_purged"]
    );
}

#[tokio::test]
async fn members_cannot_touch_other_members_videos_and_nothing_changes() {
    let app = app().await;
    let ann = app.signed_in("ann", Role::Member).await;
    let bob = app.signed_in("bob", Role::Member).await;
    let root = app.signed_in("root", Role::Admin).await;
    let file = video(&app, &ann).await;
    let id = file.id;

    for what in ["trash", "purge"] {
        let (status, body) = act(&app, &bob, what, &id).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{what}: {body}");
        assert!(message(&body).starts_with("Only the person who uploaded this video or an admin"));
    }
    let (status, _) = act(&app, &bob, "restore", &id).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert!(gallery_ids(&app, &bob).await.contains(&id.to_string()));
    assert!(video_events(&app, &id).await.is_empty());

    // Once in ann's trash, it is not bob's to see at all.
    act(&app, &ann, "trash", &id).await;
    for what in ["trash", "restore", "purge"] {
        let (status, body) = act(&app, &bob, what, &id).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{what}: {body}");
        assert_eq!(message(&body), "No such video.");
    }
    assert_eq!(trash_ids(&app, &ann).await, [id.to_string()]);

    // Another member's unfinished upload is not there either.
    let unfinished = SealedFile::new(1000);
    app.create_upload(&ann, &unfinished).await;
    let (status, _) = act(&app, &bob, "trash", &unfinished.id).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert!(row_exists(&app, &unfinished.id).await);

    // Nobody signed in, a bad id, an unknown id.
    let (status, _, _) = app
        .call(Method::POST, &format!("/api/videos/{id}/trash"), None, None)
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let (status, _, body) = app
        .call(Method::POST, "/api/videos/../trash", Some(&ann), None)
        .await;
    assert!(status.is_client_error(), "{body}");
    let (status, _, body) = app
        .call(
            Method::POST,
            "/api/videos/NOT-AN-ID/trash",
            Some(&ann),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(message(&body).contains("32 lowercase hex digits"));
    let (status, _) = act(&app, &ann, "trash", &VideoId::random().expect("id")).await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    // An admin may do all of it to anyone's video.
    let (status, _) = act(&app, &root, "restore", &id).await;
    assert_eq!(status, StatusCode::OK);
    let (status, _) = act(&app, &root, "trash", &id).await;
    assert_eq!(status, StatusCode::OK);
    let (_, _, all) = app.call(Method::GET, "/api/trash", Some(&root), None).await;
    assert_eq!(all["videos"][0]["trashed_by"], "root");
    let (status, _) = act(&app, &root, "purge", &id).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    // Emptying the trash is the admin's alone.
    let (status, _, _) = app
        .call(Method::POST, "/api/admin/trash/empty", Some(&ann), None)
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn deleting_an_unfinished_upload_removes_it_and_its_chunks_are_refused() {
    let app = app().await;
    let ann = app.signed_in("ann", Role::Member).await;
    let file = SealedFile::new(3 * common::uploads::CHUNK);
    let (status, body) = app.create_upload(&ann, &file).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let (status, _) = app.put_chunk(&ann, &file, 0).await;
    assert_eq!(status, StatusCode::OK);
    assert!(video_dir(&app, &file.id).exists());

    let (status, body) = act(&app, &ann, "trash", &file.id).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["purged"], true);
    assert!(!row_exists(&app, &file.id).await);
    assert!(!video_dir(&app, &file.id).exists());
    let (status, _) = app.put_chunk(&ann, &file, 1).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _) = app.complete_upload(&ann, &file.id, &file.dek_hex()).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    // The same file can be sent again from the start.
    let (status, body) = app
        .create_upload(&ann, &SealedFile::new(3 * common::uploads::CHUNK))
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    assert_eq!(video_events(&app, &file.id).await, ["video_purged"]);
    let (status, _) = act(&app, &ann, "trash", &file.id).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn deleting_a_video_being_transcoded_kills_ffmpeg_and_erases_the_servers_key() {
    let (app, _) = spawn_processing_app().await;
    let ann = app.signed_in("ann", Role::Member).await;
    let (workers, _) = app.start_workers(1);
    let (job, work_dir) = app.running_transcode(&ann).await;
    let id: String = sqlx::query_scalar("SELECT video_id FROM jobs WHERE id = $1")
        .bind(job)
        .fetch_one(&app.state.db)
        .await
        .expect("video");
    let id = VideoId::parse(&id).expect("id");
    let key: Option<Vec<u8>> =
        sqlx::query_scalar("SELECT wrapped_server_dek FROM jobs WHERE id = $1")
            .bind(job)
            .fetch_one(&app.state.db)
            .await
            .expect("key");
    assert!(key.is_some(), "the server holds the key while processing");

    let (status, body) = act(&app, &ann, "trash", &id).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let deadline = Instant::now() + Duration::from_secs(10);
    while ffmpeg_running_in(&work_dir) {
        assert!(
            Instant::now() < deadline,
            "ffmpeg still runs after the delete"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let state = app.wait_final(&ann, job).await;
    assert_eq!(state["status"], "cancelled", "{state}");
    let (key, status): (Option<Vec<u8>>, String) = sqlx::query_as(
        "SELECT j.wrapped_server_dek, v.status FROM jobs j JOIN videos v ON v.id = j.video_id
         WHERE j.id = $1",
    )
    .bind(job)
    .fetch_one(&app.state.db)
    .await
    .expect("row");
    assert!(key.is_none(), "the key is erased");
    assert_eq!(status, "failed");
    // Nothing was published for it meanwhile.
    tokio::time::sleep(Duration::from_millis(500)).await;
    let published: Option<String> =
        sqlx::query_scalar("SELECT manifest_path FROM videos WHERE id = $1")
            .bind(id.to_string())
            .fetch_one(&app.state.db)
            .await
            .expect("row");
    assert!(published.is_none());
    workers.cancel();
}

#[tokio::test]
async fn a_ready_video_in_the_trash_plays_nowhere_and_its_download_ends() {
    let (app, _) = spawn_processing_app().await;
    let ann = app.signed_in("ann", Role::Member).await;
    let (file, _) = app.processed_video(&ann, 1).await;
    let id = file.id;
    let (_, _, shown) = app
        .call(Method::GET, &format!("/api/videos/{id}"), Some(&ann), None)
        .await;
    let rendition = shown["rendition"].as_str().expect("rendition").to_owned();
    let manifest = format!("/api/videos/{id}/manifest?rendition={rendition}");
    let thumb = format!("/api/videos/{id}/thumb?rendition={rendition}");
    let init = format!("/api/videos/{id}/renditions/{rendition}/init");
    let (status, _, _) = app.get_raw(&manifest, Some(&ann), &[]).await;
    assert_eq!(status, StatusCode::OK);
    // A server-side download waiting or ready holds the key.
    let (status, _, download) = app
        .call(
            Method::POST,
            &format!("/api/videos/{id}/download"),
            Some(&ann),
            Some(json!({ "dek": file.dek_hex(), "file_name": "a.mp4", "queue": true })),
        )
        .await;
    assert!(status.is_success(), "{download}");

    let (status, _) = act(&app, &ann, "trash", &id).await;
    assert_eq!(status, StatusCode::OK);
    for uri in [&manifest, &thumb, &init] {
        let (status, _, body) = app.get_raw(uri, Some(&ann), &[]).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{uri}");
        assert_eq!(
            message(&common::json(&body)),
            "This video was moved to the trash."
        );
    }
    let (status, _, _) = app
        .call(
            Method::POST,
            &format!("/api/videos/{id}/download"),
            Some(&ann),
            Some(json!({ "dek": file.dek_hex(), "file_name": "a.mp4", "queue": true })),
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (state, key): (String, Option<Vec<u8>>) =
        sqlx::query_as("SELECT state, wrapped_dek FROM downloads WHERE video_id = $1")
            .bind(id.to_string())
            .fetch_one(&app.state.db)
            .await
            .expect("download");
    assert_eq!(state, "cancelled");
    assert!(key.is_none());

    // Restored, it plays again, still ready.
    act(&app, &ann, "restore", &id).await;
    let (status, _, _) = app.get_raw(&manifest, Some(&ann), &[]).await;
    assert_eq!(status, StatusCode::OK);
    let (_, _, shown) = app
        .call(Method::GET, &format!("/api/videos/{id}"), Some(&ann), None)
        .await;
    assert_eq!(shown["status"], "ready");
}

#[tokio::test]
async fn a_purge_stopped_after_its_first_step_shows_nothing_and_housekeeping_finishes_it() {
    let app = app().await;
    let ann = app.signed_in("ann", Role::Member).await;
    let keep = video(&app, &ann).await;
    let file = video(&app, &ann).await;
    let id = file.id;
    act(&app, &ann, "trash", &id).await;
    purge::fault::stop_after_marking(id);

    let (status, _) = act(&app, &ann, "purge", &id).await;
    assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR);
    // The files are still there and so is the row, but for members the video is gone.
    assert!(video_dir(&app, &id).exists());
    assert!(row_exists(&app, &id).await);
    assert_eq!(gallery_ids(&app, &ann).await, [keep.id.to_string()]);
    assert!(trash_ids(&app, &ann).await.is_empty());
    for what in ["restore", "trash"] {
        let (status, _) = act(&app, &ann, what, &id).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{what}");
    }
    assert_eq!(
        video_events(&app, &id).await,
        ["video_trashed", "video_purged"]
    );

    // Housekeeping (as at start and every 15 minutes) finishes it.
    let done = purge::sweep(&app.state, cloister::accounts::unix_now())
        .await
        .expect("sweep");
    assert_eq!(done, 1);
    assert!(!video_dir(&app, &id).exists());
    assert!(!row_exists(&app, &id).await);
    assert!(video_dir(&app, &keep.id).exists());
    assert_eq!(gallery_ids(&app, &ann).await, [keep.id.to_string()]);
}

#[tokio::test]
async fn the_quota_counts_the_trash_until_it_is_purged() {
    let app = app().await;
    cloister::accounts::users::create(
        &app.state.db,
        "ann",
        zeroize::Zeroizing::new(common::PASSWORD.to_owned()),
        Role::Member,
        8000,
    )
    .await
    .expect("user");
    let ann = app.login("ann", common::PASSWORD).await;
    let root = app.signed_in("root", Role::Admin).await;
    let first = app.upload_video(&ann, SealedFile::new(5000).plain).await.0;
    act(&app, &ann, "trash", &first.id).await;

    // 5000 in the trash + 5000 more > 8000.
    let (status, body) = app.create_upload(&ann, &SealedFile::new(5000)).await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE, "{body}");
    assert!(message(&body).contains("over your storage quota"), "{body}");
    let (_, _, storage) = app
        .call(Method::GET, "/api/admin/storage", Some(&root), None)
        .await;
    assert_eq!(storage["trash"]["videos"], 1);
    assert_eq!(storage["trash"]["quota_bytes"], 5000);
    assert!(storage["trash"]["stored_bytes"].as_u64().expect("bytes") > 5000);
    let ann_row = storage["users"]
        .as_array()
        .expect("users")
        .iter()
        .find(|u| u["username"] == "ann")
        .expect("ann")
        .clone();
    assert_eq!(ann_row["quota_used_bytes"], 5000);

    // Emptying the trash frees it.
    let (status, _, body) = app
        .call(Method::POST, "/api/admin/trash/empty", Some(&root), None)
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["purged"], 1);
    let (_, _, storage) = app
        .call(Method::GET, "/api/admin/storage", Some(&root), None)
        .await;
    assert_eq!(storage["trash"]["videos"], 0);
    assert_eq!(storage["trash"]["stored_bytes"], 0);
    let (status, body) = app.create_upload(&ann, &SealedFile::new(5000)).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
}

#[tokio::test]
async fn the_trash_is_purged_when_its_retention_ends() {
    let app = TestApp::spawn_with_state(
        |config| config.trash.trash_days = 2,
        |state| state.core.disk = Arc::new(FixedDiskSpace(1 << 50)),
    )
    .await;
    let ann = app.signed_in("ann", Role::Member).await;
    let file = video(&app, &ann).await;
    let (_, body) = act(&app, &ann, "trash", &file.id).await;
    assert_eq!(body["retention_days"], 2);
    let now = cloister::accounts::unix_now();

    let done = purge::sweep(&app.state, now + DAY).await.expect("sweep");
    assert_eq!(done, 0, "a day in, it stays");
    assert_eq!(trash_ids(&app, &ann).await, [file.id.to_string()]);
    let done = purge::sweep(&app.state, now + 2 * DAY + 60)
        .await
        .expect("sweep");
    assert_eq!(done, 1);
    assert!(!row_exists(&app, &file.id).await);
    assert!(!video_dir(&app, &file.id).exists());
    assert_eq!(
        video_events(&app, &file.id).await,
        ["video_trashed", "video_purged"]
    );
}

#[tokio::test]
async fn removing_a_member_moves_their_videos_or_trashes_them_and_keeps_the_last_admin() {
    let app = app().await;
    let root = app.signed_in("root", Role::Admin).await;
    let ann = app.signed_in("ann", Role::Member).await;
    let bob = app.signed_in("bob", Role::Member).await;
    let cat = app.signed_in("cat", Role::Member).await;
    let a1 = video(&app, &ann).await;
    let a2 = video(&app, &ann).await;
    post_comment(&app, &ann, &a1).await;
    let c1 = video(&app, &cat).await;
    let remove = |who: &str, query: &str| format!("/api/admin/users/{who}{query}");

    // With videos and no choice: refused, and says what to choose.
    let (status, _, body) = app
        .call(Method::DELETE, &remove("ann", ""), Some(&root), None)
        .await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert_eq!(
        message(&body),
        "ann has 2 videos: choose a member to give them to, or move them to the trash."
    );
    for (query, expected) in [
        ("?videos=move", StatusCode::BAD_REQUEST),
        ("?videos=move&to=nobody", StatusCode::NOT_FOUND),
        ("?videos=move&to=ann", StatusCode::BAD_REQUEST),
        ("?videos=sideways", StatusCode::BAD_REQUEST),
    ] {
        let (status, _, body) = app
            .call(Method::DELETE, &remove("ann", query), Some(&root), None)
            .await;
        assert_eq!(status, expected, "{query}: {body}");
    }
    // A member cannot remove anyone.
    let (status, _, _) = app
        .call(
            Method::DELETE,
            &remove("ann", "?videos=trash"),
            Some(&bob),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert!(cloister::accounts::users::find(&app.state.db, "ann")
        .await
        .expect("find")
        .is_some());

    // Moved to bob: his now, still in the gallery; ann's comments go with her account.
    let (status, _, body) = app
        .call(
            Method::DELETE,
            &remove("ann", "?videos=move&to=bob"),
            Some(&root),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT, "{body}");
    let (_, _, page) = app.call(Method::GET, "/api/videos", Some(&bob), None).await;
    for file in [&a1, &a2] {
        let shown = page["videos"]
            .as_array()
            .expect("videos")
            .iter()
            .find(|v| v["video_id"] == file.id.to_string())
            .expect("still listed");
        assert_eq!(shown["owner"], "bob");
    }
    let (status, _) = act(&app, &bob, "trash", &a1.id).await;
    assert_eq!(status, StatusCode::OK, "bob may now delete it");
    let (status, _) = act(&app, &bob, "restore", &a1.id).await;
    assert_eq!(status, StatusCode::OK);

    // To the trash: out of the gallery, in the removing admin's trash.
    let (status, _, body) = app
        .call(
            Method::DELETE,
            &remove("cat", "?videos=trash"),
            Some(&root),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT, "{body}");
    assert!(!gallery_ids(&app, &bob).await.contains(&c1.id.to_string()));
    let (_, _, trash) = app.call(Method::GET, "/api/trash", Some(&root), None).await;
    assert_eq!(trash["videos"][0]["video_id"], c1.id.to_string());
    assert_eq!(trash["videos"][0]["owner"], "root");
    assert_eq!(trash["videos"][0]["trashed_by"], "root");
    assert_eq!(video_events(&app, &c1.id).await, ["video_trashed"]);

    // The last admin cannot go, whatever is chosen, and nothing of theirs moves.
    let mine = video(&app, &root).await;
    let (status, _, body) = app
        .call(
            Method::DELETE,
            &remove("root", "?videos=move&to=bob"),
            Some(&root),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert!(message(&body).contains("last admin"), "{body}");
    let (_, _, page) = app.call(Method::GET, "/api/videos", Some(&bob), None).await;
    let shown = page["videos"]
        .as_array()
        .expect("videos")
        .iter()
        .find(|v| v["video_id"] == mine.id.to_string())
        .expect("listed")
        .clone();
    assert_eq!(shown["owner"], "root");
    // Moved videos count as bob's: removing him now asks the same choice.
    let (status, _, _) = app
        .call(Method::DELETE, &remove("bob", ""), Some(&root), None)
        .await;
    assert_eq!(status, StatusCode::CONFLICT, "bob has videos now");
}

mod cli {
    use super::common::cli::{client, run, serve, set_up};

    fn id_in(ls: &str) -> String {
        ls.lines()
            .find(|l| l.contains("beach day"))
            .and_then(|l| l.split_whitespace().find(|w| w.len() == 32))
            .unwrap_or_else(|| panic!("no video in {ls}"))
            .to_owned()
    }

    #[tokio::test]
    async fn rm_trash_restore_and_rm_purge_from_the_command_line() {
        let data = tempfile::tempdir().expect("temp");
        let files = tempfile::tempdir().expect("temp");
        let path = files.path().join("beach day.mp4");
        std::fs::write(&path, vec![7u8; 10_000]).expect("write");
        let (_server, url) = serve(data.path(), 0).await;
        set_up(data.path(), &url).await;
        let r = run(
            client(["upload"], &url, &[path.to_str().expect("utf-8")]),
            "",
        )
        .await;
        assert_eq!(r.code, 0, "{}", r.stderr);
        let ls = run(client(["ls"], &url, &[]), "").await;
        let id = id_in(&ls.stdout);

        let r = run(client(["trash"], &url, &[]), "").await;
        assert_eq!(r.code, 0, "{}", r.stderr);
        assert!(r.stdout.contains("The trash is empty."), "{}", r.stdout);

        // A typo deletes nothing.
        let r = run(client(["rm"], &url, &[&id, "nope"]), "").await;
        assert_ne!(r.code, 0);
        assert!(r.stderr.contains("nope is not a video id"), "{}", r.stderr);

        let r = run(client(["rm"], &url, &[&id]), "").await;
        assert_eq!(r.code, 0, "{}", r.stderr);
        assert!(
            r.stdout.contains("moved to the trash (kept 30 days"),
            "{}",
            r.stdout
        );
        let ls = run(client(["ls"], &url, &[]), "").await;
        assert!(!ls.stdout.contains(&id), "{}", ls.stdout);
        let r = run(client(["trash"], &url, &[]), "").await;
        assert!(
            r.stdout.contains(&id) && r.stdout.contains("beach day"),
            "{}",
            r.stdout
        );
        assert!(r.stdout.contains(" 30 "), "30 days left: {}", r.stdout);

        let r = run(client(["restore"], &url, &[&id]), "").await;
        assert_eq!(r.code, 0, "{}", r.stderr);
        assert!(
            r.stdout.contains(&format!("{id}: restored")),
            "{}",
            r.stdout
        );
        let ls = run(client(["ls"], &url, &[]), "").await;
        assert!(ls.stdout.contains(&id), "{}", ls.stdout);

        let r = run(client(["rm"], &url, &["--purge", &id]), "").await;
        assert_eq!(r.code, 0, "{}", r.stderr);
        assert!(r.stdout.contains("deleted for good"), "{}", r.stdout);
        assert!(!data.path().join("videos").join(&id).exists());
        let r = run(client(["rm"], &url, &["--purge", &id]), "").await;
        assert_ne!(r.code, 0);
        assert!(r.stderr.contains("No such video."), "{}", r.stderr);
        let r = run(client(["restore"], &url, &[&id]), "").await;
        assert_ne!(r.code, 0);
    }
}
