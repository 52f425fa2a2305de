//! The browser's WebSocket to `/api/events`: connect, feed frames into the store, and reconnect
//! with backoff when the connection drops, until the member signs out.

use std::cell::{Cell, RefCell};
use std::rc::Rc;

use cloister_shared::api::EventFrame;
use futures::channel::mpsc::{unbounded, UnboundedSender};
use futures::StreamExt;
use leptos::logging::warn;
use leptos::prelude::Set;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use web_sys::{MessageEvent, WebSocket};

use super::backoff::reconnect_delay_ms;
use super::state::{SeqTracker, SeqVerdict};
use super::{Connection, LiveJobs};
use crate::api;
use crate::browser::sleep_ms;

/// Keeps the reconnect loop running; `close` ends it.
pub struct Handle {
    shared: Rc<Shared>,
}

struct Shared {
    stopped: Cell<bool>,
    open: RefCell<Option<OpenSocket>>,
}

impl Handle {
    /// Stops reconnecting and closes the socket now.
    pub fn close(&self) {
        self.shared.stopped.set(true);
        // Dropping it detaches the callbacks, which ends the loop's wait for messages.
        self.shared.open.replace(None);
    }

    /// The loop ended by itself (the session is gone).
    pub fn finished(&self) -> bool {
        self.shared.stopped.get()
    }
}

pub fn start(live: LiveJobs) -> Handle {
    let shared = Rc::new(Shared {
        stopped: Cell::new(false),
        open: RefCell::new(None),
    });
    leptos::task::spawn_local(run(live, shared.clone()));
    Handle { shared }
}

/// What the socket's callbacks report to the loop.
enum Message {
    Opened,
    Text(String),
    Closed,
}

/// A socket and the callbacks it calls. Dropping it detaches them before closing, so the browser
/// never calls a callback that no longer exists.
struct OpenSocket {
    socket: WebSocket,
    _callbacks: [Closure<dyn FnMut(JsValue)>; 3],
}

impl OpenSocket {
    fn connect(url: &str, tx: UnboundedSender<Message>) -> Result<Self, JsValue> {
        let socket = WebSocket::new(url)?;
        let callback = |tx: UnboundedSender<Message>, make: fn(JsValue) -> Option<Message>| {
            Closure::<dyn FnMut(JsValue)>::new(move |event: JsValue| {
                if let Some(message) = make(event) {
                    let _ = tx.unbounded_send(message);
                }
            })
        };
        let on_open = callback(tx.clone(), |_| Some(Message::Opened));
        let on_message = callback(tx.clone(), |event| {
            event
                .dyn_into::<MessageEvent>()
                .ok()
                .and_then(|event| event.data().as_string())
                .map(Message::Text)
        });
        let on_close = callback(tx, |_| Some(Message::Closed));
        socket.set_onopen(Some(on_open.as_ref().unchecked_ref()));
        socket.set_onmessage(Some(on_message.as_ref().unchecked_ref()));
        socket.set_onclose(Some(on_close.as_ref().unchecked_ref()));
        Ok(Self {
            socket,
            _callbacks: [on_open, on_message, on_close],
        })
    }
}

impl Drop for OpenSocket {
    fn drop(&mut self) {
        self.socket.set_onopen(None);
        self.socket.set_onmessage(None);
        self.socket.set_onclose(None);
        let _ = self.socket.close();
    }
}

fn events_url() -> Option<String> {
    let location = web_sys::window()?.location();
    let scheme = if location.protocol().ok()? == "https:" {
        "wss"
    } else {
        "ws"
    };
    Some(format!("{scheme}://{}/api/events", location.host().ok()?))
}

async fn run(live: LiveJobs, shared: Rc<Shared>) {
    let Some(url) = events_url() else {
        warn!("Live updates: this page has no location to connect from.");
        shared.stopped.set(true);
        return;
    };
    let mut failures = 0u32;
    let mut seq = SeqTracker::default();
    while !shared.stopped.get() {
        live.connection.set(Connection::Connecting);
        let (tx, mut rx) = unbounded();
        match OpenSocket::connect(&url, tx) {
            Ok(open) => {
                shared.open.replace(Some(open));
            }
            Err(err) => warn!("Live updates: could not open the socket: {err:?}"),
        }
        seq.reset();
        let mut opened = false;
        // Ends when the socket closes, or when `close` dropped it (and with it the sender).
        while let Some(message) = rx.next().await {
            match message {
                Message::Opened => {
                    opened = true;
                    failures = 0;
                    live.connection.set(Connection::Live);
                    // Whatever happened while this page was not listening.
                    live.resync(true);
                }
                Message::Text(text) => handle_frame(live, &mut seq, &text),
                Message::Closed => break,
            }
        }
        shared.open.replace(None);
        if shared.stopped.get() {
            break;
        }
        // Refused before it opened: a lapsed session is answered 401, and retrying cannot help.
        if !opened && matches!(api::me().await, Ok(None)) {
            live.connection.set(Connection::SignedOut);
            break;
        }
        let delay = reconnect_delay_ms(failures, js_sys::Math::random());
        failures = failures.saturating_add(1);
        live.connection.set(Connection::Retrying {
            seconds: delay.div_ceil(1000),
        });
        wait_unless_stopped(delay, &shared).await;
    }
    shared.stopped.set(true);
}

/// Sleeps `ms`, waking early when the member signs out.
async fn wait_unless_stopped(ms: u32, shared: &Shared) {
    const TICK_MS: u32 = 250;
    let mut waited = 0;
    while waited < ms && !shared.stopped.get() {
        sleep_ms(TICK_MS.min(ms - waited)).await;
        waited += TICK_MS;
    }
}

/// Applies one frame. A frame this page cannot read is logged and skipped, never fatal; its `seq`
/// still counts, so an event type added later does not look like a gap.
fn handle_frame(live: LiveJobs, seq: &mut SeqTracker, text: &str) {
    let value: serde_json::Value = match serde_json::from_str(text) {
        Ok(value) => value,
        Err(err) => {
            warn!("Live updates: ignoring a frame that is not JSON: {err}");
            return;
        }
    };
    let Some(number) = value.get("seq").and_then(serde_json::Value::as_i64) else {
        warn!("Live updates: ignoring a frame without a seq: {text}");
        return;
    };
    let verdict = seq.check(number);
    if verdict == SeqVerdict::Stale {
        return;
    }
    match serde_json::from_value::<EventFrame>(value) {
        Ok(frame) => live.apply_event(&frame.event),
        Err(err) => warn!("Live updates: ignoring an event this page does not understand: {err}"),
    }
    if verdict == SeqVerdict::ApplyAndResync {
        live.resync(false);
    }
}
