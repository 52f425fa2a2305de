//! The upload protocol, in process: the real router over real SQLite and files in a temp dir.

mod common;

use std::sync::Arc;

use axum::http::{Method, StatusCode};
use cloister::storage::FixedDiskSpace;
use cloister_shared::api::Role;
use cloister_shared::crypto::stream::{open_all, sealed_chunk_len};
use cloister_shared::Purpose;
use serde_json::json;

use common::uploads::{SealedFile, CHUNK};
use common::{message, TestApp};

const GIB: u64 = 1 << 30;

/// A test app whose disk always reads as roomy, so results do not depend on this machine.
async fn app() -> TestApp {
    TestApp::spawn_with_state(
        |_| {},
        |state| state.core.disk = Arc::new(FixedDiskSpace(1 << 50)),
    )
    .await
}

fn original_path(app: &TestApp, file: &SealedFile) -> std::path::PathBuf {
    app.data_dir()
        .join("videos")
        .join(file.id.to_string())
        .join("original.sealed")
}

fn partial_path(app: &TestApp, file: &SealedFile) -> std::path::PathBuf {
    app.data_dir()
        .join("videos")
        .join(file.id.to_string())
        .join("original.sealed.partial")
}

#[tokio::test]
async fn happy_path_chunks_out_of_order_then_complete_yields_a_file_that_opens_to_the_original() {
    let app = app().await;
    let alice = app.signed_in("alice", Role::Member).await;
    let file = SealedFile::new(2 * CHUNK + 1000);

    let (status, body) = app.create_upload(&alice, &file).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    assert_eq!(body["video_id"], file.id.to_string());
    assert_eq!(body["chunk_size"], CHUNK);
    assert_eq!(body["chunk_count"], 3);
    assert_eq!(body["received"], json!([]));
    assert!(body["processing_note"].is_null());

    for index in [2, 0, 1] {
        let (status, body) = app.put_chunk(&alice, &file, index).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        assert_eq!(body["index"], index);
    }
    let (status, body) = app.complete_upload(&alice, &file.id, &file.dek_hex()).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["video_id"], file.id.to_string());
    assert!(body["job_id"].as_i64().is_some_and(|id| id > 0), "{body}");
    assert_eq!(body["queue_position"], 1);
    assert_eq!(body["queue_length"], 1);
    assert!(body["processing_note"].is_null());

    // header ‖ chunks, byte for byte, and it opens to exactly the original.
    let stored = std::fs::read(original_path(&app, &file)).expect("original.sealed");
    let mut expected = file.sealer.header().to_bytes().to_vec();
    for index in 0..3 {
        expected.extend_from_slice(&file.chunk(index));
    }
    assert!(
        stored == expected,
        "stored file differs from header ‖ chunks"
    );
    let opened = open_all(&file.dek, &file.id, &Purpose::Original, &stored).expect("opens");
    assert!(
        opened == file.plain,
        "decrypted bytes differ from the original"
    );
    assert!(!partial_path(&app, &file).exists());

    // The row says uploaded, the chunk rows are gone, a job is queued with a held DEK.
    let (video_status,): (String,) = sqlx::query_as("SELECT status FROM videos WHERE id = $1")
        .bind(file.id.to_string())
        .fetch_one(&app.state.db)
        .await
        .expect("video");
    assert_eq!(video_status, "uploaded");
    let chunks: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM upload_chunks")
        .fetch_one(&app.state.db)
        .await
        .expect("count");
    assert_eq!(chunks, 0);
    let (kind, job_status, priority, wrapped): (String, String, i64, Vec<u8>) = sqlx::query_as(
        "SELECT kind, status, priority, wrapped_server_dek FROM jobs WHERE video_id = $1",
    )
    .bind(file.id.to_string())
    .fetch_one(&app.state.db)
    .await
    .expect("job");
    assert_eq!(
        (kind.as_str(), job_status.as_str(), priority),
        ("process", "queued", 1)
    );
    let held = cloister::custody::unwrap_dek(&app.state.server_key, &file.id, &wrapped)
        .expect("the server can open the held DEK");
    assert_eq!(held.as_bytes(), file.dek.as_bytes());

    // Listed, with the owner and the sealed title.
    let (status, _, page) = app
        .call(Method::GET, "/api/videos", Some(&alice), None)
        .await;
    assert_eq!(status, StatusCode::OK, "{page}");
    assert_eq!(page["videos"][0]["video_id"], file.id.to_string());
    assert_eq!(page["videos"][0]["status"], "uploaded");
    assert_eq!(page["videos"][0]["owner"], "alice");
    let title =
        hex::decode(page["videos"][0]["title_sealed"].as_str().expect("title")).expect("hex");
    let title = open_all(&file.dek, &file.id, &Purpose::Title, &title).expect("title opens");
    assert_eq!(title, b"My holiday");

    // Finished: more chunks, a second complete and cancelling are refused.
    let (status, body) = app.put_chunk(&alice, &file, 0).await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    let (status, body) = app.complete_upload(&alice, &file.id, &file.dek_hex()).await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    assert_eq!(message(&body), "This upload is already complete.");
    let (status, _, _) = app
        .call(
            Method::DELETE,
            &format!("/api/uploads/{}", file.id),
            Some(&alice),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::CONFLICT);
}

