//! Editing a video's title and description (`PATCH /api/videos/{id}`) through the real router:
//! sealed in the "browser" under a fresh salt, swapped by the server, announced to every member;
//! who may edit, in which states, and every refusal with its status and message.

mod common;

use std::sync::Arc;

use axum::http::{Method, StatusCode};
use cloister::storage::FixedDiskSpace;
use cloister_shared::api::uploads::MAX_TITLE_SEALED_BYTES;
use cloister_shared::api::{Event, Role, VideoSummary};
use cloister_shared::crypto::stream::{seal_all, DEFAULT_CHUNK_SIZE};
use cloister_shared::{LibraryKey, Purpose, VideoId};
use common::uploads::SealedFile;
use common::{message, TestApp};
use serde_json::{json, Value};

async fn app() -> TestApp {
    TestApp::spawn_with_state(
        |_| {},
        |state| state.core.disk = Arc::new(FixedDiskSpace(1 << 50)),
    )
    .await
}

/// An upload created by `cookie`; completed (status `uploaded`) unless `finish` is false.
async fn video(app: &TestApp, cookie: &str, finish: bool) -> SealedFile {
    let file = SealedFile::new(1000);
    let (status, body) = app.create_upload(cookie, &file).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    if finish {
        let (status, body) = app.put_chunk(cookie, &file, 0).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        let (status, body) = app.complete_upload(cookie, &file.id, &file.dek_hex()).await;
        assert_eq!(status, StatusCode::OK, "{body}");
    }
    file
}

/// `text` sealed as the browser seals it: the video's DEK, a fresh salt.
fn seal(file: &SealedFile, text: &str, purpose: Purpose) -> String {
    hex::encode(
        seal_all(
            &file.dek,
            &file.id,
            &purpose,
            DEFAULT_CHUNK_SIZE,
            text.as_bytes(),
        )
        .expect("seal"),
    )
}

fn body(file: &SealedFile, title: &str, description: Option<&str>) -> Value {
    json!({
        "title_sealed": seal(file, title, Purpose::Title),
        "description_sealed": description.map(|d| seal(file, d, Purpose::Description)),
    })
}

async fn patch(app: &TestApp, cookie: &str, video: &VideoId, body: Value) -> (StatusCode, Value) {
    let (status, _, answer) = app
        .call(
            Method::PATCH,
            &format!("/api/videos/{video}"),
            Some(cookie),
            Some(body),
        )
        .await;
    (status, answer)
}

