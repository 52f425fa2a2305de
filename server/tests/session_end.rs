//! A session's open connections end with it, against the real binary on loopback: after
//! sign-out, a password change (`cloister user passwd`, another process) and the removal of the
//! user, the member's open WebSocket is closed and their download stream in progress is cut off
//! — within a bounded wait, well before the file would have finished.

mod common;

use std::time::Duration;

use common::cli::{cloister, run, PASSWORD};
use common::served::{add_member, Member, Served};
use common::uploads::{SealedFile, CHUNK};
use futures_util::StreamExt;
use reqwest::Method;
use tokio::process::Child;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::HeaderValue;
use tokio_tungstenite::tungstenite::Message;

/// Far more than the socket buffers between server and client hold, so a stream that was cut
/// cannot have delivered the whole file anyway.
const SIZE: usize = 12 * CHUNK;
/// How long the connections may take to end (the server re-checks sessions every 2 s).
const BOUND: Duration = Duration::from_secs(15);

type Socket =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// A server with a video of root's that member "ann" has open: her event socket, and her
/// download of it, whose first piece has arrived.
struct Open {
    server: Child,
    data: tempfile::TempDir,
    root: Member,
    ann: Member,
    socket: Socket,
    download: reqwest::Response,
}

async fn ann_downloading() -> Open {
    let Served {
        server,
        data,
        base,
        root,
        ..
    } = Served::start().await;
    let file = SealedFile::new(SIZE);
    root.upload(&file).await;
    add_member(data.path(), "ann", PASSWORD).await;
    let ann = Member::sign_in(&base, "ann", PASSWORD).await;

    let mut request = format!("{}/api/events", base.replacen("http", "ws", 1))
        .into_client_request()
        .expect("request");
    let headers = request.headers_mut();
    headers.insert(
        "cookie",
        HeaderValue::from_str(&ann.cookie).expect("cookie"),
    );
    headers.insert("origin", HeaderValue::from_str(&base).expect("origin"));
    let (socket, _) = tokio_tungstenite::connect_async(request)
        .await
        .expect("ann's socket opens");

    let ready = ann
        .post(
            &format!("/api/videos/{}/download", file.id),
            serde_json::json!({"dek": file.dek_hex(), "file_name": "x"}),
        )
        .await;
    let url = ready["url"].as_str().expect("a ready link");
    let mut download = ann.ok(ann.request(Method::GET, url)).await;
    assert_eq!(download.content_length(), Some(SIZE as u64));
    download
        .chunk()
        .await
        .expect("the transfer runs")
        .expect("a first piece");
    Open {
        server,
        data,
        root,
        ann,
        socket,
        download,
    }
}

/// Both of ann's connections end within `BOUND`: the socket with a close (or its end), the
/// download with an error before its last byte.
async fn both_end(mut open: Open, after: &str) {
    let since = std::time::Instant::now();
    let socket_end = tokio::time::timeout(BOUND, async {
        loop {
            match open.socket.next().await {
                None | Some(Err(_)) | Some(Ok(Message::Close(_))) => return,
                Some(Ok(_)) => {}
            }
        }
    })
    .await;
    let socket_secs = since.elapsed().as_secs_f32();
    let download_end = tokio::time::timeout(BOUND, async {
        let mut received = 0usize;
        loop {
            match open.download.chunk().await {
                Ok(Some(piece)) => received += piece.len(),
                Ok(None) => return Ok(received),
                Err(_) => return Err(received),
            }
        }
    })
    .await;
    let _ = open.server.kill().await;
    drop(open.data);
    assert!(
        socket_end.is_ok(),
        "the socket is still open {BOUND:?} after {after}"
    );
    match download_end {
        Err(_) => panic!("the download still streams {BOUND:?} after {after}"),
        Ok(Ok(received)) => {
            panic!("the whole download ({received} more bytes) went out after {after}")
        }
        Ok(Err(received)) => eprintln!(
            "after {after}: socket closed in {socket_secs:.1} s; download cut off in {:.1} s, \
             {} of {} MiB were still in buffers",
            since.elapsed().as_secs_f32(),
            received >> 20,
            SIZE >> 20
        ),
    }
}

#[tokio::test]
async fn signing_out_closes_the_socket_and_cuts_the_download() {
    let open = ann_downloading().await;
    // The very session the socket and the download belong to.
    open.ann
        .ok(open.ann.request(Method::POST, "/api/auth/logout"))
        .await;
    both_end(open, "sign-out").await;
}

#[tokio::test]
async fn a_password_change_closes_the_socket_and_cuts_the_download() {
    let open = ann_downloading().await;
    let mut passwd = cloister();
    passwd
        .args(["user", "passwd", "ann", "--password-stdin"])
        .envs(common::cli::data_env(open.data.path()));
    let r = run(passwd, "another good password\n").await;
    assert_eq!(r.code, 0, "{}", r.stderr);
    both_end(open, "a password change").await;
}

#[tokio::test]
async fn removing_the_user_closes_the_socket_and_cuts_the_download() {
    let open = ann_downloading().await;
    open.root
        .ok(open.root.request(Method::DELETE, "/api/admin/users/ann"))
        .await;
    both_end(open, "the user's removal").await;
}
