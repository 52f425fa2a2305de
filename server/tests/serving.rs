//! Serving what processing made, as members' browsers fetch it: the sealed manifest, thumbnail,
//! init and media segments exactly as stored, cached so that a revisit costs no bytes; clear
//! errors for a video with nothing to play and for malformed requests; and the gallery listing
//! paging steadily while videos are added.

mod common;

use axum::http::{header, HeaderMap, Method, StatusCode};
use cloister::storage::{RenditionId, StoredObject};
use cloister_shared::api::videos::paths;
use cloister_shared::api::{Role, VideoPage, VideoSummary};
use cloister_shared::crypto::stream::open_all;
use cloister_shared::manifest::Manifest;
use cloister_shared::{Purpose, StreamHeader, VideoId};
use common::processing::spawn_processing_app;
use common::uploads::SealedFile;
use common::{json, message, TestApp};

const IMMUTABLE: &str = "private, max-age=31536000, immutable";
const REVALIDATE: &str = "private, no-cache";

fn stored(app: &TestApp, file: &SealedFile, object: &StoredObject) -> Vec<u8> {
    let storage = &app.state.storage;
    let len = storage.object_len(&file.id, object).expect("length");
    storage
        .read_object(&file.id, object, 0, len as usize)
        .expect("read")
}

