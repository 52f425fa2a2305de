//! `cloister upload` never resumes onto an unfinished upload that is not this very file's: a
//! different file with the same name, size and modification time, a record whose MAC does not
//! check out (tampered in the real SQLite file), or a record from before the MAC existed. In each
//! case it starts afresh with a new key, and the video that arrives is the file's bytes. Against
//! the real `cloister serve` on loopback; and the server's side (keeping the MAC) in process.

mod common;

use std::path::Path;
use std::process::Stdio;

use axum::http::{Method, StatusCode};
use cloister::db::Db;
use cloister::storage::FixedDiskSpace;
use cloister_shared::api::Role;
use cloister_shared::crypto::stream::open_all;
use cloister_shared::{unwrap_dek, Purpose, VideoId, WrappedKey};
use common::cli::{chunks_recorded, client, library_key, run, serve, set_up, wait_for_chunks, Run};
use common::uploads::{SealedFile, CHUNK};
use common::{message, TestApp};
use serde_json::{json, Value};

/// Four chunks (the last partial), differing from another `seed`'s at every byte.
fn contents(seed: u8) -> Vec<u8> {
    (0..3 * CHUNK + 12_345)
        .map(|i| (i.wrapping_mul(31) ^ (i >> 13)) as u8 ^ seed)
        .collect()
}

/// `cloister upload path`, killed once the server holds a chunk of it: an unfinished upload the
/// next run may find.
async fn interrupted_upload(url: &str, pool: &Db, path: &Path) {
    let before = chunks_recorded(pool).await;
    let path = path.to_str().expect("utf-8");
    let mut slow = client(
        ["upload", path],
        url,
        &["--parallel", "1", "--throttle-ms", "700"],
    );
    slow.stdout(Stdio::null()).stderr(Stdio::null());
    let mut uploader = slow.spawn().expect("upload");
    wait_for_chunks(pool, before + 1).await;
    uploader.start_kill().expect("kill uploader");
    uploader.wait().await.expect("reap");
}

async fn upload(url: &str, path: &Path) -> Run {
    let r = run(
        client(["upload", path.to_str().expect("utf-8")], url, &[]),
        "",
    )
    .await;
    assert_eq!(r.code, 0, "{}\n{}", r.stdout, r.stderr);
    r
}

/// The id the upload printed ("Uploaded NAME: video ID, …").
fn uploaded_id(stdout: &str) -> VideoId {
    stdout
        .split("video ")
        .nth(1)
        .and_then(|rest| rest.get(..32))
        .and_then(|id| VideoId::parse(id).ok())
        .unwrap_or_else(|| panic!("no video id in {stdout}"))
}

fn sent_all_four(stdout: &str) -> bool {
    stdout.contains("Sent 4 of 4 chunks.")
}

/// The stored original of `id`, opened with its DEK as a member's client would.
async fn stored_original(data: &Path, pool: &Db, id: &VideoId) -> Vec<u8> {
    let lk = library_key(data).await;
    let wrapped: Vec<u8> = sqlx::query_scalar("SELECT wrapped_dek FROM videos WHERE id = $1")
        .bind(id.to_string())
        .fetch_one(pool)
        .await
        .expect("row");
    let dek =
        unwrap_dek(&lk, id, &WrappedKey::from_bytes(&wrapped).expect("wrapped")).expect("dek");
    let sealed = std::fs::read(
        data.join("videos")
            .join(id.to_string())
            .join("original.sealed"),
    )
    .expect("original.sealed");
    open_all(&dek, id, &Purpose::Original, &sealed).expect("opens")
}

async fn unfinished(pool: &Db) -> Vec<String> {
    sqlx::query_scalar("SELECT id FROM videos WHERE status = 'uploading' ORDER BY id")
        .fetch_all(pool)
        .await
        .expect("ids")
}

