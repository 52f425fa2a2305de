//! `GET /api/events`: the WebSocket. Members only; the handshake's Origin must be ours, so another
//! site cannot open a socket riding on a member's cookie. Frames are `EventFrame` JSON, in order.

use std::time::Duration;

use axum::extract::ws::{Message, WebSocket, WebSocketUpgrade};
use axum::extract::State;
use axum::http::{HeaderMap, Uri};
use axum::response::Response;
use cloister_shared::api::EventFrame;
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
    csrf::same_origin(&headers, &uri, &state.config.accounts)?;
    tracing::debug!(user = %user.username, "event socket opened");
    Ok(upgrade
        .max_message_size(64 * 1024)
        .on_upgrade(move |socket| relay(socket, state, user.id)))
}

async fn send_frame(socket: &mut WebSocket, frame: &EventFrame) -> bool {
    let Ok(text) = serde_json::to_string(frame) else {
        return true;
    };
    socket.send(Message::Text(text.into())).await.is_ok()
}

async fn relay(mut socket: WebSocket, state: AppState, user_id: i64) {
    let mut events = state.events.subscribe();
    let mut personal = state.events.subscribe_personal();
    let mut ping = tokio::time::interval(PING_EVERY);
    ping.tick().await;
    loop {
        tokio::select! {
            received = events.recv() => match received {
                Ok(frame) => {
                    if !send_frame(&mut socket, &frame).await {
                        return;
                    }
                }
                // Too slow to keep up: close, and the client resyncs over REST when it reconnects.
                Err(RecvError::Lagged(_)) | Err(RecvError::Closed) => {
                    let _ = socket.send(Message::Close(None)).await;
                    return;
                }
            },
            received = personal.recv() => match received {
                Ok((to, frame)) if to == user_id => {
                    if !send_frame(&mut socket, &frame).await {
                        return;
                    }
                }
                Ok(_) => {}
                // Personal events are also found over REST: missing one is not worth a close.
                Err(RecvError::Lagged(_)) => {}
                Err(RecvError::Closed) => return,
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
