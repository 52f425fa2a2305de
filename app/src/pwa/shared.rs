//! Videos shared to Cloister from a phone's share sheet. The service worker (public/sw.js) keeps
//! each one in Cache Storage under `/share-target/files/…` until it is uploaded or removed; the
//! Upload page reads them from here.

use js_sys::{Array, Object, Reflect};
use wasm_bindgen::{JsCast, JsValue};

use super::js;

/// The cache the service worker puts shared files in (public/sw.js, `SHARED`).
const CACHE: &str = "cloister-shared";

/// One shared video: where it is kept, and the file as the share sheet handed it over.
pub struct SharedFile {
    pub key: String,
    pub file: web_sys::File,
}

async fn cache() -> Option<JsValue> {
    let caches = js::window().and_then(|w| js::get(&w, "caches"))?;
    js::call_async(&caches, "open", &[CACHE.into()]).await.ok()
}

/// Every shared video still waiting, oldest first. Nothing when the browser has no Cache Storage.
pub async fn waiting() -> Vec<SharedFile> {
    let Some(cache) = cache().await else {
        return Vec::new();
    };
    let Ok(requests) = js::call_async(&cache, "keys", &[]).await else {
        return Vec::new();
    };
    let mut files = Vec::new();
    for request in Array::from(&requests).iter() {
        let Some(key) = js::get(&request, "url").and_then(|u| u.as_string()) else {
            continue;
        };
        let Ok(response) = js::call_async(&cache, "match", &[request]).await else {
            continue;
        };
        if let Some(file) = file_of(&response).await {
            files.push(SharedFile { key, file });
        }
    }
    files
}

/// The kept response as a `File` with the name, type and modification time it was shared with,
/// so its upload fingerprint (and so resuming) is the same every time it is read back.
async fn file_of(response: &JsValue) -> Option<web_sys::File> {
    let headers = js::get(response, "headers")?;
    let header = |name: &str| {
        js::call(&headers, "get", &[name.into()])
            .ok()
            .and_then(|v| v.as_string())
    };
    let name = header("x-cloister-name")
        .and_then(|n| js_sys::decode_uri_component(&n).ok())
        .and_then(|n| n.as_string())
        .unwrap_or_else(|| "shared video".to_owned());
    let modified = header("x-cloister-modified")
        .and_then(|m| m.parse::<f64>().ok())
        .unwrap_or(0.0);
    let kind = header("content-type").unwrap_or_default();
    let blob = js::call_async(response, "blob", &[]).await.ok()?;
    let options = Object::new();
    Reflect::set(&options, &"type".into(), &kind.into()).ok()?;
    Reflect::set(&options, &"lastModified".into(), &modified.into()).ok()?;
    let constructor: js_sys::Function = js::window()
        .and_then(|w| js::get(&w, "File"))?
        .dyn_into()
        .ok()?;
    let parts: Array = std::iter::once(blob).collect();
    let args: Array = [JsValue::from(parts), name.into(), options.into()]
        .into_iter()
        .collect();
    Reflect::construct(&constructor, &args)
        .ok()?
        .dyn_into()
        .ok()
}

/// Drops a shared video once it is uploaded or the member removed it.
pub async fn forget(key: &str) {
    if let Some(cache) = cache().await {
        let _ = js::call_async(&cache, "delete", &[key.into()]).await;
    }
}
