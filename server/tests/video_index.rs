//! The find index, `GET /api/videos/index`: every video a member may see, with its sealed title,
//! description and metadata for the browser to decrypt and search; processing seals the recording
//! time, duration and picture shape so the server keeps none of them in the clear.

mod common;

use axum::http::{Method, StatusCode};
use cloister_shared::api::{Role, VideoIndex, VideoMetadata, VideoStatus};
use cloister_shared::crypto::stream::open_all;
use cloister_shared::{Purpose, VideoId};
use common::processing::spawn_processing_app;
use common::uploads::SealedFile;
use common::{message, TestApp};

async fn index(app: &TestApp, cookie: &str) -> VideoIndex {
    let (status, _, body) = app
        .call(Method::GET, "/api/videos/index", Some(cookie), None)
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    serde_json::from_value(body).expect("a VideoIndex")
}

fn open_hex(file: &SealedFile, purpose: &Purpose, sealed_hex: &str) -> String {
    let sealed = hex::decode(sealed_hex).expect("hex");
    let plain = open_all(&file.dek, &file.id, purpose, &sealed).expect("opens");
    String::from_utf8(plain).expect("text")
}

/// A portrait H.264 clip whose container says it was recorded at `creation_time`.
fn portrait_clip_recorded_at(creation_time: &str) -> Vec<u8> {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("portrait.mp4");
    let status = std::process::Command::new("ffmpeg")
        .args(["-v", "error", "-nostdin", "-y", "-f", "lavfi", "-i"])
        .arg("testsrc2=size=180x320:rate=25:duration=2")
        .args([
            "-c:v",
            "libx264",
            "-preset",
            "ultrafast",
            "-pix_fmt",
            "yuv420p",
        ])
        .args(["-metadata", &format!("creation_time={creation_time}")])
        .arg(&path)
        .status()
        .expect("ffmpeg");
    assert!(status.success(), "ffmpeg could not make a clip");
    std::fs::read(path).expect("clip")
}

#[tokio::test]
async fn the_index_needs_a_session() {
    let app = TestApp::spawn().await;
    let (status, _, body) = app.call(Method::GET, "/api/videos/index", None, None).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{body}");
    assert!(!message(&body).is_empty());
}

#[tokio::test]
async fn the_index_lists_what_the_gallery_may_show_with_the_words_sealed() {
    let app = TestApp::spawn().await;
    let alice = app.signed_in("alice", Role::Member).await;
    let bob = app.signed_in("bob", Role::Member).await;

    // A finished upload (queued for processing: no worker runs here) and one still uploading.
    let done = SealedFile::new(1000);
    app.send_chunks(&alice, &done).await;
    let (status, body) = app.complete_upload(&alice, &done.id, &done.dek_hex()).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let unfinished = SealedFile::new(1000);
    app.send_chunks(&alice, &unfinished).await;

    let seen_by_bob = index(&app, &bob).await;
    let ids: Vec<VideoId> = seen_by_bob.videos.iter().map(|v| v.video_id).collect();
    assert_eq!(
        ids,
        [done.id],
        "another member's unfinished upload is not listed"
    );

    let entry = &seen_by_bob.videos[0];
    assert_eq!(entry.owner, "alice");
    assert_eq!(entry.status, VideoStatus::Uploaded);
    assert_eq!(entry.size_bytes, 1000);
    assert_eq!(
        open_hex(&done, &Purpose::Title, &entry.title_sealed),
        "My holiday"
    );
    let description = entry.description_sealed.as_deref().expect("a description");
    assert_eq!(
        open_hex(&done, &Purpose::Description, description),
        "At the sea"
    );
    let dek = cloister_shared::unwrap_dek(&done.library_key, &done.id, &entry.wrapped_dek)
        .expect("the wrapped DEK opens with the library key");
    assert_eq!(dek.as_bytes(), done.dek.as_bytes());
    // Not processed: nothing to play, and no metadata yet.
    assert_eq!(entry.duration_ms, None);
    assert_eq!(entry.rendition, None);
    assert!(!entry.has_thumb);
    assert_eq!(entry.metadata_sealed, None);

    // The uploader sees their own unfinished upload as well.
    let seen_by_alice = index(&app, &alice).await;
    let mut ids: Vec<VideoId> = seen_by_alice.videos.iter().map(|v| v.video_id).collect();
    ids.sort();
    let mut expected = vec![done.id, unfinished.id];
    expected.sort();
    assert_eq!(ids, expected);

    // A video in the trash leaves the index, and comes back when restored.
    let trash = format!("/api/videos/{}/trash", done.id);
    let (status, _, body) = app.call(Method::POST, &trash, Some(&alice), None).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert!(index(&app, &bob).await.videos.is_empty());
    let restore = format!("/api/videos/{}/restore", done.id);
    let (status, _, body) = app.call(Method::POST, &restore, Some(&alice), None).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(index(&app, &bob).await.videos.len(), 1);
}

