//! Server-side decrypted downloads, in process against real SQLite and real sealed files: the
//! plaintext and its headers, Range, the D-slot limit under simultaneous requests, the queue and
//! its personal notification over a real WebSocket, cancel, expiry, and who may reach what.

mod common;

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use axum::http::{header, Method, StatusCode};
use cloister_shared::api::downloads::DOWNLOAD_UNAVAILABLE_MESSAGE;
use cloister_shared::api::{EventFrame, Role, VideoSummary};
use common::processing::{busy, spawn_processing_app};
use common::uploads::{SealedFile, CHUNK};
use common::{message, TestApp};
use futures_util::StreamExt;
use serde_json::{json, Value};
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::HeaderValue;
use tokio_tungstenite::tungstenite::Message;

/// Uploads a file of `len` patterned bytes (no processing needed: the original is what is
/// downloaded).
async fn uploaded(app: &TestApp, cookie: &str, len: usize) -> SealedFile {
    let plain = SealedFile::new(len).plain;
    app.upload_video(cookie, plain).await.0
}

async fn start(app: &TestApp, cookie: &str, file: &SealedFile, queue: bool) -> (StatusCode, Value) {
    let (status, _, body) = app
        .call(
            Method::POST,
            &format!("/api/videos/{}/download", file.id),
            Some(cookie),
            Some(json!({ "dek": file.dek_hex(), "file_name": "Été à la mer.mp4", "queue": queue })),
        )
        .await;
    (status, body)
}

async fn fetch(
    app: &TestApp,
    cookie: &str,
    url: &str,
    range: Option<&str>,
) -> (StatusCode, axum::http::HeaderMap, Vec<u8>) {
    let headers: Vec<(header::HeaderName, &str)> =
        range.map(|r| (header::RANGE, r)).into_iter().collect();
    app.get_raw(url, Some(cookie), &headers).await
}

fn url_of(body: &Value) -> String {
    body["url"]
        .as_str()
        .expect("a ready download has a url")
        .to_owned()
}

async fn held_key(app: &TestApp, id: &str) -> Option<Vec<u8>> {
    sqlx::query_scalar("SELECT wrapped_dek FROM downloads WHERE id = $1")
        .bind(id)
        .fetch_one(&app.state.db)
        .await
        .expect("download row")
}

#[tokio::test]
async fn a_download_streams_the_decrypted_original_once() {
    let (app, _) = spawn_processing_app().await;
    let cookie = app.signed_in("ann", Role::Member).await;
    let file = uploaded(&app, &cookie, 2 * CHUNK + 12_345).await;

    let (status, body) = start(&app, &cookie, &file, false).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    assert_eq!(body["state"], "ready");
    let id = body["download_id"].as_str().expect("id").to_owned();
    assert!(
        held_key(&app, &id).await.is_some(),
        "the key is held while ready"
    );

    let (status, headers, bytes) = fetch(&app, &cookie, &url_of(&body), None).await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        bytes == file.plain,
        "the decrypted bytes are the original's"
    );
    assert_eq!(
        headers[header::CONTENT_LENGTH],
        file.plain.len().to_string().as_str()
    );
    // Named after the video's own (sealed) file name, not the name the request offered.
    assert_eq!(
        headers[header::CONTENT_DISPOSITION],
        format!(
            "attachment; filename=\"{0}\"; filename*=UTF-8''{0}",
            file.name
        )
        .as_str()
    );
    assert_eq!(headers[header::CACHE_CONTROL], "no-store");

    // Used up: the link is gone and the server no longer holds the key.
    let (status, _, body) = fetch(&app, &cookie, &format!("/api/downloads/{id}/file"), None).await;
    assert_eq!(
        status,
        StatusCode::GONE,
        "{}",
        String::from_utf8_lossy(&body)
    );
    assert!(
        held_key(&app, &id).await.is_none(),
        "the key is erased when done"
    );
    let (_, _, body) = app
        .call(
            Method::GET,
            &format!("/api/downloads/{id}"),
            Some(&cookie),
            None,
        )
        .await;
    assert_eq!(body["state"], "done");
}

