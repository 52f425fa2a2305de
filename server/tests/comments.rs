//! Comments through the real router: sealed in the "browser" with the video's DEK, stored and paged
//! by the server as opaque bytes, opened again with the DEK; who may see, post and delete them;
//! every refusal with its status and message.

mod common;

use std::collections::HashSet;
use std::sync::Arc;

use axum::http::{header, HeaderMap, Method, StatusCode};
use cloister::storage::FixedDiskSpace;
use cloister_shared::api::comments::{MAX_COMMENT_CHARS, MAX_SEALED_COMMENT_BYTES};
use cloister_shared::api::{CommentInfo, CommentPage, Role};
use cloister_shared::crypto::stream::{open_all, seal_all, DEFAULT_CHUNK_SIZE};
use cloister_shared::{CommentId, Purpose, VideoId};
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

/// A video uploaded and completed by `cookie` (status `uploaded`: comments need no processing).
async fn video(app: &TestApp, cookie: &str) -> SealedFile {
    let file = unfinished(app, cookie).await;
    for index in 0..file.chunk_count() {
        let (status, body) = app.put_chunk(cookie, &file, index).await;
        assert_eq!(status, StatusCode::OK, "{body}");
    }
    let (status, body) = app.complete_upload(cookie, &file.id, &file.dek_hex()).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    file
}

/// An upload created by `cookie` and never completed.
async fn unfinished(app: &TestApp, cookie: &str) -> SealedFile {
    let file = SealedFile::new(1000);
    let (status, body) = app.create_upload(cookie, &file).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    file
}

/// `text` sealed as the browser seals a comment.
fn seal(file: &SealedFile, id: &CommentId, text: &str) -> String {
    let purpose = Purpose::comment(&id.to_string()).expect("purpose");
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

fn open(file: &SealedFile, comment: &CommentInfo) -> String {
    let purpose = Purpose::comment(&comment.comment_id.to_string()).expect("purpose");
    let sealed = hex::decode(&comment.body_sealed).expect("hex");
    String::from_utf8(open_all(&file.dek, &file.id, &purpose, &sealed).expect("open"))
        .expect("utf8")
}

fn comments_uri(video: &VideoId) -> String {
    format!("/api/videos/{video}/comments")
}

async fn post_raw(
    app: &TestApp,
    cookie: Option<&str>,
    video: &str,
    body: Value,
) -> (StatusCode, HeaderMap, Value) {
    app.call(
        Method::POST,
        &format!("/api/videos/{video}/comments"),
        cookie,
        Some(body),
    )
    .await
}

/// Posts `text` as a new comment on `file` and answers the status and body.
async fn post(app: &TestApp, cookie: &str, file: &SealedFile, text: &str) -> (StatusCode, Value) {
    let id = CommentId::random().expect("id");
    post_with_id(app, cookie, file, id, text).await
}

async fn post_with_id(
    app: &TestApp,
    cookie: &str,
    file: &SealedFile,
    id: CommentId,
    text: &str,
) -> (StatusCode, Value) {
    let body = json!({"comment_id": id.to_string(), "body_sealed": seal(file, &id, text)});
    let (status, _, answer) = post_raw(app, Some(cookie), &file.id.to_string(), body).await;
    (status, answer)
}

/// Posts and expects 201.
async fn posted(app: &TestApp, cookie: &str, file: &SealedFile, text: &str) -> CommentInfo {
    let (status, body) = post(app, cookie, file, text).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    serde_json::from_value(body).expect("comment info")
}

async fn get_page(app: &TestApp, cookie: &str, uri: &str) -> CommentPage {
    let (status, _, body) = app.call(Method::GET, uri, Some(cookie), None).await;
    assert_eq!(status, StatusCode::OK, "{uri}: {body}");
    serde_json::from_value(body).expect("comment page")
}

/// Every page of `video`'s comments, with `limit` per page.
async fn walk(app: &TestApp, cookie: &str, video: &VideoId, limit: u32) -> Vec<CommentInfo> {
    let mut all = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let uri = match &cursor {
            Some(c) => format!("{}?limit={limit}&cursor={c}", comments_uri(video)),
            None => format!("{}?limit={limit}", comments_uri(video)),
        };
        let page = get_page(app, cookie, &uri).await;
        all.extend(page.comments);
        match page.next_cursor {
            Some(next) => cursor = Some(next),
            None => return all,
        }
    }
}