#[tokio::test]
async fn the_index_is_compact_json_newest_first() {
    let app = TestApp::spawn().await;
    let alice = app.signed_in("alice", Role::Member).await;
    let mut files = Vec::new();
    for _ in 0..3 {
        let file = SealedFile::new(100);
        app.send_chunks(&alice, &file).await;
        app.complete_upload(&alice, &file.id, &file.dek_hex()).await;
        files.push(file);
    }
    // Three different upload times, oldest first.
    for (n, file) in files.iter().enumerate() {
        sqlx::query("UPDATE videos SET created_at = $1 WHERE id = $2")
            .bind(1_700_000_000 + n as i64)
            .bind(file.id.to_string())
            .execute(&app.state.db)
            .await
            .expect("set created_at");
    }
    let (status, _, raw) = app
        .get_raw(
            "/api/videos/index",
            Some(&alice),
            &[(axum::http::header::ACCEPT_ENCODING, "identity")],
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let text = String::from_utf8(raw).expect("utf-8");
    // Absent facts are left out rather than written as nulls or falses.
    for absent in [
        "null",
        "has_thumb",
        "rendition",
        "duration_ms",
        "metadata_sealed",
    ] {
        assert!(!text.contains(absent), "{absent} in {text}");
    }
    let listed: VideoIndex = serde_json::from_str(&text).expect("a VideoIndex");
    let ids: Vec<VideoId> = listed.videos.iter().map(|v| v.video_id).collect();
    assert_eq!(ids, [files[2].id, files[1].id, files[0].id]);
}

#[tokio::test]
async fn processing_seals_the_recording_time_duration_and_shape() {
    let (app, _) = spawn_processing_app().await;
    let alice = app.signed_in("alice", Role::Member).await;
    let bob = app.signed_in("bob", Role::Member).await;

    // A portrait clip recorded at a known time, and one with no recording time at all.
    let (workers, _) = app.start_workers(1);
    let (recorded, job) = app
        .upload_video(&alice, portrait_clip_recorded_at("2021-06-15T08:30:00Z"))
        .await;
    let end = app.wait_final(&alice, job).await;
    assert_eq!(end["status"], "done", "{end}");
    workers.cancel();
    let (plain, plain_manifest) = app.processed_video(&alice, 1).await;

    let listed = index(&app, &bob).await;
    let entry_of = |id: VideoId| {
        listed
            .videos
            .iter()
            .find(|v| v.video_id == id)
            .expect("listed")
            .clone()
    };

    let entry = entry_of(recorded.id);
    assert_eq!(entry.status, VideoStatus::Ready);
    assert!(entry.has_thumb);
    assert!(entry.rendition.is_some());
    let sealed = entry.metadata_sealed.as_deref().expect("metadata");
    let metadata = VideoMetadata::open(&recorded.dek, &recorded.id, sealed).expect("opens");
    assert_eq!(metadata.recorded_at, Some(1_623_745_800));
    assert_eq!((metadata.width, metadata.height), (180, 320));
    assert!(metadata.portrait());
    assert_eq!(Some(metadata.duration_ms), entry.duration_ms);
    // It is sealed for this video only.
    assert!(VideoMetadata::open(&plain.dek, &recorded.id, sealed).is_none());
    // The server's row holds no recording time in the clear.
    let stored: Vec<u8> = sqlx::query_scalar("SELECT metadata_sealed FROM videos WHERE id = $1")
        .bind(recorded.id.to_string())
        .fetch_one(&app.state.db)
        .await
        .expect("row");
    assert!(!String::from_utf8_lossy(&stored).contains("1623745800"));

    let entry = entry_of(plain.id);
    let sealed = entry.metadata_sealed.as_deref().expect("metadata");
    let metadata = VideoMetadata::open(&plain.dek, &plain.id, sealed).expect("opens");
    assert_eq!(metadata.recorded_at, None, "the clip has no creation time");
    assert_eq!((metadata.width, metadata.height), (320, 240));
    assert!(!metadata.portrait());
    assert_eq!(metadata.duration_ms, plain_manifest.duration_ms);
}
