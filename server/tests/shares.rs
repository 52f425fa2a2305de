//! Share links (docs/api.md, "Share links"): a member shares one ready video; anyone holding the
//! link watches and (when allowed) saves it with no account, through share-scoped routes that
//! reach nothing else of the library; expired, withdrawn and unknown links answer alike; the
//! routes are throttled per address.

mod common;

use axum::http::{header, Method, StatusCode};
use cloister_shared::api::shares::{paths, ShareId, SHARE_GONE_MESSAGE};
use cloister_shared::api::Role;
use cloister_shared::crypto::share::{unwrap_dek_for_share, wrap_dek_for_share, ShareSecret};
use cloister_shared::crypto::stream::open_all;
use cloister_shared::manifest::Manifest;
use cloister_shared::{Purpose, WrappedKey};
use common::processing::spawn_processing_app;
use common::uploads::SealedFile;
use common::{message, TestApp};
use serde_json::{json, Value};

/// A share made as a browser makes one: a fresh id and secret, the DEK wrapped for them.
struct Link {
    id: ShareId,
    secret: ShareSecret,
}

impl Link {
    fn new() -> Self {
        Self {
            id: ShareId::random().expect("id"),
            secret: ShareSecret::generate().expect("secret"),
        }
    }

    fn body(&self, file: &SealedFile, expiry: &str, allow_download: bool) -> Value {
        let wrapped =
            wrap_dek_for_share(&self.secret, &self.id, &file.id, &file.dek).expect("wrap");
        json!({
            "share_id": self.id.to_string(),
            "wrapped_key": wrapped.to_hex(),
            "expiry": expiry,
            "allow_download": allow_download,
        })
    }
}

impl TestApp {
    async fn share(&self, cookie: &str, file: &SealedFile, body: Value) -> (StatusCode, Value) {
        let uri = format!("/api/videos/{}/shares", file.id);
        let (status, _, body) = self
            .call(Method::POST, &uri, Some(cookie), Some(body))
            .await;
        (status, body)
    }

    async fn shared(&self, cookie: &str, file: &SealedFile, link: &Link, allow: bool) -> Value {
        let (status, body) = self.share(cookie, file, link.body(file, "7d", allow)).await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
        body
    }

    /// A GET with no cookie at all, as a stranger's browser sends it.
    async fn anonymous(&self, uri: &str) -> (StatusCode, axum::http::HeaderMap, Vec<u8>) {
        self.get_raw(uri, None, &[]).await
    }

    async fn revoke(&self, cookie: &str, link: &Link) -> (StatusCode, Value) {
        let uri = format!("/api/shares/{}", link.id);
        let (status, _, body) = self.call(Method::DELETE, &uri, Some(cookie), None).await;
        (status, body)
    }

    async fn list(&self, cookie: &str, uri: &str) -> (StatusCode, Value) {
        let (status, _, body) = self.call(Method::GET, uri, Some(cookie), None).await;
        (status, body)
    }
}

fn gone_body(status: StatusCode, body: &[u8]) {
    assert_eq!(
        status,
        StatusCode::GONE,
        "{}",
        String::from_utf8_lossy(body)
    );
    let body: Value = serde_json::from_slice(body).expect("JSON");
    assert_eq!(message(&body), SHARE_GONE_MESSAGE);
    assert_eq!(body["error"]["code"], "gone");
}

fn ids(list: &Value) -> Vec<String> {
    list["shares"]
        .as_array()
        .expect("shares")
        .iter()
        .map(|s| s["share_id"].as_str().expect("id").to_owned())
        .collect()
}

