//! Duplicate uploads: the client's keyed content fingerprint is stored with the video, and
//! `GET /api/uploads/duplicates?fingerprint=…` lists the visible videos that have it — with
//! what the browser needs to say "You already uploaded this on <date> as <title>".

mod common;

use std::sync::Arc;

use axum::http::{Method, StatusCode};
use cloister::storage::FixedDiskSpace;
use cloister_shared::api::uploads::DuplicateList;
use cloister_shared::api::Role;
use cloister_shared::crypto::stream::open_all;
use cloister_shared::{content_fingerprint, sample_ranges, unwrap_dek, ContentSample, Purpose};
use common::uploads::SealedFile;
use common::{message, TestApp};
use serde_json::Value;

async fn app() -> TestApp {
    TestApp::spawn_with_state(
        |_| {},
        |state| state.core.disk = Arc::new(FixedDiskSpace(1 << 50)),
    )
    .await
}

fn content_hex(file: &SealedFile) -> String {
    let size = file.plain.len() as u64;
    let samples = sample_ranges(size).map(|r| &file.plain[r.start as usize..r.end as usize]);
    let sample = ContentSample::of(size, samples).expect("sample");
    hex::encode(content_fingerprint(&file.library_key, &sample))
}

/// Creates (and unless `finish` is false, completes) `file` with its content fingerprint.
async fn upload(app: &TestApp, cookie: &str, file: &SealedFile, finish: bool) {
    let mut body = file.create_body();
    body["content_fingerprint"] = Value::from(content_hex(file));
    let (status, _, answer) = app
        .call(Method::POST, "/api/uploads", Some(cookie), Some(body))
        .await;
    assert_eq!(status, StatusCode::CREATED, "{answer}");
    if finish {
        for index in 0..file.chunk_count() {
            let (status, answer) = app.put_chunk(cookie, file, index).await;
            assert_eq!(status, StatusCode::OK, "{answer}");
        }
        let (status, answer) = app.complete_upload(cookie, &file.id, &file.dek_hex()).await;
        assert_eq!(status, StatusCode::OK, "{answer}");
    }
}

async fn duplicates(app: &TestApp, cookie: &str, fingerprint: &str) -> (StatusCode, Value) {
    let (status, _, answer) = app
        .call(
            Method::GET,
            &format!("/api/uploads/duplicates?fingerprint={fingerprint}"),
            Some(cookie),
            None,
        )
        .await;
    (status, answer)
}

#[tokio::test]
async fn a_finished_video_with_the_same_content_is_found_with_its_date_owner_and_title() {
    let app = app().await;
    let alice = app.signed_in("alice", Role::Member).await;
    let bob = app.signed_in("bob", Role::Member).await;
    let original = SealedFile::new(300_000);
    upload(&app, &alice, &original, true).await;

    // The same bytes, chosen again (another id, name, DEK): the same content fingerprint.
    let again = SealedFile::from_plain(original.plain.clone());
    assert_eq!(content_hex(&again), content_hex(&original));
    for viewer in [&alice, &bob] {
        let (status, answer) = duplicates(&app, viewer, &content_hex(&again)).await;
        assert_eq!(status, StatusCode::OK, "{answer}");
        let list: DuplicateList = serde_json::from_value(answer).expect("list");
        assert_eq!(list.videos.len(), 1);
        let found = &list.videos[0];
        assert_eq!(found.video_id, original.id);
        assert_eq!(found.owner, "alice");
        assert!(found.created_at > 1_700_000_000);
        // The browser opens the title with the library key.
        let dek = unwrap_dek(&again.library_key, &found.video_id, &found.wrapped_dek).expect("dek");
        let title = open_all(
            &dek,
            &found.video_id,
            &Purpose::Title,
            &hex::decode(&found.title_sealed).expect("hex"),
        )
        .expect("open");
        assert_eq!(title, b"My holiday");
    }

    // Other content: nothing.
    let other = SealedFile::new(300_001);
    let (status, answer) = duplicates(&app, &alice, &content_hex(&other)).await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    assert_eq!(answer["videos"].as_array().map(Vec::len), Some(0));
}

#[tokio::test]
async fn keeping_both_stores_a_second_video_and_both_are_listed() {
    let app = app().await;
    let alice = app.signed_in("alice", Role::Member).await;
    let original = SealedFile::new(5000);
    upload(&app, &alice, &original, true).await;
    let again = SealedFile::from_plain(original.plain.clone());
    upload(&app, &alice, &again, true).await;
    let (_, answer) = duplicates(&app, &alice, &content_hex(&original)).await;
    let list: DuplicateList = serde_json::from_value(answer).expect("list");
    let ids: Vec<_> = list.videos.iter().map(|v| v.video_id).collect();
    assert_eq!(ids.len(), 2);
    assert!(ids.contains(&original.id) && ids.contains(&again.id));
}

#[tokio::test]
async fn an_unfinished_upload_is_not_a_duplicate() {
    let app = app().await;
    let alice = app.signed_in("alice", Role::Member).await;
    let file = SealedFile::new(5000);
    upload(&app, &alice, &file, false).await;
    let (status, answer) = duplicates(&app, &alice, &content_hex(&file)).await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    assert_eq!(answer["videos"].as_array().map(Vec::len), Some(0));
}

#[tokio::test]
async fn a_video_in_the_trash_is_not_a_duplicate() {
    let app = app().await;
    let alice = app.signed_in("alice", Role::Member).await;
    let file = SealedFile::new(5000);
    upload(&app, &alice, &file, true).await;
    let (status, _, answer) = app
        .call(
            axum::http::Method::POST,
            &format!("/api/videos/{}/trash", file.id),
            Some(&alice),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    let (status, answer) = duplicates(&app, &alice, &content_hex(&file)).await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    assert_eq!(answer["videos"].as_array().map(Vec::len), Some(0));
}

#[tokio::test]
async fn bad_fingerprints_and_strangers_are_refused() {
    let app = app().await;
    let alice = app.signed_in("alice", Role::Member).await;
    for (query, want) in [
        ("", "fingerprint must be 32 bytes (64 hex digits)."),
        ("abc", "fingerprint must be lowercase hex."),
        (&"zz".repeat(32), "fingerprint must be lowercase hex."),
        (
            &"ab".repeat(31),
            "fingerprint must be 32 bytes (64 hex digits).",
        ),
        (
            &"ab".repeat(33),
            "fingerprint is too long: at most 32 bytes.",
        ),
    ] {
        let (status, answer) = duplicates(&app, &alice, query).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{query}: {answer}");
        assert_eq!(message(&answer), want, "{query}");
    }
    let (status, _, answer) = app
        .call(Method::GET, "/api/uploads/duplicates", Some(&alice), None)
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{answer}");
    let (status, _, _) = app
        .call(
            Method::GET,
            &format!("/api/uploads/duplicates?fingerprint={}", "ab".repeat(32)),
            None,
            None,
        )
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);

    // A create with a malformed content fingerprint stores nothing.
    let file = SealedFile::new(100);
    let mut body = file.create_body();
    body["content_fingerprint"] = Value::from("12");
    let (status, _, answer) = app
        .call(Method::POST, "/api/uploads", Some(&alice), Some(body))
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{answer}");
    assert_eq!(
        message(&answer),
        "content_fingerprint must be 32 bytes (64 hex digits)."
    );
}