#[tokio::test]
async fn the_same_chunk_twice_is_harmless() {
    let app = app().await;
    let alice = app.signed_in("alice", Role::Member).await;
    let file = SealedFile::new(CHUNK + 10);
    app.create_upload(&alice, &file).await;
    for _ in 0..2 {
        let (status, body) = app.put_chunk(&alice, &file, 1).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        assert_eq!(body["received_count"], 1);
    }
    app.put_chunk(&alice, &file, 0).await;
    let (status, body) = app.put_chunk(&alice, &file, 0).await;
    assert_eq!(
        (status, body["received_count"].as_u64()),
        (StatusCode::OK, Some(2))
    );
    let (status, body) = app.complete_upload(&alice, &file.id, &file.dek_hex()).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let stored = std::fs::read(original_path(&app, &file)).expect("read");
    assert!(
        open_all(&file.dek, &file.id, &Purpose::Original, &stored).expect("open") == file.plain
    );
}

#[tokio::test]
async fn a_wrong_chunk_index_is_refused_with_the_reason() {
    let app = app().await;
    let alice = app.signed_in("alice", Role::Member).await;
    let file = SealedFile::new(CHUNK + 10);
    app.create_upload(&alice, &file).await;
    for bad in ["2", "99"] {
        let (status, body) = app
            .put_bytes(
                &format!("/api/uploads/{}/chunks/{bad}", file.id),
                Some(&alice),
                vec![0; 26],
                Some(26),
            )
            .await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{bad}: {body}");
        assert_eq!(
            message(&body),
            format!("Chunk index {bad} is out of range: this upload has chunks 0 to 1.")
        );
    }
}

