//! `GET /api/events`: the WebSocket. Members only; the handshake's Origin must be ours, so another
//! site cannot open a socket riding on a member's cookie. Frames are `EventFrame` JSON, in order.

use std::time::Duration;

use axum::extract::ws::{Message, WebSocket, WebSocketUpgrade};
use axum::extract::State;
use axum::http::{HeaderMap, Uri};
use axum::response::Response;
use tokio::sync::broadcast::error::RecvError;

use crate::accounts::CurrentUser;
use crate::error::AppResult;
use crate::http::csrf;
use crate::state::AppState;

/// Keeps proxies from closing an idle socket, and finds dead peers.
const PING_EVERY: Duration = Duration::from_secs(25);

pub async fn events(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    headers: HeaderMap,
    uri: Uri,
    upgrade: WebSocketUpgrade,
) -> AppResult<Response> {
    csrf::same_origin(&headers, &uri, state.config.accounts.public_url.as_deref())?;
    tracing::debug!(user = %user.username, "event socket opened");
    Ok(upgrade
        .max_message_size(64 * 1024)
        .on_upgrade(move |socket| relay(socket, state)))
}

async fn relay(mut socket: WebSocket, state: AppState) {
    let mut events = state.events.subscribe();
    let mut ping = tokio::time::interval(PING_EVERY);
    ping.tick().await;
    loop {
        tokio::select! {
            received = events.recv() => match received {
                Ok(frame) => {
                    let Ok(text) = serde_json::to_string(&*frame) else { continue };
                    if socket.send(Message::Text(text.into())).await.is_err() {
                        return;
                    }
                }
                // Too slow to keep up: close, and the client resyncs over REST when it reconnects.
                Err(RecvError::Lagged(_)) | Err(RecvError::Closed) => {
                    let _ = socket.send(Message::Close(None)).await;
                    return;
                }
            },
            incoming = socket.recv() => match incoming {
                Some(Ok(Message::Close(_))) | None | Some(Err(_)) => return,
                // Clients have nothing to say; pongs and stray frames are ignored.
                Some(Ok(_)) => {}
            },
            _ = ping.tick() => {
                if socket.send(Message::Ping(Vec::new().into())).await.is_err() {
                    return;
                }
            }
        }
    }
}