async fn delete(
    app: &TestApp,
    cookie: Option<&str>,
    video: &str,
    comment: &str,
) -> (StatusCode, Value) {
    let (status, _, body) = app
        .call(
            Method::DELETE,
            &format!("/api/videos/{video}/comments/{comment}"),
            cookie,
            None,
        )
        .await;
    (status, body)
}

/// The comments of `video` in the server's order, straight from the database.
async fn stored_order(app: &TestApp, video: &VideoId) -> Vec<String> {
    sqlx::query_scalar("SELECT id FROM comments WHERE video_id = $1 ORDER BY created_at, id")
        .bind(video.to_string())
        .fetch_all(&app.state.db)
        .await
        .expect("ids")
}

fn ids(comments: &[CommentInfo]) -> Vec<String> {
    comments.iter().map(|c| c.comment_id.to_string()).collect()
}

#[tokio::test]
async fn a_sealed_comment_round_trips_and_opens_with_the_videos_key() {
    let app = app().await;
    let alice = app.signed_in("alice", Role::Member).await;
    let bob = app.signed_in("bob", Role::Member).await;
    let root = app.signed_in("root", Role::Admin).await;
    let file = video(&app, &alice).await;

    let text = "Lovely sunset — 🌅 at 0:42!";
    let created = posted(&app, &bob, &file, text).await;
    assert_eq!(created.video_id, file.id);
    assert_eq!(created.author, "bob");
    assert!(created.can_delete);
    assert!(created.created_at > 1_700_000_000);

    // Alice reads it and opens it with the DEK; the server only ever held the sealed bytes.
    let page = get_page(&app, &alice, &comments_uri(&file.id)).await;
    assert_eq!(page.next_cursor, None);
    assert_eq!(page.comments.len(), 1);
    let listed = &page.comments[0];
    assert_eq!(open(&file, listed), text);
    assert_eq!(listed.comment_id, created.comment_id);
    assert_eq!(listed.body_sealed, created.body_sealed);
    assert_eq!(listed.created_at, created.created_at);
    assert_eq!(listed.author, "bob");
    assert!(!listed.can_delete, "alice neither wrote it nor is an admin");
    let stored: Vec<u8> = sqlx::query_scalar("SELECT body_sealed FROM comments")
        .fetch_one(&app.state.db)
        .await
        .expect("row");
    assert!(!stored.windows(6).any(|w| w == b"sunset"));

    // The body is bound to its comment id: opened as another comment, it fails.
    let other = Purpose::comment(&CommentId::random().expect("id").to_string()).expect("purpose");
    let sealed = hex::decode(&listed.body_sealed).expect("hex");
    assert!(open_all(&file.dek, &file.id, &other, &sealed).is_err());

    assert!(get_page(&app, &bob, &comments_uri(&file.id)).await.comments[0].can_delete);
    assert!(
        get_page(&app, &root, &comments_uri(&file.id))
            .await
            .comments[0]
            .can_delete
    );

    // A video without comments has an empty page; the longest comment allowed fits.
    let quiet = video(&app, &bob).await;
    let page = get_page(&app, &alice, &comments_uri(&quiet.id)).await;
    assert!(page.comments.is_empty() && page.next_cursor.is_none());
    let longest = "😀".repeat(MAX_COMMENT_CHARS);
    let info = posted(&app, &alice, &quiet, &longest).await;
    assert_eq!(open(&quiet, &info), longest);
}

