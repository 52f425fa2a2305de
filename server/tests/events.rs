//! Live events over a real WebSocket on a real socket: members only, our Origin only, and the
//! events of a processed upload arrive in order.

mod common;

use std::net::SocketAddr;
use std::time::Duration;

use cloister_shared::api::{Event, EventFrame, Role};
use common::processing::{slow_clip, spawn_processing_app};
use futures_util::StreamExt;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::HeaderValue;
use tokio_tungstenite::tungstenite::Message;

fn request(
    addr: SocketAddr,
    cookie: Option<&str>,
    origin: Option<&str>,
) -> tokio_tungstenite::tungstenite::handshake::client::Request {
    let mut request = format!("ws://{addr}/api/events")
        .into_client_request()
        .expect("request");
    if let Some(cookie) = cookie {
        request
            .headers_mut()
            .insert("cookie", HeaderValue::from_str(cookie).expect("cookie"));
    }
    if let Some(origin) = origin {
        request
            .headers_mut()
            .insert("origin", HeaderValue::from_str(origin).expect("origin"));
    }
    request
}

fn refused_with(result: Result<impl Sized, tokio_tungstenite::tungstenite::Error>) -> u16 {
    match result {
        Err(tokio_tungstenite::tungstenite::Error::Http(response)) => response.status().as_u16(),
        Err(other) => panic!("unexpected error {other}"),
        Ok(_) => panic!("the handshake was accepted"),
    }
}

#[tokio::test]
async fn only_members_on_our_origin_may_open_the_socket() {
    let (app, _) = spawn_processing_app().await;
    let cookie = app.signed_in("ann", Role::Member).await;
    let addr = app.serve_on_loopback().await;
    let anonymous = tokio_tungstenite::connect_async(request(addr, None, None)).await;
    assert_eq!(refused_with(anonymous), 401);
    let cross_site = tokio_tungstenite::connect_async(request(
        addr,
        Some(&cookie),
        Some("https://evil.example"),
    ))
    .await;
    assert_eq!(refused_with(cross_site), 403);
    let ours = format!("http://{addr}");
    tokio_tungstenite::connect_async(request(addr, Some(&cookie), Some(&ours)))
        .await
        .expect("a member on our origin is let in");
}

#[tokio::test]
async fn a_processed_upload_is_told_over_the_socket_in_order() {
    let (app, _) = spawn_processing_app().await;
    let cookie = app.signed_in("ann", Role::Member).await;
    let addr = app.serve_on_loopback().await;
    let (mut socket, _) = tokio_tungstenite::connect_async(request(addr, Some(&cookie), None))
        .await
        .expect("connect");
    let (workers, _) = app.start_workers(1);
    // A transcode of several seconds: progress is written once a second, so a clip processed in
    // under a second would (rightly) send none.
    let (file, job) = app.upload_video(&cookie, slow_clip(30)).await;

    let mut frames: Vec<EventFrame> = Vec::new();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(90);
    while !frames
        .iter()
        .any(|f| matches!(f.event, Event::JobDone { .. }))
    {
        let message = tokio::time::timeout_at(deadline, socket.next())
            .await
            .expect("events before the deadline")
            .expect("socket open")
            .expect("frame");
        if let Message::Text(text) = message {
            frames.push(serde_json::from_str(&text).expect("an EventFrame"));
        }
    }
    assert!(
        frames.windows(2).all(|w| w[0].seq < w[1].seq),
        "seq increases"
    );
    assert!(frames
        .iter()
        .all(|f| f.event.job_id() == Some(job) && f.event.video_id() == Some(file.id)));
    let kinds: Vec<&str> = frames
        .iter()
        .map(|f| match f.event {
            Event::JobQueued { .. } => "queued",
            Event::JobStarted { .. } => "started",
            Event::JobProgress { .. } => "progress",
            Event::JobDone { .. } => "done",
            _ => "other",
        })
        .collect();
    assert_eq!(kinds.first(), Some(&"queued"), "{kinds:?}");
    assert_eq!(kinds.get(1), Some(&"started"), "{kinds:?}");
    assert_eq!(kinds.last(), Some(&"done"), "{kinds:?}");
    assert!(
        kinds.iter().filter(|k| **k == "progress").count() >= 1,
        "{kinds:?}"
    );
    let percents: Vec<f32> = frames
        .iter()
        .filter_map(|f| match f.event {
            Event::JobProgress { percent, .. } => Some(percent),
            _ => None,
        })
        .collect();
    assert!(
        percents.windows(2).all(|w| w[0] <= w[1]),
        "progress never goes back: {percents:?}"
    );
    workers.cancel();
}

#[tokio::test]
async fn a_handshake_with_a_malformed_key_is_refused_with_400() {
    let (app, _) = spawn_processing_app().await;
    let cookie = app.signed_in("ann", Role::Member).await;
    let addr = app.serve_on_loopback().await;
    // Not base64; base64 of 18 bytes (24 characters, but not 16 bytes); 16 bytes with a
    // character too many; and none at all.
    for key in [
        Some("not a websocket key"),
        Some("AAAAAAAAAAAAAAAAAAAAAAAA"),
        Some("AAAAAAAAAAAAAAAAAAAAAA==="),
        None,
    ] {
        let mut request = request(addr, Some(&cookie), None);
        match key {
            Some(key) => {
                request
                    .headers_mut()
                    .insert("sec-websocket-key", HeaderValue::from_static(key));
            }
            None => {
                request.headers_mut().remove("sec-websocket-key");
            }
        }
        let status = match key {
            // tungstenite will not send a request without a key: ask over plain HTTP.
            None => raw_status(addr, &cookie).await,
            Some(_) => refused_with(tokio_tungstenite::connect_async(request).await),
        };
        assert_eq!(status, 400, "key {key:?}");
    }
    // A well-formed key (16 bytes) is still let in.
    let mut request = request(addr, Some(&cookie), None);
    request.headers_mut().insert(
        "sec-websocket-key",
        HeaderValue::from_static("dGhlIHNhbXBsZSBub25jZQ=="),
    );
    tokio_tungstenite::connect_async(request)
        .await
        .expect("a valid key is upgraded");
}

/// The status line of an upgrade request that carries no `Sec-WebSocket-Key`.
async fn raw_status(addr: SocketAddr, cookie: &str) -> u16 {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut stream = tokio::net::TcpStream::connect(addr).await.expect("connect");
    let request = format!(
        "GET /api/events HTTP/1.1\r\nHost: {addr}\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\
         Sec-WebSocket-Version: 13\r\nCookie: {cookie}\r\n\r\n"
    );
    stream.write_all(request.as_bytes()).await.expect("send");
    let mut head = [0u8; 12];
    tokio::time::timeout(Duration::from_secs(10), stream.read_exact(&mut head))
        .await
        .expect("an answer in time")
        .expect("read");
    String::from_utf8_lossy(&head[9..12])
        .parse()
        .expect("a status")
}
