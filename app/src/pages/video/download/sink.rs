//! Where "Save (decrypt here)" writes: a file on disk through the File System Access API
//! (`showSaveFilePicker` → `createWritable`), written chunk by chunk so memory stays at about one
//! chunk; or, where the browser has no such API, the chunks collected as a `Blob` and handed to
//! the browser's own download (the whole file then sits in browser storage until it is saved).
//! Called through `Reflect`, as web-sys offers these APIs only behind an unstable flag.

use js_sys::{Array, Function, Promise, Reflect, Uint8Array};
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;

pub enum Sink {
    /// A `FileSystemWritableFileStream`: nothing appears under the chosen name until `close`,
    /// and `abort` discards what was written.
    Disk(JsValue),
    /// Decrypted chunks, kept until the end.
    Memory { parts: Array, name: String },
}

/// How opening a sink ended.
pub enum Opened {
    Ready(Sink),
    /// The member closed the file picker.
    Declined,
}

impl Sink {
    /// Asks where to save (the picker needs the click that started this: call it first).
    pub async fn open(suggested_name: &str) -> Result<Opened, String> {
        let Some(window) = web_sys::window() else {
            return Err("This page has no window to save from.".to_owned());
        };
        let picker = Reflect::get(&window, &JsValue::from_str("showSaveFilePicker"))
            .ok()
            .and_then(|f| f.dyn_into::<Function>().ok());
        let Some(picker) = picker else {
            return Ok(Opened::Ready(Self::memory(suggested_name)));
        };
        let options = js_sys::Object::new();
        let _ = Reflect::set(
            &options,
            &JsValue::from_str("suggestedName"),
            &JsValue::from_str(suggested_name),
        );
        let handle = match call_async(picker.call1(&window, &options)).await {
            Ok(handle) => handle,
            Err(err) if error_name(&err).as_deref() == Some("AbortError") => {
                return Ok(Opened::Declined)
            }
            // No user gesture left, or a policy forbids it: the Blob way still works.
            Err(_) => return Ok(Opened::Ready(Self::memory(suggested_name))),
        };
        let writable = call_method(&handle, "createWritable", &[])
            .await
            .map_err(|_| "The browser did not let this page write the file.".to_owned())?;
        Ok(Opened::Ready(Self::Disk(writable)))
    }

    fn memory(name: &str) -> Self {
        Self::Memory {
            parts: Array::new(),
            name: name.to_owned(),
        }
    }

    pub async fn write(&self, bytes: &[u8]) -> Result<(), String> {
        let chunk = Uint8Array::from(bytes);
        match self {
            Self::Disk(writable) => call_method(writable, "write", &[chunk.into()])
                .await
                .map(|_| ())
                .map_err(|_| "Writing the file failed (is the disk full?).".to_owned()),
            Self::Memory { parts, .. } => {
                parts.push(&chunk);
                Ok(())
            }
        }
    }

    /// Finishes the file: on disk it appears under its name; in memory the browser downloads it
    /// (the link is made inside `host`, an element that is not inert under the modal dialog).
    pub async fn finish(self, host: &web_sys::Element) -> Result<(), String> {
        match self {
            Self::Disk(writable) => call_method(&writable, "close", &[])
                .await
                .map(|_| ())
                .map_err(|_| "Saving the file failed at the last step.".to_owned()),
            Self::Memory { parts, name } => save_blob(&parts, &name, host)
                .map_err(|_| "The browser refused to save the file.".to_owned()),
        }
    }

    /// Drops what was written: no partial file is left behind.
    pub async fn abort(self) {
        if let Self::Disk(writable) = self {
            let _ = call_method(&writable, "abort", &[]).await;
        }
    }
}

/// Makes a Blob of `parts` and clicks a `download` link to its object URL.
fn save_blob(parts: &Array, name: &str, host: &web_sys::Element) -> Result<(), JsValue> {
    let options = web_sys::BlobPropertyBag::new();
    options.set_type("application/octet-stream");
    let blob = web_sys::Blob::new_with_u8_array_sequence_and_options(parts, &options)?;
    let url = web_sys::Url::create_object_url_with_blob(&blob)?;
    super::click_link(host, &url, name)?;
    // The download has its own copy once it started; a minute is plenty.
    leptos::task::spawn_local(async move {
        crate::browser::sleep_ms(60_000).await;
        let _ = web_sys::Url::revoke_object_url(&url);
    });
    Ok(())
}

/// Calls `object.name(args…)` and waits for the promise it returns.
async fn call_method(object: &JsValue, name: &str, args: &[JsValue]) -> Result<JsValue, JsValue> {
    let method = Reflect::get(object, &JsValue::from_str(name))?.dyn_into::<Function>()?;
    let args: Array = args.iter().collect();
    call_async(method.apply(object, &args)).await
}

async fn call_async(result: Result<JsValue, JsValue>) -> Result<JsValue, JsValue> {
    let promise = result?.dyn_into::<Promise>()?;
    JsFuture::from(promise).await
}

/// A DOMException's `name` ("AbortError", "SecurityError"…).
fn error_name(err: &JsValue) -> Option<String> {
    Reflect::get(err, &JsValue::from_str("name"))
        .ok()
        .and_then(|name| name.as_string())
}