#[tokio::test]
async fn a_range_returns_the_right_bytes_and_the_rest_resumes() {
    let (app, _) = spawn_processing_app().await;
    let cookie = app.signed_in("ann", Role::Member).await;
    let file = uploaded(&app, &cookie, 3 * CHUNK - 7).await;
    let (_, body) = start(&app, &cookie, &file, false).await;
    let url = url_of(&body);

    // Across a chunk boundary, not reaching the end: the link stays usable.
    let (from, to) = (CHUNK - 1000, CHUNK + 5000);
    let (status, headers, bytes) =
        fetch(&app, &cookie, &url, Some(&format!("bytes={from}-{to}"))).await;
    assert_eq!(status, StatusCode::PARTIAL_CONTENT);
    assert_eq!(
        headers[header::CONTENT_RANGE],
        format!("bytes {from}-{to}/{}", file.plain.len()).as_str()
    );
    assert!(bytes == file.plain[from..=to]);

    // The rest, as a resuming client asks for it.
    let (status, _, bytes) = fetch(&app, &cookie, &url, Some(&format!("bytes={}-", to + 1))).await;
    assert_eq!(status, StatusCode::PARTIAL_CONTENT);
    assert!(bytes == file.plain[to + 1..]);
    let (status, _, _) = fetch(&app, &cookie, &url, None).await;
    assert_eq!(status, StatusCode::GONE, "the last byte went out: used up");

    let file = uploaded(&app, &cookie, 1000).await;
    let (_, body) = start(&app, &cookie, &file, false).await;
    let (status, _, _) = fetch(&app, &cookie, &url_of(&body), Some("bytes=5000-6000")).await;
    assert_eq!(status, StatusCode::RANGE_NOT_SATISFIABLE);
}

#[tokio::test]
async fn d_plus_one_simultaneous_requests_give_the_last_the_queue_choice() {
    let (app, _) = spawn_processing_app().await;
    let d = app.state.config.limits.max_downloads as usize;
    let cookie = app.signed_in("ann", Role::Member).await;
    let mut files = Vec::new();
    for _ in 0..=d {
        files.push(uploaded(&app, &cookie, 1000).await);
    }
    let answers =
        futures_util::future::join_all(files.iter().map(|f| start(&app, &cookie, f, false))).await;
    let ready = answers
        .iter()
        .filter(|(s, _)| *s == StatusCode::CREATED)
        .count();
    let busy: Vec<_> = answers
        .iter()
        .filter(|(s, _)| *s == StatusCode::SERVICE_UNAVAILABLE)
        .collect();
    assert_eq!(ready, d, "{answers:?}");
    assert_eq!(busy.len(), 1, "{answers:?}");
    assert_eq!(busy[0].1["error"]["code"], "download_busy");
    assert_eq!(message(&busy[0].1), DOWNLOAD_UNAVAILABLE_MESSAGE);

    // "Queue download": queued behind the others, first in line.
    let last = files
        .iter()
        .zip(&answers)
        .find(|(_, (s, _))| *s == StatusCode::SERVICE_UNAVAILABLE)
        .map(|(f, _)| f)
        .expect("the refused one");
    let (status, body) = start(&app, &cookie, last, true).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    assert_eq!(body["state"], "queued");
    assert_eq!(body["queue_position"], 1);
    let (_, _, load) = app
        .call(Method::GET, "/api/status/load", Some(&cookie), None)
        .await;
    assert_eq!(load["active_downloads"], d);
}

async fn socket(
    addr: SocketAddr,
    cookie: &str,
) -> tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>> {
    let mut request = format!("ws://{addr}/api/events")
        .into_client_request()
        .expect("request");
    let headers = request.headers_mut();
    headers.insert("cookie", HeaderValue::from_str(cookie).expect("cookie"));
    headers.insert(
        "origin",
        HeaderValue::from_str(&format!("http://{addr}")).expect("origin"),
    );
    tokio_tungstenite::connect_async(request)
        .await
        .expect("socket")
        .0
}

/// The next frame naming a download, within `limit`.
async fn next_download_frame(
    socket: &mut tokio_tungstenite::WebSocketStream<
        tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>,
    >,
    limit: Duration,
) -> Option<EventFrame> {
    let deadline = Instant::now() + limit;
    loop {
        let left = deadline.checked_duration_since(Instant::now())?;
        let Ok(Some(Ok(Message::Text(text)))) = tokio::time::timeout(left, socket.next()).await
        else {
            return None;
        };
        if text.contains("\"download_") {
            return Some(serde_json::from_str(&text).expect("a frame"));
        }
    }
}