#[tokio::test]
async fn a_link_plays_and_saves_its_video_for_a_stranger_and_reaches_nothing_else() {
    let (app, _) = spawn_processing_app().await;
    let alice = app.signed_in("alice", Role::Member).await;
    let (file, manifest) = app.processed_video(&alice, 3).await;
    let (other, other_manifest) = app.processed_video(&alice, 2).await;
    let link = Link::new();
    let created = app.shared(&alice, &file, &link, true).await;
    assert_eq!(created["view_count"], 0);
    assert_eq!(created["created_by"], "alice");
    assert!(
        created["expires_at"].as_i64().expect("expiry") > created["created_at"].as_i64().unwrap()
    );

    // The facts: the key wrapped for the link, the sealed title, and nothing of the library.
    let (status, headers, bytes) = app.anonymous(&paths::facts(&link.id)).await;
    assert_eq!(
        status,
        StatusCode::OK,
        "{}",
        String::from_utf8_lossy(&bytes)
    );
    assert_eq!(headers[header::CACHE_CONTROL], "no-store");
    let facts: Value = serde_json::from_slice(&bytes).expect("JSON");
    let mut keys: Vec<&str> = facts
        .as_object()
        .expect("object")
        .keys()
        .map(String::as_str)
        .collect();
    keys.sort_unstable();
    assert_eq!(
        keys,
        [
            "allow_download",
            "duration_ms",
            "file_name_sealed",
            "has_thumb",
            "rendition",
            "share_id",
            "size_bytes",
            "title_sealed",
            "video_id",
            "wrapped_key",
        ]
    );
    assert!(!String::from_utf8_lossy(&bytes).contains("alice"));
    let wrapped = WrappedKey::from_hex(facts["wrapped_key"].as_str().unwrap()).expect("key");
    let dek = unwrap_dek_for_share(&link.secret, &link.id, &file.id, &wrapped).expect("unwrap");
    assert_eq!(dek.as_bytes(), file.dek.as_bytes());
    let title = hex::decode(facts["title_sealed"].as_str().unwrap()).expect("hex");
    let title = open_all(&dek, &file.id, &Purpose::Title, &title).expect("title opens");
    assert_eq!(title, b"My holiday");

    // Manifest, init and every segment through the share, as a player fetches them.
    let rendition = facts["rendition"].as_str().unwrap().to_owned();
    assert_eq!(rendition, manifest.rendition);
    let (status, _, sealed) = app.anonymous(&paths::manifest(&link.id, &rendition)).await;
    assert_eq!(status, StatusCode::OK);
    let plain = open_all(&dek, &file.id, &Purpose::Manifest, &sealed).expect("manifest opens");
    let opened: Manifest = serde_json::from_slice(&plain).expect("manifest");
    assert_eq!(opened, manifest);
    let (status, _, _) = app.anonymous(&paths::init(&link.id, &rendition)).await;
    assert_eq!(status, StatusCode::OK);
    for index in 0..manifest.segments.len() as u32 {
        let (status, _, sealed) = app
            .anonymous(&paths::segment(&link.id, &rendition, index))
            .await;
        assert_eq!(status, StatusCode::OK, "segment {index}");
        let purpose = Purpose::segment(&rendition, index).unwrap();
        open_all(&dek, &file.id, &purpose, &sealed).expect("segment opens");
    }
    let (status, _, _) = app.anonymous(&paths::thumb(&link.id, &rendition)).await;
    assert_eq!(status, StatusCode::OK);

    // The whole original, which opens to the very bytes uploaded.
    let (status, _, sealed) = app.anonymous(&paths::original(&link.id)).await;
    assert_eq!(status, StatusCode::OK);
    let plain = open_all(&dek, &file.id, &Purpose::Original, &sealed).expect("original opens");
    assert_eq!(plain, file.plain);

    // Another video's rendition is not reachable through this share.
    let uri = paths::segment(&link.id, &other_manifest.rendition, 0);
    assert_eq!(app.anonymous(&uri).await.0, StatusCode::NOT_FOUND);
    let uri = paths::manifest(&link.id, &other_manifest.rendition);
    assert_eq!(app.anonymous(&uri).await.0, StatusCode::NOT_FOUND);
    // Nothing of the library answers without a session, ids known or not.
    for uri in [
        "/api/videos".to_owned(),
        format!("/api/videos/{}", file.id),
        format!("/api/videos/{}/comments", file.id),
        format!("/api/videos/{}/original", other.id),
        format!("/api/videos/{}/shares", file.id),
        "/api/shares".to_owned(),
        "/api/users".to_owned(),
        "/api/admin/users".to_owned(),
    ] {
        let (status, _, _) = app.anonymous(&uri).await;
        assert!(
            status == StatusCode::UNAUTHORIZED || status == StatusCode::NOT_FOUND,
            "{uri}: {status}"
        );
    }
    // Paths that try to step out of the share are not routes.
    for uri in [
        format!("/api/s/{}/../videos", link.id),
        format!("/api/s/{}/comments", link.id),
        format!("/api/s/{}/videos/{}", link.id, other.id),
    ] {
        let (status, _, _) = app.anonymous(&uri).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{uri}");
    }

    // A view is one opening of the page, not one per file fetched.
    let views = paths::views(&link.id);
    let (status, _, _) = app.call(Method::POST, &views, None, None).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (_, list) = app
        .list(&alice, &format!("/api/videos/{}/shares", file.id))
        .await;
    assert_eq!(list["shares"][0]["view_count"], 1, "{list}");
}

