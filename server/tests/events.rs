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

/// Two transactions record events at once, and the one that took its number first commits last:
/// the hub still relays both, in order. (On PostgreSQL a row is numbered when inserted, not when
/// committed; the append waits for the earlier transaction so numbers follow commits.)
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn events_committed_out_of_order_are_still_relayed_in_order() {
    let app = common::TestApp::spawn().await;
    app.state.events.spawn_tail(app.state.db.clone());
    let mut frames = app.state.events.subscribe();
    let first = Event::VideoTrashed {
        video_id: cloister_shared::VideoId::from_bytes([1; 16]),
    };
    let second = Event::VideoRestored {
        video_id: cloister_shared::VideoId::from_bytes([2; 16]),
    };

    let mut earlier = app.state.db.begin().await.expect("begin");
    cloister::events::record(&mut earlier, &first, 1)
        .await
        .expect("record");
    let later = {
        let (db, events, second) = (
            app.state.db.clone(),
            app.state.events.clone(),
            second.clone(),
        );
        tokio::spawn(async move {
            let mut tx = db.begin().await.expect("begin");
            cloister::events::record(&mut tx, &second, 2)
                .await
                .expect("record");
            tx.commit().await.expect("commit");
            events.poke();
        })
    };
    // Long enough for the hub to read twice (it reads every 500 ms) while the first is open.
    tokio::time::sleep(Duration::from_millis(1200)).await;
    earlier.commit().await.expect("commit");
    app.state.events.poke();
    later.await.expect("the later transaction");

    let mut relayed = Vec::new();
    while relayed.len() < 2 {
        let frame = tokio::time::timeout(Duration::from_secs(10), frames.recv())
            .await
            .unwrap_or_else(|_| panic!("only {relayed:?} relayed"))
            .expect("frame");
        relayed.push((frame.seq, frame.event.clone()));
    }
    assert!(relayed[0].0 < relayed[1].0, "{relayed:?}");
    assert_eq!(
        relayed.into_iter().map(|(_, e)| e).collect::<Vec<_>>(),
        [first, second]
    );
}
