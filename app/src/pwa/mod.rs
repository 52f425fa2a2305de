//! The installable app in the page: registering the service worker (public/sw.js), keeping the
//! screen awake and asking before leaving while uploads run, and the videos shared to Cloister from
//! a phone's share sheet (docs/decisions.md, "Installable app, share target and uploads on a phone").

#[cfg(feature = "hydrate")]
mod js;
#[cfg(feature = "hydrate")]
pub mod shared;

use leptos::prelude::*;

/// Registers the service worker once the page has hydrated, and tells it which page this is so it
/// keeps that page for a revisit with no network. Does nothing where service workers do not exist
/// (plain HTTP on a LAN address is not a secure context).
pub fn register_service_worker() {
    #[cfg(feature = "hydrate")]
    leptos::task::spawn_local(async {
        let Some(container) = js::window()
            .and_then(|w| js::get(&w, "navigator"))
            .and_then(|n| js::get(&n, "serviceWorker"))
        else {
            return;
        };
        if js::call_async(&container, "register", &["/sw.js".into()])
            .await
            .is_err()
        {
            return;
        }
        use wasm_bindgen::JsCast;
        let Some(ready) =
            js::get(&container, "ready").and_then(|r| r.dyn_into::<js_sys::Promise>().ok())
        else {
            return;
        };
        let Ok(registration) = wasm_bindgen_futures::JsFuture::from(ready).await else {
            return;
        };
        let path = web_sys::window()
            .and_then(|w| w.location().pathname().ok())
            .unwrap_or_else(|| "/".to_owned());
        let message = js_sys::Object::new();
        let _ = js_sys::Reflect::set(&message, &"keepPage".into(), &path.into());
        if let Some(worker) = js::get(&registration, "active") {
            let _ = js::call(&worker, "postMessage", &[message.into()]);
        }
    });
}

/// Asks the service worker to forget the pages it kept for a revisit with no network: they were
/// rendered for the member who just signed out, and this device may be shared.
pub fn forget_kept_pages() {
    #[cfg(feature = "hydrate")]
    {
        let Some(worker) = js::window()
            .and_then(|w| js::get(&w, "navigator"))
            .and_then(|n| js::get(&n, "serviceWorker"))
            .and_then(|c| js::get(&c, "controller"))
        else {
            return;
        };
        let message = js_sys::Object::new();
        let _ = js_sys::Reflect::set(&message, &"forgetPages".into(), &true.into());
        let _ = js::call(&worker, "postMessage", &[message.into()]);
    }
}

/// While `busy` is true: the screen stays on (Screen Wake Lock, taken again when the page comes
/// back into view, since the browser drops it when the page is hidden), and leaving the page asks
/// first. Both end when `busy` turns false or the component using this goes away.
pub fn hold_while_busy(busy: Signal<bool>) {
    #[cfg(feature = "hydrate")]
    {
        let lock = StoredValue::new_local(None::<wasm_bindgen::JsValue>);
        Effect::new(move |_| {
            if busy.get() {
                acquire_wake_lock(lock, busy);
            } else {
                release_wake_lock(lock);
            }
        });
        let visible = window_event_listener(leptos::ev::visibilitychange, move |_| {
            let shown = js::window()
                .and_then(|w| js::get(&w, "document"))
                .and_then(|d| js::get(&d, "visibilityState"))
                .and_then(|state| state.as_string())
                .is_some_and(|state| state == "visible");
            if shown && busy.get_untracked() {
                acquire_wake_lock(lock, busy);
            }
        });
        let leaving = window_event_listener(leptos::ev::beforeunload, move |event| {
            if busy.get_untracked() {
                // Both, for older browsers: the text itself is never shown.
                event.prevent_default();
                event.set_return_value("An upload is still running.");
            }
        });
        on_cleanup(move || {
            visible.remove();
            leaving.remove();
            release_wake_lock(lock);
        });
    }
    #[cfg(not(feature = "hydrate"))]
    let _ = busy;
}

/// Asks for a screen wake lock unless one is held; a browser without the API or that refuses
/// (battery saver, hidden page) leaves the upload running as before.
#[cfg(feature = "hydrate")]
fn acquire_wake_lock(
    lock: StoredValue<Option<wasm_bindgen::JsValue>, LocalStorage>,
    busy: Signal<bool>,
) {
    let held = lock.with_value(|held| {
        held.as_ref().is_some_and(|sentinel| {
            js::get(sentinel, "released").and_then(|r| r.as_bool()) == Some(false)
        })
    });
    if held {
        return;
    }
    leptos::task::spawn_local(async move {
        let Some(wake_lock) = js::window()
            .and_then(|w| js::get(&w, "navigator"))
            .and_then(|n| js::get(&n, "wakeLock"))
        else {
            return;
        };
        match js::call_async(&wake_lock, "request", &["screen".into()]).await {
            Ok(sentinel) if busy.get_untracked() => lock.set_value(Some(sentinel)),
            // The uploads ended while the browser was deciding.
            Ok(sentinel) => {
                let _ = js::call(&sentinel, "release", &[]);
            }
            Err(_) => {}
        }
    });
}

#[cfg(feature = "hydrate")]
fn release_wake_lock(lock: StoredValue<Option<wasm_bindgen::JsValue>, LocalStorage>) {
    if let Some(sentinel) = lock.try_update_value(Option::take).flatten() {
        let _ = js::call(&sentinel, "release", &[]);
    }
}
