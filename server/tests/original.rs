//! `GET /api/videos/{id}` and `/api/videos/{id}/original`: the sealed original for members who
//! decrypt on their own machine, whole or by byte range.

mod common;

use std::sync::Arc;

use axum::body::Body;
use axum::http::{header, Method, Request, StatusCode};
use cloister::storage::FixedDiskSpace;
use cloister_shared::api::Role;
use cloister_shared::crypto::stream::open_all;
use cloister_shared::Purpose;
use common::uploads::{SealedFile, CHUNK};
use common::TestApp;

async fn app() -> TestApp {
    TestApp::spawn_with_state(
        |_| {},
        |state| state.core.disk = Arc::new(FixedDiskSpace(1 << 50)),
    )
    .await
}

async fn uploaded(app: &TestApp, cookie: &str, file: &SealedFile) {
    let (status, body) = app.create_upload(cookie, file).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    for index in 0..file.chunk_count() {
        let (status, body) = app.put_chunk(cookie, file, index).await;
        assert_eq!(status, StatusCode::OK, "{body}");
    }
    let (status, body) = app.complete_upload(cookie, &file.id, &file.dek_hex()).await;
    assert_eq!(status, StatusCode::OK, "{body}");
}

async fn get_original(
    app: &TestApp,
    cookie: &str,
    id: &str,
    range: Option<&str>,
) -> (StatusCode, axum::http::HeaderMap, Vec<u8>) {
    let mut request =
        Request::get(format!("/api/videos/{id}/original")).header(header::COOKIE, cookie);
    if let Some(range) = range {
        request = request.header(header::RANGE, range);
    }
    app.send(request.body(Body::empty()).expect("request"))
        .await
}

#[tokio::test]
async fn another_member_downloads_the_sealed_original_whole_and_it_opens_to_the_plaintext() {
    let app = app().await;
    let alice = app.signed_in("alice", Role::Member).await;
    let bob = app.signed_in("bob", Role::Member).await;
    let file = SealedFile::new(2 * CHUNK + 777);
    uploaded(&app, &alice, &file).await;

    let (status, _, meta) = app
        .call(
            Method::GET,
            &format!("/api/videos/{}", file.id),
            Some(&bob),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(meta["size_bytes"], file.plain.len());
    assert_eq!(meta["owner"], "alice");

    let (status, headers, body) = get_original(&app, &bob, &file.id.to_string(), None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(headers[header::CONTENT_LENGTH], body.len().to_string());
    assert_eq!(headers[header::ACCEPT_RANGES], "bytes");
    let opened = open_all(&file.dek, &file.id, &Purpose::Original, &body).expect("opens");
    assert_eq!(opened, file.plain);
}

#[tokio::test]
async fn a_range_returns_exactly_those_bytes_and_a_bad_range_is_416() {
    let app = app().await;
    let alice = app.signed_in("alice", Role::Member).await;
    let file = SealedFile::new(CHUNK + 10);
    uploaded(&app, &alice, &file).await;
    let (_, _, whole) = get_original(&app, &alice, &file.id.to_string(), None).await;

    let (status, headers, part) =
        get_original(&app, &alice, &file.id.to_string(), Some("bytes=100-199")).await;
    assert_eq!(status, StatusCode::PARTIAL_CONTENT);
    assert_eq!(part, whole[100..200]);
    assert_eq!(
        headers[header::CONTENT_RANGE],
        format!("bytes 100-199/{}", whole.len())
    );

    let (status, _, tail) =
        get_original(&app, &alice, &file.id.to_string(), Some("bytes=-16")).await;
    assert_eq!(status, StatusCode::PARTIAL_CONTENT);
    assert_eq!(tail, whole[whole.len() - 16..]);

    let beyond = format!("bytes={}-", whole.len() + 5);
    let (status, headers, _) =
        get_original(&app, &alice, &file.id.to_string(), Some(&beyond)).await;
    assert_eq!(status, StatusCode::RANGE_NOT_SATISFIABLE);
    assert_eq!(
        headers[header::CONTENT_RANGE],
        format!("bytes */{}", whole.len())
    );
}

#[tokio::test]
async fn unfinished_unknown_malformed_and_signed_out_requests_get_clear_errors() {
    let app = app().await;
    let alice = app.signed_in("alice", Role::Member).await;
    let file = SealedFile::new(100);
    let (status, _) = app.create_upload(&alice, &file).await;
    assert_eq!(status, StatusCode::CREATED);

    let (status, _, _) = get_original(&app, &alice, &file.id.to_string(), None).await;
    assert_eq!(
        status,
        StatusCode::CONFLICT,
        "an upload in progress has no original yet"
    );
    let (status, _, _) = get_original(&app, &alice, &"ab".repeat(16), None).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _, _) = get_original(&app, &alice, "..%2F..%2Fserver.key", None).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let (status, _, _) = app.get(&format!("/api/videos/{}/original", file.id)).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
}