async fn summary(app: &TestApp, cookie: &str, video: &VideoId) -> VideoSummary {
    let (status, _, body) = app
        .call(
            Method::GET,
            &format!("/api/videos/{video}"),
            Some(cookie),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    serde_json::from_value(body).expect("a VideoSummary")
}

async fn get(app: &TestApp, uri: &str, cookie: &str) -> (StatusCode, HeaderMap, Vec<u8>) {
    app.get_raw(uri, Some(cookie), &[]).await
}

/// A 200 carrying `expected` with the headers every sealed file has.
fn assert_served(
    uri: &str,
    (status, headers, body): &(StatusCode, HeaderMap, Vec<u8>),
    expected: &[u8],
    cache: &str,
) {
    assert_eq!(*status, StatusCode::OK, "{uri}");
    assert!(body == expected, "{uri} is not the stored file");
    assert_eq!(
        headers[header::CONTENT_TYPE],
        "application/octet-stream",
        "{uri}"
    );
    assert_eq!(
        headers[header::CONTENT_LENGTH],
        expected.len().to_string(),
        "{uri}"
    );
    assert_eq!(headers[header::X_CONTENT_TYPE_OPTIONS], "nosniff", "{uri}");
    assert_eq!(headers[header::CACHE_CONTROL], cache, "{uri}");
    assert_eq!(headers[header::ACCEPT_RANGES], "bytes", "{uri}");
}

fn etag(headers: &HeaderMap) -> String {
    headers[header::ETAG].to_str().expect("etag").to_owned()
}

fn salt_etag(sealed: &[u8]) -> String {
    format!(
        "\"{}\"",
        hex::encode(StreamHeader::parse(sealed).expect("header").salt)
    )
}

#[tokio::test]
async fn another_member_fetches_every_processed_file_exactly_as_stored_and_opens_it() {
    let (app, _) = spawn_processing_app().await;
    let alice = app.signed_in("alice", Role::Member).await;
    let bob = app.signed_in("bob", Role::Member).await;
    let (file, manifest) = app.processed_video(&alice, 5).await;
    let rendition = manifest.rendition.clone();

    // The listing tells the gallery what it needs to build the immutable URLs.
    let listed = summary(&app, &bob, &file.id).await;
    assert_eq!(listed.rendition.as_deref(), Some(rendition.as_str()));
    assert!(listed.has_thumb);
    assert_eq!(listed.duration_ms, Some(manifest.duration_ms));
    let (_, _, page) = app.call(Method::GET, "/api/videos", Some(&bob), None).await;
    let page: VideoPage = serde_json::from_value(page).expect("page");
    // The page is the single video without the details only its own view needs.
    let brief = VideoSummary {
        description_sealed: None,
        file_name_sealed: None,
        ..listed.clone()
    };
    assert_eq!(page.videos, vec![brief]);

    // The manifest, pinned to the rendition (immutable) and not (revalidated); the ETag is the
    // salt of the sealed stream either way.
    let sealed_manifest = stored(&app, &file, &StoredObject::Manifest);
    let pinned = listed.manifest_url().expect("manifest url");
    let answer = get(&app, &pinned, &bob).await;
    assert_served(&pinned, &answer, &sealed_manifest, IMMUTABLE);
    assert_eq!(etag(&answer.1), salt_etag(&sealed_manifest));
    let plain = open_all(&file.dek, &file.id, &Purpose::Manifest, &answer.2).expect("opens");
    let opened: Manifest = serde_json::from_slice(&plain).expect("manifest JSON");
    assert_eq!(opened, manifest);
    let loose = format!("/api/videos/{}/manifest", file.id);
    let answer = get(&app, &loose, &bob).await;
    assert_served(&loose, &answer, &sealed_manifest, REVALIDATE);
    assert_eq!(etag(&answer.1), salt_etag(&sealed_manifest));

    // The thumbnail: a JPEG once opened.
    let sealed_thumb = stored(&app, &file, &StoredObject::Thumb);
    let thumb = listed.thumb_url().expect("thumb url");
    let answer = get(&app, &thumb, &bob).await;
    assert_served(&thumb, &answer, &sealed_thumb, IMMUTABLE);
    assert_eq!(etag(&answer.1), salt_etag(&sealed_thumb));
    let jpeg = open_all(&file.dek, &file.id, &Purpose::Thumb, &answer.2).expect("opens");
    assert!(jpeg.starts_with(&[0xff, 0xd8]), "a JPEG");
    let loose = format!("/api/videos/{}/thumb", file.id);
    assert_served(
        &loose,
        &get(&app, &loose, &bob).await,
        &sealed_thumb,
        REVALIDATE,
    );

    // Init and every segment, opened in order: the playable stream processing made.
    let id = RenditionId::parse(&rendition).expect("rendition");
    let uri = paths::init(&file.id, &rendition);
    let init = StoredObject::Init {
        rendition: id.clone(),
    };
    let answer = get(&app, &uri, &bob).await;
    assert_served(&uri, &answer, &stored(&app, &file, &init), IMMUTABLE);
    assert_eq!(etag(&answer.1), format!("\"{rendition}-init\""));
    let purpose = Purpose::init(&rendition).expect("purpose");
    let mut played = open_all(&file.dek, &file.id, &purpose, &answer.2).expect("opens");
    assert!(manifest.segments.len() >= 2, "5 s in segments of about 4 s");
    for (n, segment) in manifest.segments.iter().enumerate() {
        let index = u32::try_from(n).expect("index");
        let uri = paths::segment(&file.id, &rendition, index);
        let object = StoredObject::Segment {
            rendition: id.clone(),
            index,
        };
        let answer = get(&app, &uri, &bob).await;
        assert_served(&uri, &answer, &stored(&app, &file, &object), IMMUTABLE);
        assert_eq!(etag(&answer.1), format!("\"{rendition}-{index}\""));
        assert!(segment
            .file
            .matches(&StreamHeader::parse(&answer.2).expect("header")));
        let purpose = Purpose::segment(&rendition, index).expect("purpose");
        played.extend(open_all(&file.dek, &file.id, &purpose, &answer.2).expect("opens"));
    }
    assert!(played == app.decrypted_rendition(&file, &manifest));
}

#[tokio::test]
async fn a_revisit_costs_no_bytes_and_a_segment_is_served_by_range() {
    let (app, _) = spawn_processing_app().await;
    let alice = app.signed_in("alice", Role::Member).await;
    let (file, manifest) = app.processed_video(&alice, 2).await;
    let listed = summary(&app, &alice, &file.id).await;
    let r = &manifest.rendition;
    let urls = [
        listed.manifest_url().expect("manifest"),
        format!("/api/videos/{}/manifest", file.id),
        listed.thumb_url().expect("thumb"),
        format!("/api/videos/{}/thumb", file.id),
        paths::init(&file.id, r),
        paths::segment(&file.id, r, 0),
    ];
    for uri in &urls {
        let (status, headers, body) = get(&app, uri, &alice).await;
        assert_eq!(status, StatusCode::OK, "{uri}");
        let tag = etag(&headers);
        let cache = headers[header::CACHE_CONTROL].clone();
        let weak = format!("W/{tag}");
        let listed = format!("\"elsewhere\", {tag}");
        for held in [tag.as_str(), weak.as_str(), listed.as_str()] {
            let (status, again, empty) = app
                .get_raw(uri, Some(&alice), &[(header::IF_NONE_MATCH, held)])
                .await;
            assert_eq!(status, StatusCode::NOT_MODIFIED, "{uri} with {held}");
            assert!(empty.is_empty(), "a 304 has no body");
            assert_eq!(again[header::ETAG], tag.as_str());
            assert_eq!(again[header::CACHE_CONTROL], cache);
        }
        let (status, _, fresh) = app
            .get_raw(uri, Some(&alice), &[(header::IF_NONE_MATCH, "\"stale\"")])
            .await;
        assert_eq!(status, StatusCode::OK, "{uri} with a stale tag");
        assert_eq!(fresh, body);
    }

    // Seeking: a part of a segment, the tail, and ranges that cannot be met.
    let uri = paths::segment(&file.id, r, 0);
    let (_, _, whole) = get(&app, &uri, &alice).await;
    let range = |value: &'static str| [(header::RANGE, value)];
    let (status, headers, part) = app
        .get_raw(&uri, Some(&alice), &range("bytes=100-199"))
        .await;
    assert_eq!(status, StatusCode::PARTIAL_CONTENT);
    assert_eq!(part, whole[100..200]);
    assert_eq!(
        headers[header::CONTENT_RANGE],
        format!("bytes 100-199/{}", whole.len())
    );
    assert_eq!(headers[header::CONTENT_LENGTH], "100");
    assert_eq!(headers[header::CACHE_CONTROL], IMMUTABLE);
    let (status, _, tail) = app.get_raw(&uri, Some(&alice), &range("bytes=-16")).await;
    assert_eq!(status, StatusCode::PARTIAL_CONTENT);
    assert_eq!(tail, whole[whole.len() - 16..]);
    let beyond = format!("bytes={}-", whole.len());
    for bad in [beyond.as_str(), "bytes=0-1,5-6", "lines=1-2"] {
        let (status, headers, _) = app
            .get_raw(&uri, Some(&alice), &[(header::RANGE, bad)])
            .await;
        assert_eq!(status, StatusCode::RANGE_NOT_SATISFIABLE, "{bad}");
        assert_eq!(
            headers[header::CONTENT_RANGE],
            format!("bytes */{}", whole.len())
        );
    }
}

/// The status and error message of a GET.
async fn error_of(app: &TestApp, uri: &str, cookie: &str) -> (StatusCode, String) {
    let (status, _, body) = get(app, uri, cookie).await;
    let body = json(&body);
    (status, message(&body).to_owned())
}

/// The four file URLs of `video` under `rendition`, segment `n`.
fn file_urls(video: &impl std::fmt::Display, rendition: &str, n: &str) -> [String; 4] {
    [
        format!("/api/videos/{video}/manifest?rendition={rendition}"),
        format!("/api/videos/{video}/thumb?rendition={rendition}"),
        format!("/api/videos/{video}/renditions/{rendition}/init"),
        format!("/api/videos/{video}/renditions/{rendition}/segments/{n}"),
    ]
}

async fn set_status(app: &TestApp, video: &VideoId, status: &str) {
    sqlx::query("UPDATE videos SET status = $1 WHERE id = $2")
        .bind(status)
        .bind(video.to_string())
        .execute(&app.state.db)
        .await
        .expect("update");
}

#[tokio::test]
async fn videos_with_nothing_to_play_and_malformed_requests_get_clear_errors() {
    let (app, _) = spawn_processing_app().await;
    let alice = app.signed_in("alice", Role::Member).await;
    let bob = app.signed_in("bob", Role::Member).await;
    let (file, manifest) = app.processed_video(&alice, 2).await;
    let r = manifest.rendition.as_str();

    // Malformed path parts and queries: 400, saying what is wrong.
    for (uri, says) in [
        ("/api/videos/nothex/manifest".to_owned(), "not a video id"),
        (
            format!("/api/videos/{}/manifest?rendition=..%2F..", file.id),
            "not a rendition id",
        ),
        (
            format!("/api/videos/{}/thumb?rendition=0123", file.id),
            "not a rendition id",
        ),
        (
            format!("/api/videos/{}/renditions/ABCDEF0123456789/init", file.id),
            "not a rendition id",
        ),
        (
            format!("/api/videos/{}/renditions/{r}/segments/01", file.id),
            "not a segment number",
        ),
        (
            format!("/api/videos/{}/renditions/{r}/segments/-1", file.id),
            "not a segment number",
        ),
        (
            format!(
                "/api/videos/{}/renditions/{r}/segments/99999999999",
                file.id
            ),
            "not a segment number",
        ),
    ] {
        let (status, text) = error_of(&app, &uri, &bob).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{uri}: {text}");
        assert!(text.contains(says), "{uri}: {text}");
    }

    // No such video; a rendition that is not the published one; past the last segment.
    for uri in file_urls(&VideoId::random().expect("id"), r, "0") {
        assert_eq!(
            error_of(&app, &uri, &bob).await,
            (StatusCode::NOT_FOUND, "No such video.".to_owned()),
            "{uri}"
        );
    }
    let other = RenditionId::generate().expect("rendition").to_string();
    for uri in file_urls(&file.id, &other, "0") {
        assert_eq!(
            error_of(&app, &uri, &bob).await,
            (
                StatusCode::NOT_FOUND,
                "That rendition is not this video's current one.".to_owned()
            ),
            "{uri}"
        );
    }
    let count = manifest.segments.len();
    let past = paths::segment(&file.id, r, u32::try_from(count).expect("count"));
    assert_eq!(
        error_of(&app, &past, &bob).await,
        (
            StatusCode::NOT_FOUND,
            format!("This video has no segment {count}.")
        )
    );

    // Processing that found no thumbnail leaves `thumb_path` empty (simulated here).
    sqlx::query("UPDATE videos SET thumb_path = NULL WHERE id = $1")
        .bind(file.id.to_string())
        .execute(&app.state.db)
        .await
        .expect("update");
    assert!(!summary(&app, &bob, &file.id).await.has_thumb);
    assert_eq!(
        error_of(&app, &format!("/api/videos/{}/thumb", file.id), &bob).await,
        (
            StatusCode::NOT_FOUND,
            "This video has no thumbnail.".to_owned()
        )
    );

    // Being processed (again): nothing to play, and the listing offers no rendition.
    set_status(&app, &file.id, "processing").await;
    for uri in file_urls(&file.id, r, "0") {
        assert_eq!(
            error_of(&app, &uri, &bob).await,
            (
                StatusCode::CONFLICT,
                "This video is not ready to play yet: it is being processed.".to_owned()
            ),
            "{uri}"
        );
    }
    let listed = summary(&app, &bob, &file.id).await;
    assert_eq!((listed.rendition, listed.duration_ms), (None, None));
    set_status(&app, &file.id, "ready").await;

    // Uploaded and waiting, then failed for good (not a video): 409 with the reason.
    let (junk, job) = app.upload_video(&alice, vec![7u8; 5000]).await;
    let waiting = format!("/api/videos/{}/manifest", junk.id);
    assert_eq!(
        error_of(&app, &waiting, &bob).await,
        (
            StatusCode::CONFLICT,
            "This video is not ready to play yet: it is waiting to be processed.".to_owned()
        )
    );
    let (workers, _) = app.start_workers(1);
    let end = app.wait_final(&alice, job).await;
    workers.cancel();
    assert_eq!(end["status"], "failed", "{end}");
    for uri in file_urls(&junk.id, r, "0") {
        assert_eq!(
            error_of(&app, &uri, &bob).await,
            (
                StatusCode::CONFLICT,
                "This video is not ready to play yet: processing it failed.".to_owned()
            ),
            "{uri}"
        );
    }

    // An unfinished upload: its uploader is told, anyone else does not see it.
    let uploading = SealedFile::new(100);
    let (status, _) = app.create_upload(&alice, &uploading).await;
    assert_eq!(status, StatusCode::CREATED);
    for uri in file_urls(&uploading.id, r, "0") {
        let (status, text) = error_of(&app, &uri, &alice).await;
        assert_eq!(status, StatusCode::CONFLICT, "{uri}");
        assert!(text.contains("still being uploaded"), "{uri}: {text}");
        assert_eq!(
            error_of(&app, &uri, &bob).await,
            (StatusCode::NOT_FOUND, "No such video.".to_owned()),
            "{uri}"
        );
    }
    let original = format!("/api/videos/{}/original", uploading.id);
    assert_eq!(
        error_of(&app, &original, &bob).await.0,
        StatusCode::NOT_FOUND
    );

    // Signed out: 401 before anything else.
    for uri in file_urls(&file.id, r, "0") {
        let (status, _, _) = app.get_raw(&uri, None, &[]).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{uri}");
    }
}

async fn user_id(app: &TestApp, username: &str) -> i64 {
    sqlx::query_scalar("SELECT id FROM users WHERE username = $1")
        .bind(username)
        .fetch_one(&app.state.db)
        .await
        .expect("user")
}

/// A row as an upload leaves it (quicker than real uploads, and with the creation time chosen).
async fn insert_video(app: &TestApp, owner: i64, id: &VideoId, created_at: i64) {
    sqlx::query(
        "INSERT INTO videos (id, owner_id, status, size_bytes, created_at, updated_at, wrapped_dek,
                             title_sealed, stream_header, chunk_size, chunk_count)
         VALUES ($1, $2, 'uploaded', 1, $3, $4, $5, $6, $7, 4194304, 1)",
    )
    .bind(id.to_string())
    .bind(owner)
    .bind(created_at)
    .bind(created_at)
    .bind(vec![0u8; 60])
    .bind(vec![0u8; 1])
    .bind(vec![0u8; 41])
    .execute(&app.state.db)
    .await
    .expect("insert");
}