/// The title and description as a member's browser opens them.
async fn texts(app: &TestApp, cookie: &str, file: &SealedFile) -> (String, Option<String>) {
    let (status, _, answer) = app
        .call(
            Method::GET,
            &format!("/api/videos/{}", file.id),
            Some(cookie),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    let summary: VideoSummary = serde_json::from_value(answer).expect("summary");
    let key = LibraryKey::from_bytes(*file.library_key.as_bytes());
    (
        summary.open_title(&key).expect("title opens"),
        summary.open_description(&key),
    )
}

async fn edited_events(app: &TestApp, video: &VideoId) -> usize {
    let payloads: Vec<String> = sqlx::query_scalar("SELECT payload FROM job_events ORDER BY seq")
        .fetch_all(&app.state.db)
        .await
        .expect("events");
    payloads
        .iter()
        .filter_map(|p| serde_json::from_str::<Event>(p).ok())
        .filter(|e| matches!(e, Event::VideoEdited { video_id } if video_id == video))
        .count()
}

#[tokio::test]
async fn the_owner_edits_and_every_member_sees_the_new_text_with_one_event() {
    let app = app().await;
    let alice = app.signed_in("alice", Role::Member).await;
    let bob = app.signed_in("bob", Role::Member).await;
    let file = video(&app, &alice, true).await;
    assert_eq!(
        texts(&app, &bob, &file).await,
        ("My holiday".to_owned(), Some("At the sea".to_owned()))
    );

    let (status, answer) = patch(
        &app,
        &alice,
        &file.id,
        body(&file, "Sea, 2026", Some("Waves")),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    assert_eq!(answer["changed"], true);
    assert_eq!(
        texts(&app, &bob, &file).await,
        ("Sea, 2026".to_owned(), Some("Waves".to_owned()))
    );
    assert_eq!(edited_events(&app, &file.id).await, 1);

    // No description: it is removed.
    let (status, answer) = patch(&app, &alice, &file.id, body(&file, "Sea", None)).await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    assert_eq!(texts(&app, &bob, &file).await, ("Sea".to_owned(), None));
    assert_eq!(edited_events(&app, &file.id).await, 2);
}

#[tokio::test]
async fn the_same_request_twice_changes_nothing_the_second_time() {
    let app = app().await;
    let alice = app.signed_in("alice", Role::Member).await;
    let file = video(&app, &alice, true).await;
    let same = body(&file, "Once", Some("Only once"));
    let (first, answer) = patch(&app, &alice, &file.id, same.clone()).await;
    assert_eq!(first, StatusCode::OK, "{answer}");
    assert_eq!(answer["changed"], true);
    let (second, answer) = patch(&app, &alice, &file.id, same).await;
    assert_eq!(second, StatusCode::OK, "{answer}");
    assert_eq!(answer["changed"], false);
    assert_eq!(edited_events(&app, &file.id).await, 1, "no second event");
    assert_eq!(
        texts(&app, &alice, &file).await,
        ("Once".to_owned(), Some("Only once".to_owned()))
    );
}

#[tokio::test]
async fn another_member_gets_403_for_a_visible_video_and_404_for_an_unfinished_one() {
    let app = app().await;
    let alice = app.signed_in("alice", Role::Member).await;
    let bob = app.signed_in("bob", Role::Member).await;
    let finished = video(&app, &alice, true).await;
    let unfinished = video(&app, &alice, false).await;

    let (status, answer) = patch(&app, &bob, &finished.id, body(&finished, "Mine now", None)).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{answer}");
    assert_eq!(
        message(&answer),
        "Only the member who uploaded this video, or an admin, can change its title and description."
    );
    let (status, answer) = patch(&app, &bob, &unfinished.id, body(&unfinished, "x", None)).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{answer}");
    assert_eq!(message(&answer), "No such video.");
    let (status, answer) = patch(
        &app,
        &bob,
        &VideoId::random().expect("id"),
        body(&finished, "x", None),
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{answer}");

    // Nothing changed, nothing announced.
    assert_eq!(texts(&app, &alice, &finished).await.0, "My holiday");
    assert_eq!(edited_events(&app, &finished.id).await, 0);

    // Signed out: 401.
    let (status, _, _) = app
        .call(
            Method::PATCH,
            &format!("/api/videos/{}", finished.id),
            None,
            Some(body(&finished, "x", None)),
        )
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn an_admin_edits_any_members_video() {
    let app = app().await;
    let alice = app.signed_in("alice", Role::Member).await;
    let admin = app.signed_in("root", Role::Admin).await;
    let file = video(&app, &alice, true).await;
    let (status, answer) = patch(
        &app,
        &admin,
        &file.id,
        body(&file, "Fixed by the admin", None),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    assert_eq!(texts(&app, &alice, &file).await.0, "Fixed by the admin");
    // Still Alice's.
    let owner: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM videos v JOIN users u ON u.id = v.owner_id WHERE v.id = $1 AND u.username = 'alice'")
        .bind(file.id.to_string())
        .fetch_one(&app.state.db)
        .await
        .expect("owner");
    assert_eq!(owner, 1);
}

#[tokio::test]
async fn every_state_can_be_edited_by_its_owner() {
    let app = app().await;
    let alice = app.signed_in("alice", Role::Member).await;
    // An unfinished upload: its owner sees it, and may fix its title.
    let unfinished = video(&app, &alice, false).await;
    let (status, answer) = patch(
        &app,
        &alice,
        &unfinished.id,
        body(&unfinished, "Still sending", None),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    assert_eq!(texts(&app, &alice, &unfinished).await.0, "Still sending");

    let file = video(&app, &alice, true).await;
    // The other states come from processing; set directly, as the worker would leave them.
    for state in ["uploaded", "processing", "ready", "failed"] {
        sqlx::query("UPDATE videos SET status = $1 WHERE id = $2")
            .bind(state)
            .bind(file.id.to_string())
            .execute(&app.state.db)
            .await
            .expect("status");
        let title = format!("Now {state}");
        let (status, answer) = patch(&app, &alice, &file.id, body(&file, &title, None)).await;
        assert_eq!(status, StatusCode::OK, "{state}: {answer}");
        let (status, _, listed) = app
            .call(
                Method::GET,
                &format!("/api/videos/{}", file.id),
                Some(&alice),
                None,
            )
            .await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(listed["status"], state);
        assert_eq!(texts(&app, &alice, &file).await.0, title);
    }
}

#[tokio::test]
async fn bad_sealed_text_is_refused_and_nothing_changes() {
    let app = app().await;
    let alice = app.signed_in("alice", Role::Member).await;
    let file = video(&app, &alice, true).await;
    let good_title = seal(&file, "Fine", Purpose::Title);
    let mut bad_magic = hex::decode(&good_title).expect("hex");
    bad_magic[0] = b'X';
    let mut cut = hex::decode(&good_title).expect("hex");
    cut.truncate(41 + 10);
    let too_long = seal(&file, &"x".repeat(MAX_TITLE_SEALED_BYTES), Purpose::Title);
    let cases = [
        (
            json!({ "title_sealed": "not hex" }),
            400,
            "title_sealed must be lowercase hex.",
        ),
        (
            json!({ "title_sealed": hex::encode(bad_magic) }),
            400,
            "title_sealed is not a sealed stream.",
        ),
        (
            json!({ "title_sealed": hex::encode(cut) }),
            400,
            "title_sealed is not a sealed stream.",
        ),
        (
            json!({ "title_sealed": "" }),
            400,
            "title_sealed is not a sealed stream.",
        ),
        (
            json!({ "title_sealed": too_long }),
            400,
            "title_sealed is too long: at most 4096 bytes.",
        ),
        (
            json!({ "title_sealed": good_title, "description_sealed": "abcd" }),
            400,
            "description_sealed is not a sealed stream.",
        ),
    ];
    for (request, want_status, want_message) in cases {
        let (status, answer) = patch(&app, &alice, &file.id, request.clone()).await;
        assert_eq!(status.as_u16(), want_status, "{request}: {answer}");
        assert_eq!(message(&answer), want_message, "{request}");
    }
    // Not JSON of the right shape, and a path that is not an id.
    let (status, answer) = patch(&app, &alice, &file.id, json!({ "title": "plain text" })).await;
    assert!(status.is_client_error(), "{answer}");
    let (status, answer) = patch(&app, &alice, &file.id, json!([])).await;
    assert!(status.is_client_error(), "{answer}");
    let (status, _, answer) = app
        .call(
            Method::PATCH,
            "/api/videos/..%2Fetc",
            Some(&alice),
            Some(body(&file, "x", None)),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{answer}");

    assert_eq!(
        texts(&app, &alice, &file).await,
        ("My holiday".to_owned(), Some("At the sea".to_owned()))
    );
    assert_eq!(edited_events(&app, &file.id).await, 0);
}

#[tokio::test]
async fn a_video_in_the_trash_is_not_edited_until_it_is_restored() {
    let app = app().await;
    let alice = app.signed_in("alice", Role::Member).await;
    let file = video(&app, &alice, true).await;
    let trash = format!("/api/videos/{}/trash", file.id);
    let (status, _, answer) = app.call(Method::POST, &trash, Some(&alice), None).await;
    assert_eq!(status, StatusCode::OK, "{answer}");

    let (status, _) = patch(&app, &alice, &file.id, body(&file, "Renamed", None)).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(edited_events(&app, &file.id).await, 0);

    let restore = format!("/api/videos/{}/restore", file.id);
    let (status, _, answer) = app.call(Method::POST, &restore, Some(&alice), None).await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    assert_eq!(
        texts(&app, &alice, &file).await,
        ("My holiday".to_owned(), Some("At the sea".to_owned())),
        "the trashed video kept its text"
    );
    let (status, answer) = patch(&app, &alice, &file.id, body(&file, "Renamed", None)).await;
    assert_eq!(status, StatusCode::OK, "{answer}");
}
