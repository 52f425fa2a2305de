//! The accept loop: HTTP/1.1 over hyper with a header-read timeout (which also closes idle
//! keep-alive connections) and a cap on open connections that fits the open-file limit, so
//! half-open or idle connections cannot hold the server (docs/operations.md). The request-body
//! timeout is a layer on the router (`crate::router`). Responses, downloads and WebSockets have
//! no time limit.

use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::pin::{pin, Pin};
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use axum::extract::ConnectInfo;
use axum::Router;
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{watch, OwnedSemaphorePermit, Semaphore};
use tokio_util::sync::CancellationToken;
use tower::ServiceExt;

use crate::config::HttpConfig;

/// Open files kept for everything but connections: the database pool, uploads and downloads in
/// progress, ffmpeg's pipes, logs.
const RESERVED_FILES: u64 = 64;

/// Serves `router` on `listener` until `shutdown` completes, then stops accepting, lets requests
/// in flight finish and returns once they have (upgraded WebSockets are not waited for).
pub async fn serve(
    listener: TcpListener,
    router: Router,
    config: &HttpConfig,
    shutdown: impl Future<Output = ()>,
) {
    let max = connection_cap(config.max_connections);
    tracing::info!(max_connections = max, "accepting connections");
    let slots = Arc::new(Semaphore::new(max));
    let header_timeout = Duration::from_secs(config.header_timeout_secs);
    let stopping = CancellationToken::new();
    // Every connection task holds a receiver; the sender sees "closed" once all are done.
    let (all_done, done) = watch::channel(());
    let mut shutdown = pin!(shutdown);
    loop {
        let slot = tokio::select! {
            slot = slots.clone().acquire_owned() => match slot {
                Ok(slot) => slot,
                Err(_) => break,
            },
            () = &mut shutdown => break,
        };
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(err) => {
                    // Out of file descriptors, or the peer gave up: wait rather than spin.
                    tracing::warn!(error = %err, "could not accept a connection");
                    tokio::time::sleep(Duration::from_millis(250)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let connection = Connection {
            stream: Counted {
                stream,
                _slot: slot,
            },
            peer,
            router: router.clone(),
            header_timeout,
            stopping: stopping.clone(),
            done: done.clone(),
        };
        tokio::spawn(connection.run());
    }
    drop(listener);
    drop(done);
    stopping.cancel();
    all_done.closed().await;
}

struct Connection {
    stream: Counted,
    peer: SocketAddr,
    router: Router,
    header_timeout: Duration,
    stopping: CancellationToken,
    done: watch::Receiver<()>,
}

impl Connection {
    async fn run(self) {
        let peer = self.peer;
        let router = self.router;
        // Connection info gives sign-in throttling the client's address.
        let service = hyper::service::service_fn(move |mut request: hyper::Request<Incoming>| {
            request.extensions_mut().insert(ConnectInfo(peer));
            router.clone().oneshot(request)
        });
        let mut builder = hyper::server::conn::http1::Builder::new();
        builder
            .timer(TokioTimer::new())
            .header_read_timeout(self.header_timeout);
        let mut connection = pin!(builder
            .serve_connection(TokioIo::new(self.stream), service)
            .with_upgrades());
        let mut stopping = pin!(self.stopping.cancelled());
        loop {
            tokio::select! {
                result = connection.as_mut() => {
                    if let Err(err) = result {
                        // Timeouts and clients that went away: routine, not worth a warning.
                        tracing::debug!(%peer, error = %err, "connection ended");
                    }
                    break;
                }
                () = &mut stopping => connection.as_mut().graceful_shutdown(),
            }
        }
        drop(self.done);
    }
}

/// A connection's socket with its slot: the slot is freed when the socket closes, also after a
/// WebSocket upgrade took the socket out of hyper's hands.
struct Counted {
    stream: TcpStream,
    _slot: OwnedSemaphorePermit,
}

impl AsyncRead for Counted {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.stream).poll_read(cx, buf)
    }
}

impl AsyncWrite for Counted {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.stream).poll_write(cx, buf)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.stream).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.stream.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.stream).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.stream).poll_shutdown(cx)
    }
}

/// `configured`, lowered so that connections (a socket and, at most, a file each) leave
/// `RESERVED_FILES` of the open-file limit, after raising the soft limit to the hard one.
fn connection_cap(configured: u32) -> usize {
    let configured = u64::from(configured);
    let cap = match open_file_limit() {
        Some(limit) => configured.min(limit.saturating_sub(RESERVED_FILES) / 2),
        None => configured,
    };
    if cap < configured {
        tracing::warn!(
            configured,
            cap,
            "the open-file limit allows fewer connections than configured; raise it \
             (LimitNOFILE in the systemd unit)"
        );
    }
    usize::try_from(cap.max(1)).unwrap_or(usize::MAX)
}

/// The soft open-file limit, raised to the hard one first.
fn open_file_limit() -> Option<u64> {
    use rustix::process::{getrlimit, setrlimit, Resource};
    let mut limit = getrlimit(Resource::Nofile);
    if limit.current != limit.maximum {
        limit.current = limit.maximum;
        if let Err(err) = setrlimit(Resource::Nofile, limit) {
            tracing::debug!(error = %err, "could not raise the open-file limit");
        }
    }
    getrlimit(Resource::Nofile).current
}