#[tokio::test]
async fn forty_five_comments_page_by_twenty_completely_in_order_even_with_inserts_between_pages() {
    let app = app().await;
    let alice = app.signed_in("alice", Role::Member).await;
    let bob = app.signed_in("bob", Role::Member).await;
    let carol = app.signed_in("carol", Role::Member).await;
    let root = app.signed_in("root", Role::Admin).await;
    let file = video(&app, &alice).await;
    for n in 0..15 {
        for who in [&alice, &bob, &carol] {
            posted(&app, who, &file, &format!("comment {n}")).await;
        }
    }
    // Spread the comments over a few past seconds, several in each, so the order depends on both
    // the time and the id.
    sqlx::query("UPDATE comments SET created_at = 1700000000 + seq % 7")
        .execute(&app.state.db)
        .await
        .expect("spread");
    let originals = stored_order(&app, &file.id).await;
    assert_eq!(originals.len(), 45);

    // Default page size is 20.
    let first = get_page(&app, &bob, &comments_uri(&file.id)).await;
    assert_eq!(first.comments.len(), 20);

    // Walk the pages by hand, adding comments between fetches: at the end (now), and two forced
    // into the very second of the page's last comment, one with an id below it and one above.
    let mut seen: Vec<CommentInfo> = Vec::new();
    let mut sizes = Vec::new();
    let mut cursor: Option<String> = None;
    let mut added = Vec::new();
    let mut round = 0u8;
    loop {
        let uri = match &cursor {
            Some(c) => format!("{}?limit=20&cursor={c}", comments_uri(&file.id)),
            None => format!("{}?limit=20", comments_uri(&file.id)),
        };
        let page = get_page(&app, &bob, &uri).await;
        sizes.push(page.comments.len());
        let last = page.comments.last().cloned();
        seen.extend(page.comments);
        let Some(next) = page.next_cursor else { break };
        cursor = Some(next);
        let last = last.expect("a page with a cursor has comments");
        added.push(
            posted(&app, &root, &file, "late")
                .await
                .comment_id
                .to_string(),
        );
        round += 1;
        for byte in [0x00, 0xff] {
            let mut bytes = [byte; 16];
            bytes[15] = round;
            let id = CommentId::from_bytes(bytes);
            let (status, body) = post_with_id(&app, &root, &file, id, "same second").await;
            assert_eq!(status, StatusCode::CREATED, "{body}");
            sqlx::query("UPDATE comments SET created_at = $1 WHERE id = $2")
                .bind(last.created_at)
                .bind(id.to_string())
                .execute(&app.state.db)
                .await
                .expect("force the time");
            added.push(id.to_string());
        }
    }
    assert_eq!(sizes, [20, 20, 5]);
    assert_eq!(
        ids(&seen),
        originals,
        "exactly the comments there were when the listing began, each once, oldest first"
    );
    assert!(seen
        .windows(2)
        .all(|w| (w[0].created_at, w[0].comment_id) < (w[1].created_at, w[1].comment_id)));
    assert!(seen
        .iter()
        .all(|c| c.can_delete == (c.author == "bob") && open(&file, c).starts_with("comment ")));

    // A new listing has everything, still complete and in order.
    let again = walk(&app, &bob, &file.id, 20).await;
    let everything = stored_order(&app, &file.id).await;
    assert_eq!(everything.len(), 45 + added.len());
    assert_eq!(ids(&again), everything);
    let unique: HashSet<_> = ids(&again).into_iter().collect();
    assert_eq!(unique.len(), everything.len());

    // Limits are held to 1..=100.
    let all = get_page(
        &app,
        &bob,
        &format!("{}?limit=1000", comments_uri(&file.id)),
    )
    .await;
    assert_eq!(all.comments.len(), everything.len());
    assert!(all.next_cursor.is_none());
    let one = get_page(&app, &bob, &format!("{}?limit=0", comments_uri(&file.id))).await;
    assert_eq!(one.comments.len(), 1);
    assert_eq!(walk(&app, &bob, &file.id, 7).await.len(), everything.len());
}