#[tokio::test]
async fn a_different_file_with_the_same_name_size_and_mtime_does_not_resume_the_old_upload() {
    let data = tempfile::tempdir().expect("temp");
    let files = tempfile::tempdir().expect("temp");
    let (_server, url) = serve(data.path(), 0).await;
    set_up(data.path(), &url).await;
    let pool = common::database::connect(data.path()).await;

    let path = files.path().join("beach day.mp4");
    std::fs::write(&path, contents(0)).expect("write");
    let mtime = std::fs::metadata(&path)
        .and_then(|m| m.modified())
        .expect("mtime");
    interrupted_upload(&url, &pool, &path).await;
    let old = unfinished(&pool).await;
    assert_eq!(old.len(), 1);

    // Another video under the same name, of the same size, with the same modification time.
    let other = contents(0x5a);
    std::fs::write(&path, &other).expect("write");
    std::fs::File::options()
        .write(true)
        .open(&path)
        .and_then(|f| f.set_modified(mtime))
        .expect("set mtime");
    assert_eq!(
        std::fs::metadata(&path).and_then(|m| m.modified()).ok(),
        Some(mtime)
    );

    let r = upload(&url, &path).await;
    assert!(!r.stdout.contains("Resuming"), "{}", r.stdout);
    assert!(sent_all_four(&r.stdout), "{}", r.stdout);
    let id = uploaded_id(&r.stdout);
    assert_ne!(id.to_string(), old[0]);
    assert!(
        stored_original(data.path(), &pool, &id).await == other,
        "the video is not the second file's bytes"
    );
    // The first file's unfinished upload is still there, for that file to resume.
    assert_eq!(unfinished(&pool).await, old);
}

/// Two unfinished uploads of two files, `a.mp4` and `b.mp4`, on a fresh server.
struct TwoUnfinished {
    data: tempfile::TempDir,
    files: tempfile::TempDir,
    url: String,
    pool: Db,
    /// The ids of a.mp4's and b.mp4's unfinished uploads.
    a: String,
    b: String,
    _server: tokio::process::Child,
}

impl TwoUnfinished {
    async fn new() -> Self {
        let data = tempfile::tempdir().expect("temp");
        let files = tempfile::tempdir().expect("temp");
        let (server, url) = serve(data.path(), 0).await;
        set_up(data.path(), &url).await;
        let pool = common::database::connect(data.path()).await;
        let mut ids = Vec::new();
        for (n, name) in ["a.mp4", "b.mp4"].into_iter().enumerate() {
            let path = files.path().join(name);
            std::fs::write(&path, contents(n as u8 + 1)).expect("write");
            interrupted_upload(&url, &pool, &path).await;
            let new = unfinished(&pool)
                .await
                .into_iter()
                .find(|id| !ids.contains(id));
            ids.push(new.expect("an unfinished upload"));
        }
        let [a, b] = <[String; 2]>::try_from(ids).expect("two uploads");
        Self {
            data,
            files,
            url,
            pool,
            a,
            b,
            _server: server,
        }
    }

    fn path(&self, name: &str) -> std::path::PathBuf {
        self.files.path().join(name)
    }
}

#[tokio::test]
async fn a_record_with_another_uploads_header_and_mac_is_refused_and_the_file_starts_afresh() {
    let t = TwoUnfinished::new().await;
    let (a, b) = (&t.a, &t.b);
    // A hostile or broken server: a.mp4's row now carries b.mp4's stream header (its salt) and
    // b.mp4's MAC. Resuming with it would seal a.mp4's chunks under a salt already used with them
    // and other bytes.
    sqlx::query(
        "UPDATE videos SET
           stream_header = (SELECT stream_header FROM videos WHERE id = $2),
           upload_mac = (SELECT upload_mac FROM videos WHERE id = $2)
         WHERE id = $1",
    )
    .bind(a)
    .bind(b)
    .execute(&t.pool)
    .await
    .expect("tamper");

    let r = upload(&t.url, &t.path("a.mp4")).await;
    assert!(!r.stdout.contains("Resuming"), "{}", r.stdout);
    assert!(
        r.stdout.contains(
            "a.mp4: The server's unfinished upload of this file was not resumed: its check value \
             does not match this file and this library. Uploading it again from the start, with \
             a new key."
        ),
        "{}",
        r.stdout
    );
    assert!(sent_all_four(&r.stdout), "{}", r.stdout);
    let id = uploaded_id(&r.stdout);
    assert_ne!(&id.to_string(), a);
    assert!(stored_original(t.data.path(), &t.pool, &id).await == contents(1));
    // The untrusted record was removed; b.mp4's upload is untouched.
    assert_eq!(unfinished(&t.pool).await, vec![b.clone()]);
}