#[tokio::test]
async fn a_queued_download_is_notified_to_its_owner_alone_and_works() {
    let (app, readings) = spawn_processing_app().await;
    let addr = app.serve_on_loopback().await;
    cloister::downloads::spawn_dispatcher(app.state.clone());
    let ann = app.signed_in("ann", Role::Member).await;
    let bob = app.signed_in("bob", Role::Member).await;
    let file = uploaded(&app, &ann, CHUNK + 99).await;
    let mut ann_socket = socket(addr, &ann).await;
    let mut bob_socket = socket(addr, &bob).await;

    readings.set(busy());
    let (status, body) = start(&app, &ann, &file, false).await;
    assert_eq!(
        status,
        StatusCode::SERVICE_UNAVAILABLE,
        "a closed gate: {body}"
    );
    let (status, body) = start(&app, &ann, &file, true).await;
    assert_eq!(
        (status, body["state"].as_str()),
        (StatusCode::CREATED, Some("queued"))
    );
    let id = body["download_id"].as_str().expect("id").to_owned();
    let (status, _, _) = fetch(&app, &ann, &format!("/api/downloads/{id}/file"), None).await;
    assert_eq!(
        status,
        StatusCode::CONFLICT,
        "a queued link does not work yet"
    );

    readings.set(cloister::gate::FixedReadings::idle());
    let frame = next_download_frame(&mut ann_socket, Duration::from_secs(15))
        .await
        .expect("the owner is told the download is ready");
    assert_eq!(
        frame.seq, 0,
        "a personal frame stands outside the global order"
    );
    let cloister_shared::api::Event::DownloadReady {
        download_id,
        url,
        file_name,
        ..
    } = frame.event
    else {
        panic!("not a ready event: {frame:?}");
    };
    assert_eq!(
        (download_id.as_str(), file_name.as_str()),
        (id.as_str(), file.name.as_str())
    );
    let (status, _, bytes) = fetch(&app, &ann, &url, None).await;
    assert_eq!(status, StatusCode::OK);
    assert!(bytes == file.plain);
    assert!(
        next_download_frame(&mut bob_socket, Duration::from_millis(500))
            .await
            .is_none(),
        "another member hears nothing of it"
    );
}

#[tokio::test]
async fn cancelling_frees_the_slot_and_forgets_the_key() {
    let (app, readings) = spawn_processing_app().await;
    let cookie = app.signed_in("ann", Role::Member).await;
    let d = app.state.config.limits.max_downloads as usize;
    let mut ids = Vec::new();
    let mut files = Vec::new();
    for _ in 0..=d {
        let file = uploaded(&app, &cookie, 1000).await;
        let (_, body) = start(&app, &cookie, &file, true).await;
        ids.push(body["download_id"].as_str().expect("id").to_owned());
        files.push(file);
    }
    // The last one queued; cancel it, then a ready one.
    readings.set(busy());
    for id in [&ids[d], &ids[0]] {
        let (status, _, body) = app
            .call(
                Method::POST,
                &format!("/api/downloads/{id}/cancel"),
                Some(&cookie),
                None,
            )
            .await;
        assert_eq!(
            (status, body["state"].as_str()),
            (StatusCode::OK, Some("cancelled")),
            "{body}"
        );
        assert!(held_key(&app, id).await.is_none());
    }
    let (status, _, _) = fetch(
        &app,
        &cookie,
        &format!("/api/downloads/{}/file", ids[0]),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::GONE);
    let (status, _, _) = app
        .call(
            Method::POST,
            &format!("/api/downloads/{}/cancel", ids[0]),
            Some(&cookie),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::CONFLICT, "already ended");
    // A freed slot: a new request is ready at once once the gate opens.
    readings.set(cloister::gate::FixedReadings::idle());
    let file = uploaded(&app, &cookie, 1000).await;
    let (status, body) = start(&app, &cookie, &file, false).await;
    assert_eq!(
        (status, body["state"].as_str()),
        (StatusCode::CREATED, Some("ready")),
        "{body}"
    );
}

