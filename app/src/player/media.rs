//! Small wrappers over Media Source Extensions: events as futures, buffered ranges as spans,
//! appends that say why they failed. Which media source the browser has is `support`'s business.

use js_sys::Promise;
use wasm_bindgen::JsValue;
use wasm_bindgen_futures::JsFuture;
use web_sys::{AddEventListenerOptions, EventTarget, SourceBuffer};

use super::plan::Span;

/// Resolves on the next `name` event of `target`.
pub async fn next_event(target: &EventTarget, name: &str) {
    let promise = Promise::new(&mut |resolve, _reject| {
        let options = AddEventListenerOptions::new();
        options.set_once(true);
        let _ = target.add_event_listener_with_callback_and_add_event_listener_options(
            name, &resolve, &options,
        );
    });
    let _ = JsFuture::from(promise).await;
}

/// What the buffer holds, in seconds.
pub fn spans(buffer: &SourceBuffer) -> Vec<Span> {
    let Ok(ranges) = buffer.buffered() else {
        return Vec::new();
    };
    (0..ranges.length())
        .filter_map(|i| {
            Some(Span {
                start: ranges.start(i).ok()?,
                end: ranges.end(i).ok()?,
            })
        })
        .collect()
}

/// Why an append was refused.
pub enum AppendRefused {
    /// The browser's buffer is full for now (`QuotaExceededError`).
    Full,
    Other,
}

/// Starts appending `bytes` (the browser copies them); wait for `updateend` afterwards.
pub fn start_append(buffer: &SourceBuffer, bytes: &mut [u8]) -> Result<(), AppendRefused> {
    buffer.append_buffer_with_u8_array(bytes).map_err(|err| {
        let name = js_sys::Reflect::get(&err, &JsValue::from_str("name"))
            .ok()
            .and_then(|name| name.as_string());
        if name.as_deref() == Some("QuotaExceededError") {
            AppendRefused::Full
        } else {
            AppendRefused::Other
        }
    })
}