#[tokio::test]
async fn a_wrong_chunk_length_is_refused_saying_expected_and_got() {
    let app = app().await;
    let alice = app.signed_in("alice", Role::Member).await;
    let file = SealedFile::new(CHUNK + 10);
    app.create_upload(&alice, &file).await;
    let uri = format!("/api/uploads/{}/chunks/1", file.id);
    // Announced by Content-Length: refused before reading the body.
    let (status, body) = app
        .put_bytes(&uri, Some(&alice), vec![0; 25], Some(25))
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert_eq!(
        message(&body),
        "Chunk 1 must be exactly 26 bytes (sealed); got 25."
    );
    // Without Content-Length (chunked transfer): caught while streaming, short and long.
    let (status, body) = app.put_bytes(&uri, Some(&alice), vec![0; 20], None).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert_eq!(
        message(&body),
        "Chunk 1 must be exactly 26 bytes (sealed); got 20."
    );
    let (status, body) = app
        .put_bytes(&uri, Some(&alice), vec![0; CHUNK], None)
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert!(
        message(&body).starts_with("Chunk 1 must be exactly 26 bytes"),
        "{body}"
    );
    // A full chunk that is too long by one.
    let uri0 = format!("/api/uploads/{}/chunks/0", file.id);
    let expected = sealed_chunk_len(CHUNK as u64 + 10, CHUNK as u32, 0).expect("len") as usize;
    let (status, body) = app
        .put_bytes(
            &uri0,
            Some(&alice),
            vec![0; expected + 1],
            Some(expected + 1),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    // Nothing was recorded.
    let (_, _, state) = app
        .call(
            Method::GET,
            &format!("/api/uploads/{}", file.id),
            Some(&alice),
            None,
        )
        .await;
    assert_eq!(state["received"], json!([]));
}

#[tokio::test]
async fn a_chunk_for_someone_elses_upload_is_not_found() {
    let app = app().await;
    let alice = app.signed_in("alice", Role::Member).await;
    let bob = app.signed_in("bob", Role::Admin).await;
    let file = SealedFile::new(100);
    app.create_upload(&alice, &file).await;
    let (status, body) = app.put_chunk(&bob, &file, 0).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{body}");
    assert_eq!(message(&body), "No such upload.");
    let (status, body) = app.complete_upload(&bob, &file.id, &file.dek_hex()).await;
    assert_eq!(
        (status, message(&body)),
        (StatusCode::NOT_FOUND, "No such upload.")
    );
    let (status, _, body) = app
        .call(
            Method::GET,
            &format!("/api/uploads/{}", file.id),
            Some(&bob),
            None,
        )
        .await;
    assert_eq!(
        (status, message(&body)),
        (StatusCode::NOT_FOUND, "No such upload.")
    );
    let (status, _, _) = app
        .call(
            Method::DELETE,
            &format!("/api/uploads/{}", file.id),
            Some(&bob),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    // Bob does not see Alice's unfinished upload in the library either.
    let (_, _, page) = app.call(Method::GET, "/api/videos", Some(&bob), None).await;
    assert_eq!(page["videos"], json!([]));
}

#[tokio::test]
async fn complete_with_chunks_missing_lists_them() {
    let app = app().await;
    let alice = app.signed_in("alice", Role::Member).await;
    let file = SealedFile::new(3 * CHUNK + 5);
    app.create_upload(&alice, &file).await;
    app.put_chunk(&alice, &file, 0).await;
    app.put_chunk(&alice, &file, 2).await;
    let (status, body) = app.complete_upload(&alice, &file.id, &file.dek_hex()).await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    assert_eq!(message(&body), "Chunks 1, 3 are missing.");
    app.put_chunk(&alice, &file, 1).await;
    let (_, body) = app.complete_upload(&alice, &file.id, &file.dek_hex()).await;
    assert_eq!(message(&body), "Chunk 3 is missing.");
}

#[tokio::test]
async fn complete_with_the_wrong_dek_is_refused() {
    let app = app().await;
    let alice = app.signed_in("alice", Role::Member).await;
    let file = SealedFile::new(100);
    app.create_upload(&alice, &file).await;
    app.put_chunk(&alice, &file, 0).await;
    let (status, body) = app
        .complete_upload(&alice, &file.id, &"ab".repeat(32))
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert!(
        message(&body).contains("not the key the file was sealed with"),
        "{body}"
    );
    let (status, body) = app.complete_upload(&alice, &file.id, "nothex").await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    // Still uploading; the right key completes it.
    let (status, body) = app.complete_upload(&alice, &file.id, &file.dek_hex()).await;
    assert_eq!(status, StatusCode::OK, "{body}");
}

#[tokio::test]
async fn an_upload_over_the_quota_is_refused_with_the_figures() {
    let app = app().await;
    // add_user gives 1 GiB.
    let alice = app.signed_in("alice", Role::Member).await;
    let small = SealedFile::new(1000);
    assert_eq!(
        app.create_upload(&alice, &small).await.0,
        StatusCode::CREATED
    );
    let mut big = SealedFile::new(0);
    big.plain = Vec::new();
    let mut body = big.create_body();
    body["size_bytes"] = json!(GIB);
    body["chunk_count"] = json!(256);
    let (status, _, body) = app
        .call(Method::POST, "/api/uploads", Some(&alice), Some(body))
        .await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE, "{body}");
    assert_eq!(
        message(&body),
        "This upload would put you over your storage quota: you use 1000 B of 1.0 GiB, and this file is 1.0 GiB."
    );
    assert!(!app
        .data_dir()
        .join("videos")
        .join(big.id.to_string())
        .exists());
}

#[tokio::test]
async fn an_upload_over_the_size_limit_is_refused_naming_the_limit() {
    let app = TestApp::spawn_with_state(
        |c| c.limits.max_upload_bytes = 5 << 20,
        |s| s.core.disk = Arc::new(FixedDiskSpace(1 << 50)),
    )
    .await;
    let alice = app.signed_in("alice", Role::Member).await;
    let file = SealedFile::new((5 << 20) + 1);
    let (status, body) = app.create_upload(&alice, &file).await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE, "{body}");
    assert_eq!(
        message(&body),
        "This file is 5.0 MiB; the largest upload this server accepts is 5.0 MiB."
    );
    let file = SealedFile::new(5 << 20);
    assert_eq!(
        app.create_upload(&alice, &file).await.0,
        StatusCode::CREATED
    );
}