#[tokio::test]
async fn an_unused_link_expires_and_its_owner_is_told() {
    let readings = std::sync::Arc::new(cloister::gate::FixedReadings::new(
        cloister::gate::FixedReadings::idle(),
    ));
    let monitor = readings.clone();
    let app = TestApp::spawn_with_state(
        |config| {
            config.limits.download_link_secs = 1;
            config.gate.recheck_secs = 1;
        },
        move |state| state.core.gate = cloister::gate::Gate::new(monitor, state.config.gate.clone()),
    )
    .await;
    let addr = app.serve_on_loopback().await;
    cloister::downloads::spawn_dispatcher(app.state.clone());
    let cookie = app.signed_in("ann", Role::Member).await;
    let file = uploaded(&app, &cookie, 1000).await;
    let mut events = socket(addr, &cookie).await;
    let (_, body) = start(&app, &cookie, &file, false).await;
    let frame = next_download_frame(&mut events, Duration::from_secs(10))
        .await
        .expect("told");
    assert!(
        matches!(
            frame.event,
            cloister_shared::api::Event::DownloadExpired { .. }
        ),
        "{frame:?}"
    );
    let (status, _, _) = fetch(&app, &cookie, &url_of(&body), None).await;
    assert_eq!(status, StatusCode::GONE);
    assert!(held_key(&app, body["download_id"].as_str().expect("id"))
        .await
        .is_none());
}