#[tokio::test]
async fn an_unfinished_upload_without_a_mac_is_not_resumed() {
    let t = TwoUnfinished::new().await;
    let a = &t.a;
    // As a row written before the MAC column existed.
    sqlx::query("UPDATE videos SET upload_mac = NULL WHERE id = $1")
        .bind(a)
        .execute(&t.pool)
        .await
        .expect("clear");

    let r = upload(&t.url, &t.path("a.mp4")).await;
    assert!(
        r.stdout.contains("not resumed: it has no check value"),
        "{}",
        r.stdout
    );
    assert!(sent_all_four(&r.stdout), "{}", r.stdout);
    let id = uploaded_id(&r.stdout);
    assert!(stored_original(t.data.path(), &t.pool, &id).await == contents(1));

    // b.mp4's record is intact and resumes as before.
    let r = upload(&t.url, &t.path("b.mp4")).await;
    assert!(r.stdout.contains("Resuming b.mp4: "), "{}", r.stdout);
    let id = uploaded_id(&r.stdout);
    assert!(stored_original(t.data.path(), &t.pool, &id).await == contents(2));
    assert!(unfinished(&t.pool).await.is_empty());
}

#[tokio::test]
async fn the_server_keeps_the_resume_mac_as_sent_and_refuses_a_malformed_one() {
    let app = TestApp::spawn_with_state(
        |_| {},
        |s| s.core.disk = std::sync::Arc::new(FixedDiskSpace(1 << 40)),
    )
    .await;
    let alice = app.signed_in("alice", Role::Member).await;
    let file = SealedFile::new(CHUNK + 10);
    let sent = file.create_body()["resume_mac"].clone();
    let (status, body) = app.create_upload(&alice, &file).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let uri = format!("/api/uploads?fingerprint={}", file.fingerprint_hex());
    let (status, _, record) = app.call(Method::GET, &uri, Some(&alice), None).await;
    assert_eq!(status, StatusCode::OK, "{record}");
    assert_eq!(record["resume_mac"], sent);
    assert_eq!(
        record_by_id(&app, &alice, &file.id).await["resume_mac"],
        sent
    );

    for bad in ["zz", "00", &"0".repeat(66)] {
        let other = SealedFile::new(10);
        let mut body = other.create_body();
        body["resume_mac"] = json!(bad);
        let (status, _, answer) = app
            .call(Method::POST, "/api/uploads", Some(&alice), Some(body))
            .await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{bad}: {answer}");
        assert!(message(&answer).contains("resume_mac"), "{answer}");
    }
    // Without one the upload is created, and its record says it has none.
    let plain = SealedFile::new(10);
    let mut body = plain.create_body();
    body.as_object_mut().expect("object").remove("resume_mac");
    let (status, _, answer) = app
        .call(Method::POST, "/api/uploads", Some(&alice), Some(body))
        .await;
    assert_eq!(status, StatusCode::CREATED, "{answer}");
    assert_eq!(
        record_by_id(&app, &alice, &plain.id).await["resume_mac"],
        Value::Null
    );
}

/// `GET /api/uploads/{id}`'s answer.
async fn record_by_id(app: &TestApp, cookie: &str, id: &VideoId) -> Value {
    let uri = format!("/api/uploads/{id}");
    let (status, _, record) = app.call(Method::GET, &uri, Some(cookie), None).await;
    assert_eq!(status, StatusCode::OK, "{record}");
    record
}
