//! What this browser offers for playing a video, in one place (docs/decisions.md, "Playback on
//! every engine"): the standard `MediaSource`, Safari's `ManagedMediaSource` (iPhone from iOS
//! 17.1, which has no `MediaSource`), or neither (older iPhones), where a short video is played
//! whole. web-sys has no `ManagedMediaSource`: it is reached through `Reflect`, and used through
//! web-sys's `MediaSource`, whose methods are called on the object itself, so a subclass works.

use js_sys::{Array, Function, Reflect};
use wasm_bindgen::{JsCast, JsValue};
use web_sys::{HtmlVideoElement, MediaSource};

/// The kind of media source this browser streams through.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Streaming {
    /// `MediaSource`: fed whenever the player likes.
    Standard,
    /// `ManagedMediaSource`: fed only while it says it wants data (`streaming`), and it may drop
    /// buffered media on its own.
    Managed,
}

impl Streaming {
    fn constructor_name(self) -> &'static str {
        match self {
            Self::Standard => "MediaSource",
            Self::Managed => "ManagedMediaSource",
        }
    }
}

fn global(name: &str) -> Option<Function> {
    Reflect::get(&js_sys::global(), &JsValue::from_str(name))
        .ok()
        .and_then(|value| value.dyn_into::<Function>().ok())
}

/// How this browser streams, or `None` when it cannot (then the video is played whole).
/// `MediaSource` first where both exist: it is the one every engine has long shipped.
pub fn streaming() -> Option<Streaming> {
    [Streaming::Standard, Streaming::Managed]
        .into_iter()
        .find(|kind| global(kind.constructor_name()).is_some())
}

/// A new media source of `kind`.
pub fn new_media_source(kind: Streaming) -> Result<MediaSource, JsValue> {
    let constructor = global(kind.constructor_name())
        .ok_or_else(|| JsValue::from_str("no media source constructor"))?;
    Ok(Reflect::construct(&constructor, &Array::new())?.unchecked_into())
}

/// `isTypeSupported` of the media source of `kind`.
pub fn is_type_supported(kind: Streaming, mime_codec: &str) -> bool {
    let Some(constructor) = global(kind.constructor_name()) else {
        return false;
    };
    Reflect::get(&constructor, &JsValue::from_str("isTypeSupported"))
        .ok()
        .and_then(|f| f.dyn_into::<Function>().ok())
        .and_then(|f| f.call1(&constructor, &JsValue::from_str(mime_codec)).ok())
        .and_then(|answer| answer.as_bool())
        .unwrap_or(false)
}

/// Readies the element for a media source of `kind`. A `ManagedMediaSource` opens only when the
/// element either offers an AirPlay alternative or opts out of remote playback: Cloister's media
/// is decrypted in this tab, so there is nothing another device could fetch.
pub fn prepare_element(video: &HtmlVideoElement, kind: Streaming) {
    if kind == Streaming::Managed {
        let _ = Reflect::set(
            video,
            &JsValue::from_str("disableRemotePlayback"),
            &JsValue::TRUE,
        );
    }
}

/// Whether the media source wants data now. A `ManagedMediaSource` says so in `streaming` (and
/// fires `startstreaming`/`endstreaming`); a standard one has no such property and always does.
pub fn wants_data(media_source: &MediaSource) -> bool {
    Reflect::get(media_source, &JsValue::from_str("streaming"))
        .ok()
        .and_then(|value| value.as_bool())
        .unwrap_or(true)
}

/// Whether the element could play a whole file of this type natively.
pub fn plays_natively(video: &HtmlVideoElement, mime_codec: &str) -> bool {
    !video.can_play_type(mime_codec).is_empty()
}

/// The device's memory in GB where the browser tells it (`navigator.deviceMemory`; Safari does
/// not).
pub fn device_memory_gb() -> Option<f64> {
    let navigator = web_sys::window()?.navigator();
    Reflect::get(&navigator, &JsValue::from_str("deviceMemory"))
        .ok()?
        .as_f64()
}