#[tokio::test]
async fn bad_requests_get_clear_answers_and_downloads_are_private() {
    let (app, _) = spawn_processing_app().await;
    let ann = app.signed_in("ann", Role::Member).await;
    let bob = app.signed_in("bob", Role::Member).await;
    let file = uploaded(&app, &ann, 1000).await;
    let path = format!("/api/videos/{}/download", file.id);

    let (status, _, _) = app
        .call(
            Method::POST,
            &path,
            None,
            Some(json!({"dek": file.dek_hex(), "file_name": "a"})),
        )
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let wrong = hex::encode([9u8; 32]);
    let (status, _, body) = app
        .call(
            Method::POST,
            &path,
            Some(&ann),
            Some(json!({"dek": wrong, "file_name": "a"})),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(
        message(&body),
        "That key does not open this video. Check passphrase."
    );
    let (status, _, _) = app
        .call(
            Method::POST,
            &path,
            Some(&ann),
            Some(json!({"dek": "zz", "file_name": "a"})),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let (status, _, _) = app
        .call(
            Method::POST,
            "/api/videos/nope/download",
            Some(&ann),
            Some(json!({"dek": file.dek_hex(), "file_name": "a"})),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let missing = format!("/api/videos/{}/download", "ab".repeat(16));
    let (status, _, _) = app
        .call(
            Method::POST,
            &missing,
            Some(&ann),
            Some(json!({"dek": file.dek_hex(), "file_name": "a"})),
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    // Bob may download the group's video, but Ann's download is hers alone.
    let (_, body) = start(&app, &ann, &file, false).await;
    let id = body["download_id"].as_str().expect("id");
    for uri in [
        format!("/api/downloads/{id}"),
        format!("/api/downloads/{id}/file"),
    ] {
        let (status, _, _) = fetch(&app, &bob, &uri, None).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{uri}");
        let (status, _, _) = fetch(&app, "cloister_session=nope", &uri, None).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{uri}");
    }
    let (status, _, _) = app
        .call(
            Method::POST,
            &format!("/api/downloads/{id}/cancel"),
            Some(&bob),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _, _) = fetch(&app, &ann, "/api/downloads/..%2Fx/file", None).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let (_, _, list) = app
        .call(Method::GET, "/api/downloads", Some(&bob), None)
        .await;
    assert_eq!(list["downloads"], json!([]));
    // Asking again for the same video gives the same download, not a second slot.
    let (status, again) = start(&app, &ann, &file, false).await;
    assert_eq!(
        (status, &again["download_id"]),
        (StatusCode::OK, &body["download_id"])
    );
}

#[tokio::test]
async fn the_video_carries_its_original_file_name_and_description() {
    let (app, _) = spawn_processing_app().await;
    let cookie = app.signed_in("ann", Role::Member).await;
    let file = uploaded(&app, &cookie, 1000).await;
    let (_, _, body) = app
        .call(
            Method::GET,
            &format!("/api/videos/{}", file.id),
            Some(&cookie),
            None,
        )
        .await;
    let video: VideoSummary = serde_json::from_value(body).expect("summary");
    assert_eq!(
        video.open_file_name(&file.library_key).as_deref(),
        Some(file.name.as_str())
    );
    assert_eq!(
        video.open_description(&file.library_key).as_deref(),
        Some("At the sea")
    );
    let (_, _, page) = app
        .call(Method::GET, "/api/videos", Some(&cookie), None)
        .await;
    assert!(
        page["videos"][0].get("file_name_sealed").is_none(),
        "pages stay small"
    );
}

#[tokio::test]
async fn a_download_queued_for_a_day_expires_and_its_key_is_erased() {
    let (app, readings) = spawn_processing_app().await;
    let addr = app.serve_on_loopback().await;
    cloister::downloads::spawn_dispatcher(app.state.clone());
    let cookie = app.signed_in("ann", Role::Member).await;
    let old = uploaded(&app, &cookie, 1000).await;
    let young = uploaded(&app, &cookie, 1000).await;
    let mut events = socket(addr, &cookie).await;

    readings.set(busy());
    let mut ids = Vec::new();
    for file in [&old, &young] {
        let (status, body) = start(&app, &cookie, file, true).await;
        assert_eq!(
            (status, body["state"].as_str()),
            (StatusCode::CREATED, Some("queued")),
            "{body}"
        );
        ids.push(body["download_id"].as_str().expect("id").to_owned());
    }
    // The first has waited a day and a minute, the server busy all along.
    sqlx::query("UPDATE downloads SET created_at = created_at - $1 WHERE id = $2")
        .bind(24 * 3600 + 60)
        .bind(&ids[0])
        .execute(&app.state.db)
        .await
        .expect("age the download");

    let frame = next_download_frame(&mut events, Duration::from_secs(15))
        .await
        .expect("the owner is told");
    let cloister_shared::api::Event::DownloadExpired {
        download_id,
        file_name,
        ..
    } = frame.event
    else {
        panic!("not an expiry: {frame:?}");
    };
    assert_eq!(
        (download_id.as_str(), file_name.as_str()),
        (ids[0].as_str(), old.name.as_str())
    );
    let state_of = |id: String| {
        let app = &app;
        let cookie = &cookie;
        async move {
            let (_, _, body) = app
                .call(
                    Method::GET,
                    &format!("/api/downloads/{id}"),
                    Some(cookie),
                    None,
                )
                .await;
            body["state"].as_str().unwrap_or_default().to_owned()
        }
    };
    assert_eq!(state_of(ids[0].clone()).await, "expired");
    assert!(held_key(&app, &ids[0]).await.is_none(), "its key is erased");
    assert_eq!(
        state_of(ids[1].clone()).await,
        "queued",
        "a younger one waits on"
    );
    assert!(held_key(&app, &ids[1]).await.is_some());
}

/// Everything the app's database stores: on SQLite its files (database, WAL) read whole; on
/// PostgreSQL every row of every table as text (byte columns in hex, which `contains` also
/// looks for).
async fn database_bytes(app: &TestApp) -> Vec<u8> {
    if common::database::on_postgres() {
        let tables: Vec<String> = sqlx::query_scalar(
            "SELECT CAST(table_name AS TEXT) FROM information_schema.tables
             WHERE table_schema = 'public'",
        )
        .fetch_all(&app.state.db)
        .await
        .expect("tables");
        let mut bytes = Vec::new();
        for table in tables {
            let rows: Vec<String> =
                sqlx::query_scalar(&format!("SELECT CAST(t AS TEXT) FROM \"{table}\" t"))
                    .fetch_all(&app.state.db)
                    .await
                    .expect("rows");
            for row in rows {
                bytes.extend(row.into_bytes());
            }
        }
        assert!(!bytes.is_empty(), "the database has rows");
        return bytes;
    }
    let mut bytes = Vec::new();
    for entry in std::fs::read_dir(app.data_dir()).expect("data dir") {
        let path = entry.expect("entry").path();
        let name = path
            .file_name()
            .unwrap_or_default()
            .to_string_lossy()
            .into_owned();
        if name.contains(".db") || name.contains(".sqlite") {
            bytes.extend(std::fs::read(&path).expect("read"));
        }
    }
    assert!(!bytes.is_empty(), "the database files were found");
    bytes
}

/// Whether `needle` is in `haystack`, as it is or in hex.
fn contains(haystack: &[u8], needle: &str) -> bool {
    let hexed = hex::encode(needle);
    [needle.as_bytes(), hexed.as_bytes()].iter().any(|needle| {
        haystack
            .windows(needle.len())
            .any(|window| window == *needle)
    })
}

#[tokio::test]
async fn no_plaintext_file_name_is_stored_and_the_download_keeps_its_name() {
    let (app, readings) = spawn_processing_app().await;
    let cookie = app.signed_in("ann", Role::Member).await;
    let ready = uploaded(&app, &cookie, 1000).await;
    let queued = uploaded(&app, &cookie, 1000).await;
    let offered = "Secret beach party.mp4";
    let mut bodies = Vec::new();
    for (file, queue) in [(&ready, false), (&queued, true)] {
        if queue {
            readings.set(busy());
        }
        let (status, _, body) = app
            .call(
                Method::POST,
                &format!("/api/videos/{}/download", file.id),
                Some(&cookie),
                Some(json!({ "dek": file.dek_hex(), "file_name": offered, "queue": queue })),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
        // Shown under the video's own name while the server holds its key.
        assert_eq!(body["file_name"], file.name.as_str(), "{body}");
        bodies.push(body);
    }
    let (status, headers, _) = fetch(&app, &cookie, &url_of(&bodies[0]), None).await;
    assert_eq!(status, StatusCode::OK);
    assert!(headers[header::CONTENT_DISPOSITION]
        .to_str()
        .expect("ascii")
        .contains(&ready.name));

    let stored = database_bytes(&app).await;
    for name in [offered, ready.name.as_str(), queued.name.as_str()] {
        assert!(!contains(&stored, name), "{name:?} is in the database");
    }
    // Once over, the download is listed without a name: nothing is left to read it with.
    let (_, _, body) = app
        .call(
            Method::GET,
            &format!(
                "/api/downloads/{}",
                bodies[0]["download_id"].as_str().expect("id")
            ),
            Some(&cookie),
            None,
        )
        .await;
    assert_eq!(
        (body["state"].as_str(), body["file_name"].as_str()),
        (Some("done"), Some(""))
    );
}

#[tokio::test]
async fn key_checks_spend_a_members_allowance_and_then_answer_429() {
    let (app, _) = spawn_processing_app().await;
    let ann = app.signed_in("ann", Role::Member).await;
    let bob = app.signed_in("bob", Role::Member).await;
    // The upload's own completion is one of ann's checks.
    let file = uploaded(&app, &ann, 1000).await;
    let path = format!("/api/videos/{}/download", file.id);
    let wrong_key = json!({"dek": hex::encode([9u8; 32]), "file_name": "a"});
    let burst = cloister::key_check::CHECK_BURST as usize;
    let mut refused = 0;
    let mut limited = None;
    for _ in 0..2 * burst {
        let (status, headers, body) = app
            .call(Method::POST, &path, Some(&ann), Some(wrong_key.clone()))
            .await;
        match status {
            StatusCode::BAD_REQUEST => refused += 1,
            StatusCode::TOO_MANY_REQUESTS => {
                limited = Some((headers, body));
                break;
            }
            other => panic!("{other}: {body}"),
        }
    }
    let (headers, body) = limited.expect("a 429 once the allowance is spent");
    assert!(message(&body).starts_with("Too many key checks"), "{body}");
    assert!(headers.contains_key(header::RETRY_AFTER));
    // One check went to the upload; a refill may land while the loop runs.
    assert!(
        (burst - 1..=burst + 2).contains(&refused),
        "{refused} wrong keys checked before the limit"
    );
    let (status, _, _) = app
        .call(Method::POST, &path, Some(&bob), Some(wrong_key))
        .await;
    assert_eq!(
        status,
        StatusCode::BAD_REQUEST,
        "another member is not limited"
    );
}
