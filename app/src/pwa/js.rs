//! Calls into browser APIs that web-sys does not bind without unstable flags (Wake Lock) or that
//! this crate does not otherwise need (Cache Storage, service workers), by name.

use js_sys::{Array, Function, Promise, Reflect};
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;

/// `target[key]`, or `None` when it is missing, `undefined` or `null`.
pub fn get(target: &JsValue, key: &str) -> Option<JsValue> {
    Reflect::get(target, &JsValue::from_str(key))
        .ok()
        .filter(|value| !value.is_undefined() && !value.is_null())
}

/// `target[method](...args)`; an error when the method does not exist or throws.
pub fn call(target: &JsValue, method: &str, args: &[JsValue]) -> Result<JsValue, JsValue> {
    let function: Function = get(target, method)
        .ok_or_else(|| JsValue::from_str(method))?
        .dyn_into()?;
    function.apply(target, &args.iter().collect::<Array>())
}

/// `await target[method](...args)`.
pub async fn call_async(
    target: &JsValue,
    method: &str,
    args: &[JsValue],
) -> Result<JsValue, JsValue> {
    let promise: Promise = call(target, method, args)?.dyn_into()?;
    JsFuture::from(promise).await
}

pub fn window() -> Option<JsValue> {
    web_sys::window().map(JsValue::from)
}
