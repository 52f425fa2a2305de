//! `GET /api/events`: the WebSocket. Members only; the handshake's Origin must be ours, so another
//! site cannot open a socket riding on a member's cookie. Frames are `EventFrame` JSON, in order.
//! The socket closes when its session ends (sign-out, password change, removal of the user).

use std::time::Duration;

use axum::extract::ws::{close_code, CloseFrame, Message, WebSocket, WebSocketUpgrade};
use axum::extract::State;
use axum::http::{header, HeaderMap, Uri};
use axum::response::Response;
use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use cloister_shared::api::EventFrame;
use tokio::sync::broadcast::error::RecvError;

use crate::accounts::extract::CurrentSession;
use crate::accounts::sessions::LiveSession;
use crate::error::{AppError, AppResult};
use crate::http::csrf;
use crate::state::AppState;

/// Keeps proxies from closing an idle socket, and finds dead peers.
const PING_EVERY: Duration = Duration::from_secs(25);

/// RFC 6455 §4.1: the key is 16 random bytes, base64 (24 characters). Anything else is not a
/// WebSocket handshake, and is refused before it is upgraded.
fn check_key(headers: &HeaderMap) -> AppResult<()> {
    let valid = headers
        .get(header::SEC_WEBSOCKET_KEY)
        .map(|key| key.as_bytes())
        .filter(|key| key.len() == 24)
        .and_then(|key| STANDARD.decode(key).ok())
        .is_some_and(|bytes| bytes.len() == 16);
    if valid {
        Ok(())
    } else {
        Err(AppError::BadRequest(
            "Sec-WebSocket-Key must be 16 bytes in base64 (24 characters).".to_owned(),
        ))
    }
}

pub async fn events(
    State(state): State<AppState>,
    session: CurrentSession,
    headers: HeaderMap,
    uri: Uri,
    upgrade: WebSocketUpgrade,
) -> AppResult<Response> {
    check_key(&headers)?;
    csrf::same_origin(&headers, &uri, &state.config.accounts)?;
    tracing::debug!(user = %session.user.username, "event socket opened");
    let live = state.live_sessions.watch(&state.db, session.token_hash);
    let user_id = session.user.id;
    Ok(upgrade
        .max_message_size(64 * 1024)
        .on_upgrade(move |socket| relay(socket, state, user_id, live)))
}

async fn send_frame(socket: &mut WebSocket, frame: &EventFrame) -> bool {
    let Ok(text) = serde_json::to_string(frame) else {
        return true;
    };
    socket.send(Message::Text(text.into())).await.is_ok()
}

async fn relay(mut socket: WebSocket, state: AppState, user_id: i64, live: LiveSession) {
    let mut events = state.events.subscribe();
    let mut personal = state.events.subscribe_personal();
    let mut ping = tokio::time::interval(PING_EVERY);
    ping.tick().await;
    loop {
        tokio::select! {
            () = live.ended() => {
                let close = CloseFrame {
                    code: close_code::POLICY,
                    reason: "signed out".into(),
                };
                let _ = socket.send(Message::Close(Some(close))).await;
                tracing::debug!(user = user_id, "event socket closed: its session ended");
                return;
            },
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