#[tokio::test]
async fn owners_and_admins_share_list_and_withdraw_members_do_not() {
    let (app, _) = spawn_processing_app().await;
    let alice = app.signed_in("alice", Role::Member).await;
    let bob = app.signed_in("bob", Role::Member).await;
    let admin = app.signed_in("root", Role::Admin).await;
    let (file, manifest) = app.processed_video(&alice, 2).await;

    // Bob may watch Alice's video but not share it.
    let (status, body) = app
        .share(&bob, &file, Link::new().body(&file, "7d", false))
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    assert_eq!(
        message(&body),
        "Only the video's owner or an admin can share it."
    );
    // Without a session, nothing.
    let uri = format!("/api/videos/{}/shares", file.id);
    let (status, _, _) = app
        .call(
            Method::POST,
            &uri,
            None,
            Some(Link::new().body(&file, "7d", false)),
        )
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);

    let mine = Link::new();
    app.shared(&alice, &file, &mine, false).await;
    let admins = Link::new();
    let body = app.shared(&admin, &file, &admins, true).await;
    assert_eq!(body["created_by"], "root");

    // Lists: the owner sees every share of her video, Bob none, the admin all.
    let (_, list) = app.list(&alice, "/api/shares").await;
    assert_eq!(ids(&list).len(), 2);
    let (_, list) = app.list(&bob, "/api/shares").await;
    assert!(ids(&list).is_empty(), "{list}");
    // Newest first, but both were made within the same second: compare as sets.
    let (_, list) = app.list(&admin, "/api/shares").await;
    let mut listed = ids(&list);
    listed.sort();
    let mut made = vec![admins.id.to_string(), mine.id.to_string()];
    made.sort();
    assert_eq!(listed, made);
    let (status, _) = app.list(&bob, &uri).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, list) = app.list(&admin, &uri).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(ids(&list).len(), 2);

    // Bob cannot withdraw; Alice can, twice, and the second changes nothing.
    let (status, _) = app.revoke(&bob, &mine).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_eq!(
        app.anonymous(&paths::facts(&mine.id)).await.0,
        StatusCode::OK
    );
    let (status, first) = app.revoke(&alice, &mine).await;
    assert_eq!(status, StatusCode::OK, "{first}");
    let revoked_at = first["revoked_at"].as_i64().expect("revoked");
    let (status, second) = app.revoke(&alice, &mine).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(second["revoked_at"].as_i64(), Some(revoked_at));
    // The withdrawn link answers the message everywhere; the admin's still works.
    let (status, _, body) = app.anonymous(&paths::facts(&mine.id)).await;
    gone_body(status, &body);
    let (status, _, body) = app
        .anonymous(&paths::segment(&mine.id, &manifest.rendition, 0))
        .await;
    gone_body(status, &body);
    let (status, _, _) = app
        .call(Method::POST, &paths::views(&mine.id), None, None)
        .await;
    assert_eq!(status, StatusCode::GONE);
    assert_eq!(
        app.anonymous(&paths::facts(&admins.id)).await.0,
        StatusCode::OK
    );
    // The admin withdraws Alice's other link; a link that never existed is 404 to a member.
    let (status, _) = app.revoke(&admin, &admins).await;
    assert_eq!(status, StatusCode::OK);
    let (status, body) = app.revoke(&alice, &Link::new()).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{body}");
    let (status, _, _) = app
        .call(Method::DELETE, "/api/shares/nope", Some(&alice), None)
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn only_a_ready_video_of_ones_own_can_be_shared_and_bad_requests_change_nothing() {
    let app = TestApp::spawn().await;
    let alice = app.signed_in("alice", Role::Member).await;
    let bob = app.signed_in("bob", Role::Member).await;
    // Uploaded, not processed (no workers run here).
    let (waiting, _) = app.upload_video(&alice, SealedFile::new(1000).plain).await;
    let (status, body) = app
        .share(&alice, &waiting, Link::new().body(&waiting, "7d", true))
        .await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    assert_eq!(
        message(&body),
        "Only a video that is ready to play can be shared."
    );
    // Another member's unfinished upload is not there for Bob.
    let unfinished = SealedFile::new(1000);
    app.send_chunks(&alice, &unfinished).await;
    let (status, _) = app
        .share(&bob, &unfinished, Link::new().body(&unfinished, "7d", true))
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let nowhere = SealedFile::new(10);
    let (status, body) = app
        .share(&alice, &nowhere, Link::new().body(&nowhere, "7d", true))
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(message(&body), "No such video.");
    // Malformed bodies.
    let link = Link::new();
    let mut body = link.body(&waiting, "7d", true);
    body["expiry"] = json!("2d");
    assert_eq!(
        app.share(&alice, &waiting, body).await.0,
        StatusCode::BAD_REQUEST
    );
    let mut body = link.body(&waiting, "7d", true);
    body["wrapped_key"] = json!("abcd");
    assert_eq!(
        app.share(&alice, &waiting, body).await.0,
        StatusCode::BAD_REQUEST
    );
    let mut body = link.body(&waiting, "7d", true);
    body["share_id"] = json!("ABC");
    assert_eq!(
        app.share(&alice, &waiting, body).await.0,
        StatusCode::BAD_REQUEST
    );
    let mut body = link.body(&waiting, "7d", true);
    body["secret"] = json!("should never be sent");
    assert_eq!(
        app.share(&alice, &waiting, body).await.0,
        StatusCode::BAD_REQUEST
    );
    let (status, _, _) = app
        .call(
            Method::POST,
            "/api/videos/xyz/shares",
            Some(&alice),
            Some(link.body(&waiting, "7d", true)),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    // Nothing was stored.
    let (_, list) = app.list(&alice, "/api/shares").await;
    assert!(ids(&list).is_empty(), "{list}");
}

#[tokio::test]
async fn unknown_expired_and_withdrawn_links_answer_alike_and_saving_needs_permission() {
    let (app, _) = spawn_processing_app().await;
    let alice = app.signed_in("alice", Role::Member).await;
    let (file, manifest) = app.processed_video(&alice, 2).await;
    let watch_only = Link::new();
    let facts = {
        let (status, body) = app
            .share(&alice, &file, watch_only.body(&file, "never", false))
            .await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
        assert_eq!(body["expires_at"], Value::Null);
        let (status, _, bytes) = app.anonymous(&paths::facts(&watch_only.id)).await;
        assert_eq!(status, StatusCode::OK);
        serde_json::from_slice::<Value>(&bytes).expect("JSON")
    };
    // Watching only: no size or file name, and the original is refused.
    assert_eq!(facts["allow_download"], false);
    assert!(facts.get("size_bytes").is_none() && facts.get("file_name_sealed").is_none());
    let (status, _, body) = app.anonymous(&paths::original(&watch_only.id)).await;
    assert_eq!(
        status,
        StatusCode::FORBIDDEN,
        "{}",
        String::from_utf8_lossy(&body)
    );
    let (status, _, _) = app
        .anonymous(&paths::segment(&watch_only.id, &manifest.rendition, 0))
        .await;
    assert_eq!(status, StatusCode::OK);

    // A day's link, then a day later.
    let daily = Link::new();
    let (status, body) = app
        .share(&alice, &file, daily.body(&file, "1d", true))
        .await;
    assert_eq!(status, StatusCode::CREATED);
    let day = body["expires_at"].as_i64().unwrap() - body["created_at"].as_i64().unwrap();
    assert_eq!(day, 86_400);
    sqlx::query("UPDATE shares SET expires_at = created_at - 1 WHERE id = $1")
        .bind(daily.id.to_string())
        .execute(&app.state.db)
        .await
        .expect("expire");
    let withdrawn = Link::new();
    app.shared(&alice, &file, &withdrawn, true).await;
    app.revoke(&alice, &withdrawn).await;

    let unknown = Link::new();
    let mut answers = Vec::new();
    for id in [
        daily.id.to_string(),
        withdrawn.id.to_string(),
        unknown.id.to_string(),
        "not-an-id".into(),
    ] {
        for uri in [
            format!("/api/s/{id}"),
            format!("/api/s/{id}/manifest"),
            format!("/api/s/{id}/renditions/{}/init", manifest.rendition),
            format!("/api/s/{id}/renditions/{}/segments/0", manifest.rendition),
            format!("/api/s/{id}/original"),
        ] {
            let (status, _, body) = app.anonymous(&uri).await;
            gone_body(status, &body);
            answers.push(body);
        }
    }
    assert!(
        answers.windows(2).all(|w| w[0] == w[1]),
        "one answer for all"
    );
    // The expired link still shows in its owner's list, with its expiry.
    let (_, list) = app.list(&alice, "/api/shares").await;
    assert_eq!(ids(&list).len(), 3);

    // In the trash, a video's links answer like any dead link; restored, they work again.
    let trash = format!("/api/videos/{}/trash", file.id);
    let (status, _, body) = app.call(Method::POST, &trash, Some(&alice), None).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    for uri in [
        paths::facts(&watch_only.id),
        paths::segment(&watch_only.id, &manifest.rendition, 0),
    ] {
        let (status, _, body) = app.anonymous(&uri).await;
        gone_body(status, &body);
    }
    let restore = format!("/api/videos/{}/restore", file.id);
    let (status, _, body) = app.call(Method::POST, &restore, Some(&alice), None).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (status, _, _) = app.anonymous(&paths::facts(&watch_only.id)).await;
    assert_eq!(status, StatusCode::OK);

    // Once the video's row is gone, its links go with it, and answer like any dead link.
    sqlx::query("DELETE FROM videos WHERE id = $1")
        .bind(file.id.to_string())
        .execute(&app.state.db)
        .await
        .expect("delete the video");
    let (status, _, body) = app.anonymous(&paths::facts(&watch_only.id)).await;
    gone_body(status, &body);
    let (_, list) = app.list(&alice, "/api/shares").await;
    assert!(ids(&list).is_empty(), "{list}");
}

#[tokio::test]
async fn a_flood_of_share_requests_from_one_address_is_throttled() {
    let app = TestApp::spawn().await;
    let unknown = Link::new();
    let mut throttled = None;
    for attempt in 0..cloister::shares::limiter::BURST + 10 {
        let (status, headers, body) = app.anonymous(&paths::facts(&unknown.id)).await;
        if status == StatusCode::TOO_MANY_REQUESTS {
            let body: Value = serde_json::from_slice(&body).expect("JSON");
            assert!(
                message(&body).starts_with(
                    "Too many requests for shared videos from your address. Try again in "
                ),
                "{body}"
            );
            assert!(headers.contains_key(header::RETRY_AFTER));
            throttled = Some(attempt);
            break;
        }
        assert_eq!(status, StatusCode::GONE);
    }
    let attempt = throttled.expect("the flood was throttled");
    assert!(
        attempt >= cloister::shares::limiter::BURST,
        "not before the burst: {attempt}"
    );
    // Members' own routes are not throttled by it.
    let alice = app.signed_in("alice", Role::Member).await;
    let (status, _) = app.list(&alice, "/api/shares").await;
    assert_eq!(status, StatusCode::OK);
}
