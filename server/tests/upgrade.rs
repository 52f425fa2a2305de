//! Upgrading a real data directory made by the last release with one shared library passphrase
//! (server/tests/fixtures/upgrade-v1, see its README): today's server opens it, the library is in
//! Shared mode, the admin converts to her own passphrase and sets a recovery key, the old video's
//! key still opens and its manifest decrypts, the member converts on his unlock, and then the
//! shared passphrase is gone (docs/accounts.md, "Keys for people").

mod common;

use std::path::Path;

use axum::body::Body;
use axum::http::{header, Method, Request, StatusCode};
use cloister_shared::api::keys::{LibraryMode, LibraryStatus};
use cloister_shared::api::VideoSummary;
use cloister_shared::crypto::stream::open_all;
use cloister_shared::keyring::{self, Unlocked};
use cloister_shared::manifest::Manifest;
use cloister_shared::{Purpose, VideoId};
use common::TestApp;

const SHARED: &str = "old shared passphrase";
const VIDEO: &str = "7db2307299701a700072f45193dca53a";

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("mkdir");
    for entry in std::fs::read_dir(from).expect("read fixture") {
        let entry = entry.expect("entry");
        let target = to.join(entry.file_name());
        if entry.file_type().expect("type").is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).expect("copy");
        }
    }
}

async fn status(app: &TestApp, cookie: &str) -> LibraryStatus {
    let (code, _, body) = app
        .call(Method::GET, "/api/library", Some(cookie), None)
        .await;
    assert_eq!(code, StatusCode::OK, "{body}");
    serde_json::from_value(body).expect("status")
}

/// Converts the signed-in member from the shared passphrase to `own`; answers their unlocked keys.
async fn convert(app: &TestApp, cookie: &str, own: &str) -> (Unlocked, LibraryStatus) {
    let seen = status(app, cookie).await;
    assert_eq!(seen.mode, LibraryMode::Shared);
    assert!(seen.me.is_none());
    let shared = seen
        .shared
        .as_ref()
        .expect("the shared passphrase's wrapping");
    let opened = keyring::unlock_shared(SHARED, shared, seen.generation).expect("shared opens");
    let (request, unlocked) = keyring::convert_from_shared(&opened, own).expect("convert");
    let (code, _, body) = app
        .call(
            Method::PUT,
            "/api/library/me",
            Some(cookie),
            Some(serde_json::to_value(&request).expect("json")),
        )
        .await;
    assert_eq!(code, StatusCode::OK, "{body}");
    (unlocked, serde_json::from_value(body).expect("status"))
}

async fn raw(app: &TestApp, cookie: &str, uri: &str) -> Vec<u8> {
    let request = Request::get(uri)
        .header("host", "localhost:3000")
        .header(header::COOKIE, cookie)
        .body(Body::empty())
        .expect("request");
    let (code, _, body) = app.send(request).await;
    assert_eq!(code, StatusCode::OK, "{uri}");
    body
}

#[tokio::test]
async fn a_shared_passphrase_library_upgrades_and_converts_member_by_member() {
    if common::database::on_postgres() {
        return; // The v1 fixture is a SQLite file; a v1 library reaches PostgreSQL by migrate-db.
    }
    let fixture = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/upgrade-v1/data");
    let dir = tempfile::tempdir().expect("temp dir");
    copy_dir(&fixture, dir.path());
    let app = TestApp::spawn_on(dir).await;
    let ada = app.login("ada", "ada-password-1").await;
    let bob = app.login("bob", "bob-password-1").await;

    let before = status(&app, &ada).await;
    assert_eq!(before.mode, LibraryMode::Shared);
    assert_eq!(before.generation, 1);
    assert!(!before.recovery_set);
    // A wrong shared passphrase is told on the client.
    assert_eq!(
        keyring::unlock_shared("not it", before.shared.as_ref().expect("shared"), 1).unwrap_err(),
        keyring::KeyringError::WrongPassphrase
    );

    // Ada converts on her first unlock and, as the first admin to convert, sets a recovery key.
    let (ada_keys, after) = convert(&app, &ada, "ada's own passphrase").await;
    assert_eq!(after.mode, LibraryMode::Shared, "bob has not converted yet");
    let (recovery, _) = keyring::new_recovery(&ada_keys).expect("recovery");
    let (code, _, body) = app
        .call(
            Method::POST,
            "/api/library/recovery",
            Some(&ada),
            Some(serde_json::to_value(&recovery).expect("json")),
        )
        .await;
    assert_eq!(code, StatusCode::NO_CONTENT, "{body}");

    // Her own passphrase now opens the same library key: the old video's key and manifest open.
    let unlocked =
        keyring::unlock("ada's own passphrase", &status(&app, &ada).await).expect("own passphrase");
    let (code, _, body) = app
        .call(
            Method::GET,
            &format!("/api/videos/{VIDEO}"),
            Some(&ada),
            None,
        )
        .await;
    assert_eq!(code, StatusCode::OK, "{body}");
    let video: VideoSummary = serde_json::from_value(body).expect("video");
    assert_eq!(
        video.open_title(&unlocked.library_key).as_deref(),
        Some("tiny")
    );
    let id = VideoId::parse(VIDEO).expect("id");
    let dek = unlocked
        .unwrap_dek(&id, &video.wrapped_dek)
        .expect("the video's key opens");
    let sealed = raw(&app, &ada, &format!("/api/videos/{VIDEO}/manifest")).await;
    let plain = open_all(&dek, &id, &Purpose::Manifest, &sealed).expect("manifest opens");
    let manifest: Manifest = serde_json::from_slice(&plain).expect("manifest JSON");
    assert!(!manifest.segments.is_empty());

    // Bob converts on his unlock: then everyone has keys and the shared passphrase is gone.
    let (bob_keys, done) = convert(&app, &bob, "bob's own passphrase").await;
    assert_eq!(done.mode, LibraryMode::Members);
    assert!(done.shared.is_none());
    assert_eq!(
        bob_keys.library_key.as_bytes(),
        unlocked.library_key.as_bytes()
    );
    let stored: (Option<Vec<u8>>, Option<Vec<u8>>) = sqlx::query_as(
        "SELECT shared_wrapped_library_key, shared_kdf_salt FROM library WHERE id = 1",
    )
    .fetch_one(&app.state.db)
    .await
    .expect("library row");
    assert_eq!(stored, (None, None));
    let generation: i64 = sqlx::query_scalar("SELECT key_generation FROM videos WHERE id = $1")
        .bind(VIDEO)
        .fetch_one(&app.state.db)
        .await
        .expect("video");
    assert_eq!(generation, 1);
    let admin_view = status(&app, &ada).await;
    assert_eq!(admin_view.holders.len(), 2);
    assert!(admin_view.recovery_set);
}