#[tokio::test]
async fn the_author_or_an_admin_deletes_a_comment_and_nobody_else() {
    let app = app().await;
    let alice = app.signed_in("alice", Role::Member).await;
    let bob = app.signed_in("bob", Role::Member).await;
    let root = app.signed_in("root", Role::Admin).await;
    let file = video(&app, &alice).await;
    let vid = file.id.to_string();
    let bobs = posted(&app, &bob, &file, "bob's").await;
    let alices = posted(&app, &alice, &file, "alice's").await;

    let (status, body) = delete(&app, Some(&alice), &vid, &bobs.comment_id.to_string()).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    assert_eq!(
        message(&body),
        "Only the author or an admin can delete this comment."
    );
    assert_eq!(body["error"]["code"], "forbidden");

    let (status, body) = delete(&app, Some(&bob), &vid, &bobs.comment_id.to_string()).await;
    assert_eq!(status, StatusCode::NO_CONTENT, "{body}");
    assert_eq!(body, Value::Null);
    let (status, body) = delete(&app, Some(&bob), &vid, &bobs.comment_id.to_string()).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "deleted twice: {body}");

    let (status, body) = delete(&app, Some(&root), &vid, &alices.comment_id.to_string()).await;
    assert_eq!(status, StatusCode::NO_CONTENT, "{body}");
    assert!(get_page(&app, &alice, &comments_uri(&file.id))
        .await
        .comments
        .is_empty());

    // A comment is reached only through its own video.
    let other = video(&app, &bob).await;
    let elsewhere = posted(&app, &bob, &other, "elsewhere").await;
    let (status, body) = delete(&app, Some(&bob), &vid, &elsewhere.comment_id.to_string()).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{body}");
    assert_eq!(message(&body), "No such comment on this video.");
    let (status, _) = delete(&app, Some(&root), &vid, &elsewhere.comment_id.to_string()).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(
        get_page(&app, &bob, &comments_uri(&other.id))
            .await
            .comments
            .len(),
        1
    );
    let unknown = CommentId::random().expect("id").to_string();
    let (status, _) = delete(&app, Some(&root), &vid, &unknown).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let no_video = VideoId::random().expect("id").to_string();
    let (status, body) = delete(&app, Some(&root), &no_video, &unknown).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(message(&body), "No such video.");

    // Ids in the path are checked.
    let (status, body) = delete(&app, Some(&bob), &vid, "nope").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(
        message(&body),
        "That is not a comment id: ids are 32 lowercase hex digits."
    );
    let (status, body) = delete(&app, Some(&bob), &vid.to_uppercase(), &unknown).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(
        message(&body),
        "That is not a video id: ids are 32 lowercase hex digits."
    );
}