async fn page(app: &TestApp, cookie: &str, uri: &str) -> VideoPage {
    let (status, _, body) = app.call(Method::GET, uri, Some(cookie), None).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    serde_json::from_value(body).expect("a page")
}

#[tokio::test]
async fn pages_neither_repeat_nor_skip_nor_take_in_videos_added_meanwhile() {
    let app = TestApp::spawn().await;
    let alice = app.signed_in("alice", Role::Member).await;
    let owner = user_id(&app, "alice").await;
    // Mostly in one second, so pages end inside it, where the id breaks ties.
    let second = 1_800_000_000;
    let mut originals = Vec::new();
    for n in 0..11 {
        let id = VideoId::random().expect("id");
        insert_video(&app, owner, &id, second - i64::from(n % 4 == 3)).await;
        originals.push((second - i64::from(n % 4 == 3), id));
    }
    originals.sort();
    originals.reverse();
    let originals: Vec<VideoId> = originals.into_iter().map(|(_, id)| id).collect();

    let mut seen = Vec::new();
    let mut added = Vec::new();
    let mut uri = "/api/videos?limit=3".to_owned();
    for round in 1u8.. {
        let page = page(&app, &alice, &uri).await;
        assert!(page.videos.len() <= 3);
        seen.extend(page.videos.iter().map(|v| v.video_id));
        let Some(cursor) = page.next_cursor else {
            break;
        };
        // Uploads arriving meanwhile, in the very second the page ended in and with ids that
        // sort below every other (so just after the cursor), and newer ones.
        let mut low = [0u8; 16];
        low[15] = round;
        for (id, at) in [
            (VideoId::from_bytes(low), second),
            (VideoId::random().expect("id"), second - 1),
            (VideoId::random().expect("id"), second + 60),
        ] {
            insert_video(&app, owner, &id, at).await;
            added.push(id);
        }
        uri = format!("/api/videos?limit=3&cursor={cursor}");
    }
    assert_eq!(
        seen, originals,
        "every video once, newest first, none added"
    );

    // A fresh listing shows everything.
    let all = page(&app, &alice, "/api/videos?limit=200").await;
    assert_eq!(all.videos.len(), originals.len() + added.len());
    assert!(all.next_cursor.is_none());
}