#[tokio::test]
async fn low_storage_refuses_with_the_seeds_message() {
    // free must exceed 2 × size + reserve: 2 × 1000 + 1 GiB.
    let app =
        TestApp::spawn_with_state(|_| {}, |s| s.core.disk = Arc::new(FixedDiskSpace(GIB + 2000))).await;
    let alice = app.signed_in("alice", Role::Member).await;
    let file = SealedFile::new(1000);
    let (status, body) = app.create_upload(&alice, &file).await;
    assert_eq!(status, StatusCode::INSUFFICIENT_STORAGE, "{body}");
    assert_eq!(
        message(&body),
        "Upload cannot be accepted — server storage is low. Try smaller file or contact admin."
    );
    assert_eq!(body["error"]["code"], "insufficient_storage");
    let small = SealedFile::new(999);
    assert_eq!(
        app.create_upload(&alice, &small).await.0,
        StatusCode::CREATED
    );
}

#[tokio::test]
async fn every_upload_route_needs_a_session() {
    let app = app().await;
    let alice = app.signed_in("alice", Role::Member).await;
    let file = SealedFile::new(100);
    app.create_upload(&alice, &file).await;
    let id = file.id;
    let (status, _, _) = app
        .call(Method::POST, "/api/uploads", None, Some(file.create_body()))
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let (status, _) = app
        .put_bytes(
            &format!("/api/uploads/{id}/chunks/0"),
            None,
            file.chunk(0),
            Some(116),
        )
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    for (method, uri) in [
        (Method::GET, format!("/api/uploads/{id}")),
        (
            Method::GET,
            format!("/api/uploads?fingerprint={}", file.fingerprint_hex()),
        ),
        (Method::DELETE, format!("/api/uploads/{id}")),
        (Method::GET, "/api/videos".to_owned()),
    ] {
        let (status, _, body) = app.call(method.clone(), &uri, None, None).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{method} {uri}: {body}");
    }
    let (status, _, _) = app
        .call(
            Method::POST,
            &format!("/api/uploads/{id}/complete"),
            None,
            Some(json!({"dek": file.dek_hex()})),
        )
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn malformed_upload_ids_are_400_and_unknown_ones_404() {
    let app = app().await;
    let alice = app.signed_in("alice", Role::Member).await;
    for bad in ["xyz", "..%2F..%2Fetc", "ABABABABABABABABABABABABABABABAB"] {
        let (status, body) = app
            .put_bytes(
                &format!("/api/uploads/{bad}/chunks/0"),
                Some(&alice),
                vec![0; 16],
                Some(16),
            )
            .await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{bad}: {body}");
        assert_eq!(
            message(&body),
            "That is not an upload id: ids are 32 lowercase hex digits."
        );
        let (status, _, _) = app
            .call(
                Method::GET,
                &format!("/api/uploads/{bad}"),
                Some(&alice),
                None,
            )
            .await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
    }
    let unknown = "0123456789abcdef0123456789abcdef";
    let (status, body) = app
        .put_bytes(
            &format!("/api/uploads/{unknown}/chunks/0"),
            Some(&alice),
            vec![0; 16],
            Some(16),
        )
        .await;
    assert_eq!(
        (status, message(&body)),
        (StatusCode::NOT_FOUND, "No such upload.")
    );
    let (status, _, _) = app
        .call(
            Method::GET,
            &format!("/api/uploads/{unknown}"),
            Some(&alice),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _) = app
        .complete_upload(
            &alice,
            &cloister_shared::VideoId::parse(unknown).expect("id"),
            &"00".repeat(32),
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn create_refuses_bad_shapes_and_duplicates() {
    let app = app().await;
    let alice = app.signed_in("alice", Role::Member).await;
    let file = SealedFile::new(100);
    let mut body = file.create_body();
    body["chunk_count"] = json!(2);
    let (status, _, reply) = app
        .call(Method::POST, "/api/uploads", Some(&alice), Some(body))
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(
        message(&reply),
        "A file of 100 bytes has 1 chunks of 4 MiB, not 2."
    );
    let mut body = file.create_body();
    body["stream_header"] = json!("00");
    let (status, _, _) = app
        .call(Method::POST, "/api/uploads", Some(&alice), Some(body))
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let mut body = file.create_body();
    body["title_sealed"] = json!("ab".repeat(5000));
    let (status, _, _) = app
        .call(Method::POST, "/api/uploads", Some(&alice), Some(body))
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let mut body = file.create_body();
    body["video_id"] = json!("../../etc");
    let (status, _, _) = app
        .call(Method::POST, "/api/uploads", Some(&alice), Some(body))
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);

    assert_eq!(
        app.create_upload(&alice, &file).await.0,
        StatusCode::CREATED
    );
    // The same id again, or another upload of the same file while one is unfinished.
    let (status, body) = app.create_upload(&alice, &file).await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    let mut again = SealedFile::new(100);
    again.name = file.name.clone();
    let (status, body) = app.create_upload(&alice, &again).await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    assert!(
        message(&body).contains("unfinished upload of this file"),
        "{body}"
    );
}

#[tokio::test]
async fn abort_removes_the_partial_file_the_rows_and_the_video() {
    let app = app().await;
    let alice = app.signed_in("alice", Role::Member).await;
    let file = SealedFile::new(CHUNK + 1);
    app.create_upload(&alice, &file).await;
    app.put_chunk(&alice, &file, 0).await;
    assert!(partial_path(&app, &file).exists());
    let (status, _, _) = app
        .call(
            Method::DELETE,
            &format!("/api/uploads/{}", file.id),
            Some(&alice),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    assert!(!app
        .data_dir()
        .join("videos")
        .join(file.id.to_string())
        .exists());
    let rows: i64 = sqlx::query_scalar(
        "SELECT (SELECT COUNT(*) FROM videos) + (SELECT COUNT(*) FROM upload_chunks)",
    )
    .fetch_one(&app.state.db)
    .await
    .expect("count");
    assert_eq!(rows, 0);
    let (status, _) = app.put_chunk(&alice, &file, 1).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert!(app.state.upload_locks.is_empty());
}

#[tokio::test]
async fn the_sweep_removes_an_abandoned_upload_and_keeps_a_fresh_one() {
    let app = app().await;
    let alice = app.signed_in("alice", Role::Member).await;
    let old = SealedFile::new(CHUNK + 1);
    let fresh = SealedFile::new(CHUNK + 2);
    app.create_upload(&alice, &old).await;
    app.put_chunk(&alice, &old, 0).await;
    app.create_upload(&alice, &fresh).await;
    // Old's last chunk arrived 25 hours ago.
    sqlx::query("UPDATE videos SET updated_at = updated_at - 25 * 3600 WHERE id = $1")
        .bind(old.id.to_string())
        .execute(&app.state.db)
        .await
        .expect("age");
    let removed = cloister::uploads::sweep::sweep_abandoned(&app.state)
        .await
        .expect("sweep");
    assert_eq!(removed, 1);
    assert!(!app
        .data_dir()
        .join("videos")
        .join(old.id.to_string())
        .exists());
    assert!(partial_path(&app, &fresh).exists());
    let ids: Vec<String> = sqlx::query_scalar("SELECT id FROM videos")
        .fetch_all(&app.state.db)
        .await
        .expect("ids");
    assert_eq!(ids, vec![fresh.id.to_string()]);
    let (status, _) = app.put_chunk(&alice, &old, 1).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn resume_lookup_by_fingerprint_returns_what_the_server_holds() {
    let app = app().await;
    let alice = app.signed_in("alice", Role::Member).await;
    let bob = app.signed_in("bob", Role::Member).await;
    let file = SealedFile::new(3 * CHUNK);
    app.create_upload(&alice, &file).await;
    app.put_chunk(&alice, &file, 2).await;
    app.put_chunk(&alice, &file, 0).await;
    let uri = format!("/api/uploads?fingerprint={}", file.fingerprint_hex());
    let (status, _, body) = app.call(Method::GET, &uri, Some(&alice), None).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["video_id"], file.id.to_string());
    assert_eq!(body["received"], json!([0, 2]));
    assert_eq!(body["status"], "uploading");
    assert_eq!(body["chunk_count"], 3);
    assert_eq!(
        body["stream_header"],
        hex::encode(file.sealer.header().to_bytes())
    );
    let wrapped = cloister_shared::WrappedKey::from_hex(body["wrapped_dek"].as_str().expect("hex"))
        .expect("wrapped");
    let dek = cloister_shared::unwrap_dek(&file.library_key, &file.id, &wrapped).expect("unwrap");
    assert_eq!(dek.as_bytes(), file.dek.as_bytes());
    // Not Bob's; an unknown fingerprint; a malformed one.
    let (status, _, _) = app.call(Method::GET, &uri, Some(&bob), None).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _, _) = app
        .call(
            Method::GET,
            &format!("/api/uploads?fingerprint={}", "00".repeat(32)),
            Some(&alice),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _, _) = app
        .call(
            Method::GET,
            "/api/uploads?fingerprint=zz",
            Some(&alice),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    // Once complete, the fingerprint finds nothing to resume.
    app.put_chunk(&alice, &file, 1).await;
    let (status, body) = app.complete_upload(&alice, &file.id, &file.dek_hex()).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (status, _, _) = app.call(Method::GET, &uri, Some(&alice), None).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn a_long_queue_warns_that_processing_will_be_late() {
    let app = TestApp::spawn_with_state(
        |c| c.uploads.queue_warn_length = 1,
        |s| s.core.disk = Arc::new(FixedDiskSpace(1 << 50)),
    )
    .await;
    let alice = app.signed_in("alice", Role::Member).await;
    let mut last = serde_json::Value::Null;
    for _ in 0..3 {
        let file = SealedFile::new(10);
        app.create_upload(&alice, &file).await;
        app.put_chunk(&alice, &file, 0).await;
        last = app
            .complete_upload(&alice, &file.id, &file.dek_hex())
            .await
            .1;
    }
    assert_eq!(last["queue_length"], 3);
    assert_eq!(last["queue_position"], 3);
    assert_eq!(
        last["processing_note"],
        "Processing will be late: 2 videos are ahead of yours."
    );
    let file = SealedFile::new(10);
    let (_, created) = app.create_upload(&alice, &file).await;
    assert_eq!(
        created["processing_note"],
        "Processing will be late: 3 videos are ahead of yours."
    );
}

#[tokio::test]
async fn the_library_listing_pages_newest_first_with_a_cursor() {
    let app = app().await;
    let alice = app.signed_in("alice", Role::Member).await;
    let mut ids = Vec::new();
    for _ in 0..5 {
        let file = SealedFile::new(10);
        app.create_upload(&alice, &file).await;
        ids.push(file.id.to_string());
    }
    // The same second for all (set here: five uploads need not fit in one second on a loaded
    // machine), so the id breaks the ties: newest-first order is (created_at, id) descending.
    sqlx::query("UPDATE videos SET created_at = 1700000000")
        .execute(&app.state.db)
        .await
        .expect("one second for all");
    ids.sort();
    ids.reverse();
    let mut seen = Vec::new();
    let mut uri = "/api/videos?limit=2".to_owned();
    loop {
        let (status, _, page) = app.call(Method::GET, &uri, Some(&alice), None).await;
        assert_eq!(status, StatusCode::OK, "{page}");
        for v in page["videos"].as_array().expect("array") {
            seen.push(v["video_id"].as_str().expect("id").to_owned());
        }
        match page["next_cursor"].as_str() {
            Some(cursor) => uri = format!("/api/videos?limit=2&cursor={cursor}"),
            None => break,
        }
    }
    assert_eq!(seen, ids);
    let (status, _, _) = app
        .call(Method::GET, "/api/videos?cursor=junk", Some(&alice), None)
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let (status, _, _) = app
        .call(Method::GET, "/api/videos?limit=lots", Some(&alice), None)
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
}