#[tokio::test]
async fn malformed_requests_are_refused_with_reasons() {
    let app = app().await;
    let alice = app.signed_in("alice", Role::Member).await;
    let file = video(&app, &alice).await;
    let vid = file.id.to_string();
    let uri = comments_uri(&file.id);
    let get = |uri: String| {
        let alice = alice.clone();
        let app = &app;
        async move { app.call(Method::GET, &uri, Some(&alice), None).await }
    };

    // Cursors: only what the server gave out.
    posted(&app, &alice, &file, "one").await;
    posted(&app, &alice, &file, "two").await;
    let page = get_page(&app, &alice, &format!("{uri}?limit=1")).await;
    let good = page.next_cursor.expect("a second page");
    let (status, _, _) = get(format!("{uri}?cursor={good}")).await;
    assert_eq!(status, StatusCode::OK);
    let id = CommentId::random().expect("id");
    for bad in [
        "x".to_owned(),
        format!("1.{id}"),
        format!("%2B1.{id}.3"),
        format!("01.{id}.3"),
        format!("1.{id}.3.4"),
        format!("1.{}.3", id.to_string().to_uppercase()),
        format!("{good}x"),
    ] {
        let (status, _, body) = get(format!("{uri}?cursor={bad}")).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{bad}: {body}");
        assert_eq!(
            message(&body),
            "That cursor is not one this server gave out."
        );
    }
    let (status, _, body) = get(format!("{uri}?limit=many")).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(message(&body), "limit must be a number from 1 to 100.");

    // Video ids.
    for bad in ["nope", &vid.to_uppercase(), &format!("{vid}0")] {
        let (status, _, body) = get(format!("/api/videos/{bad}/comments")).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{bad}");
        assert_eq!(
            message(&body),
            "That is not a video id: ids are 32 lowercase hex digits."
        );
        let (status, _, body) = post_raw(
            &app,
            Some(&alice),
            bad,
            json!({"comment_id": id.to_string(), "body_sealed": seal(&file, &id, "x")}),
        )
        .await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{bad}");
        assert!(message(&body).contains("not a video id"), "{body}");
    }
    let nowhere = VideoId::random().expect("id");
    let (status, _, body) = get(comments_uri(&nowhere)).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(message(&body), "No such video.");
    let (status, _, body) = post_raw(
        &app,
        Some(&alice),
        &nowhere.to_string(),
        json!({"comment_id": id.to_string(), "body_sealed": seal(&file, &id, "x")}),
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{body}");

    // Bodies.
    let sealed = seal(&file, &id, "hello");
    let cases: Vec<(Value, StatusCode, &str)> = vec![
        (
            json!({"comment_id": "xyz", "body_sealed": sealed}),
            StatusCode::BAD_REQUEST,
            "comment_id",
        ),
        (
            json!({"comment_id": id.to_string()}),
            StatusCode::BAD_REQUEST,
            "body_sealed",
        ),
        (
            json!({"comment_id": id.to_string(), "body_sealed": "not hex at all"}),
            StatusCode::BAD_REQUEST,
            "body_sealed must be lowercase hex.",
        ),
        (
            json!({"comment_id": id.to_string(), "body_sealed": sealed.to_uppercase()}),
            StatusCode::BAD_REQUEST,
            "body_sealed must be lowercase hex.",
        ),
        (
            json!({"comment_id": id.to_string(), "body_sealed": &sealed[1..]}),
            StatusCode::BAD_REQUEST,
            "body_sealed must be lowercase hex.",
        ),
        (
            json!({"comment_id": id.to_string(), "body_sealed": &sealed[..2 * 56]}),
            StatusCode::BAD_REQUEST,
            "body_sealed is too short to be a sealed comment: at least 57 bytes",
        ),
        (
            json!({"comment_id": id.to_string(), "body_sealed": "00".repeat(57)}),
            StatusCode::BAD_REQUEST,
            "body_sealed is not a sealed stream: its header is not valid.",
        ),
        (
            json!({"comment_id": id.to_string(),
                   "body_sealed": seal(&file, &id, &"a".repeat(MAX_SEALED_COMMENT_BYTES))}),
            StatusCode::PAYLOAD_TOO_LARGE,
            "This comment is too long: a comment may have at most 2000 characters",
        ),
    ];
    for (body, want, says) in cases {
        let (status, _, answer) = post_raw(&app, Some(&alice), &vid, body.clone()).await;
        assert_eq!(status, want, "{body}: {answer}");
        assert!(message(&answer).contains(says), "{says}: {answer}");
    }
    // The largest sealed body accepted, and one byte more.
    let at_limit = format!(
        "{}{}",
        &sealed[..82],
        "00".repeat(MAX_SEALED_COMMENT_BYTES - 41)
    );
    let (status, _, answer) = post_raw(
        &app,
        Some(&alice),
        &vid,
        json!({"comment_id": id.to_string(), "body_sealed": at_limit}),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{answer}");
    let (status, _, answer) = post_raw(
        &app,
        Some(&alice),
        &vid,
        json!({"comment_id": CommentId::random().expect("id").to_string(),
               "body_sealed": format!("{at_limit}00")}),
    )
    .await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE, "{answer}");
    assert_eq!(answer["error"]["code"], "payload_too_large");

    // The same comment id twice.
    let (status, body) = post_with_id(&app, &alice, &file, id, "again").await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    assert!(
        message(&body).contains("already a comment with the id"),
        "{body}"
    );
    let other = video(&app, &alice).await;
    let (status, _) = post_with_id(&app, &alice, &other, id, "elsewhere").await;
    assert_eq!(status, StatusCode::CONFLICT, "ids are unique across videos");
}

#[tokio::test]
async fn other_members_unfinished_uploads_have_no_comments_to_read_or_write() {
    let app = app().await;
    let alice = app.signed_in("alice", Role::Member).await;
    let bob = app.signed_in("bob", Role::Member).await;
    let root = app.signed_in("root", Role::Admin).await;
    let file = unfinished(&app, &alice).await;
    let vid = file.id.to_string();

    // The uploader sees her own unfinished upload, and may comment on it.
    let mine = posted(&app, &alice, &file, "note to self").await;

    for who in [&bob, &root] {
        let (status, body) = post(&app, who, &file, "hi").await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{body}");
        assert_eq!(message(&body), "No such video.");
        let (status, _, body) = app
            .call(Method::GET, &comments_uri(&file.id), Some(who), None)
            .await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{body}");
        let (status, _) = delete(&app, Some(who), &vid, &mine.comment_id.to_string()).await;
        assert_eq!(status, StatusCode::NOT_FOUND);
    }

    // Removing the video (here: cancelling the upload) removes its comments.
    let (status, _, body) = app
        .call(
            Method::DELETE,
            &format!("/api/uploads/{vid}"),
            Some(&alice),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT, "{body}");
    let left: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM comments")
        .fetch_one(&app.state.db)
        .await
        .expect("count");
    assert_eq!(left, 0);
}

#[tokio::test]
async fn posting_too_fast_is_answered_429_with_retry_after() {
    let app = app().await;
    let alice = app.signed_in("alice", Role::Member).await;
    let bob = app.signed_in("bob", Role::Member).await;
    let file = video(&app, &alice).await;
    // Malformed posts spend nothing.
    for _ in 0..5 {
        let (status, _, _) = post_raw(
            &app,
            Some(&alice),
            &file.id.to_string(),
            json!({"comment_id": CommentId::random().expect("id").to_string(), "body_sealed": "zz"}),
        )
        .await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
    }
    for n in 0..20 {
        posted(&app, &alice, &file, &format!("{n}")).await;
    }
    let id = CommentId::random().expect("id");
    let (status, headers, body) = post_raw(
        &app,
        Some(&alice),
        &file.id.to_string(),
        json!({"comment_id": id.to_string(), "body_sealed": seal(&file, &id, "one more")}),
    )
    .await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS, "{body}");
    assert_eq!(body["error"]["code"], "too_many_requests");
    assert!(
        message(&body).starts_with("You are posting comments too quickly. Try again in "),
        "{body}"
    );
    let retry: u64 = headers
        .get(header::RETRY_AFTER)
        .expect("Retry-After")
        .to_str()
        .expect("ascii")
        .parse()
        .expect("seconds");
    assert!((1..=60).contains(&retry), "{retry}");
    // Another member is not held back, and reading is never limited.
    posted(&app, &bob, &file, "hello").await;
    assert_eq!(walk(&app, &alice, &file.id, 100).await.len(), 21);
}

#[tokio::test]
async fn signed_out_requests_are_401() {
    let app = app().await;
    let alice = app.signed_in("alice", Role::Member).await;
    let file = video(&app, &alice).await;
    let comment = posted(&app, &alice, &file, "hi").await;
    let vid = file.id.to_string();

    let (status, _, body) = app
        .call(Method::GET, &comments_uri(&file.id), None, None)
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(message(&body), "Please sign in first.");
    let id = CommentId::random().expect("id");
    let (status, _, _) = post_raw(
        &app,
        None,
        &vid,
        json!({"comment_id": id.to_string(), "body_sealed": seal(&file, &id, "x")}),
    )
    .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let (status, _) = delete(&app, None, &vid, &comment.comment_id.to_string()).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    // Even with junk in the path, the session is checked first.
    let (status, _, _) = app
        .call(Method::GET, "/api/videos/nope/comments", None, None)
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
}
