//! The sealed stream's chunk encryption through the browser's WebCrypto (AES-GCM in the browser's
//! own, hardware-accelerated code). wasm has no AES instructions, so the portable implementation
//! seals about 40 MB/s in Chromium; WebCrypto is many times faster. Everything that defines the
//! format — subkey derivation, nonce, associated data, length rules — is the same code as
//! `StreamSealer`'s; only the AES-GCM primitive differs, and the vector tests check in Chromium
//! that both produce identical bytes.

use js_sys::{Array, ArrayBuffer, Object, Uint8Array};
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;

use super::keys::Dek;
use super::stream::{
    check_plain_len, chunk_nonce, derive_subkey, Purpose, StreamHeader, HEADER_LEN,
};
use super::CryptoError;
use crate::ids::VideoId;

/// Seals chunks of one stream with WebCrypto; output is byte-for-byte `StreamSealer`'s.
pub struct WebSealer {
    subtle: web_sys::SubtleCrypto,
    key: web_sys::CryptoKey,
    header: StreamHeader,
    aad: [u8; HEADER_LEN],
}

impl WebSealer {
    /// A sealer for the stream with this header (a new stream's, or a resumed one's).
    pub async fn new(
        dek: &Dek,
        video: &VideoId,
        purpose: &Purpose,
        header: &StreamHeader,
    ) -> Result<Self, CryptoError> {
        let subtle = subtle().ok_or(CryptoError::Encrypt)?;
        let subkey = derive_subkey(dek, video, purpose, &header.salt)?;
        let algorithm = Object::new();
        set(&algorithm, "name", &JsValue::from_str("AES-GCM"))?;
        let usages = Array::of1(&JsValue::from_str("encrypt"));
        // Not extractable: the subkey stays inside the browser's crypto implementation.
        let promise = subtle
            .import_key_with_object(
                "raw",
                &Uint8Array::from(subkey.as_slice()),
                &algorithm,
                false,
                &usages,
            )
            .map_err(|_| CryptoError::Encrypt)?;
        let key = JsFuture::from(promise)
            .await
            .map_err(|_| CryptoError::Encrypt)?
            .dyn_into::<web_sys::CryptoKey>()
            .map_err(|_| CryptoError::Encrypt)?;
        Ok(Self {
            subtle,
            key,
            header: *header,
            aad: header.to_bytes(),
        })
    }

    pub fn header(&self) -> &StreamHeader {
        &self.header
    }

    /// Chunk `index` sealed (ciphertext ‖ 16-byte tag), exactly as `StreamSealer::seal_chunk`.
    pub async fn seal_chunk(
        &self,
        index: u64,
        plaintext: &[u8],
        is_last: bool,
    ) -> Result<Vec<u8>, CryptoError> {
        check_plain_len(self.header.chunk_size, index, plaintext.len(), is_last)?;
        let params = Object::new();
        set(&params, "name", &JsValue::from_str("AES-GCM"))?;
        set(
            &params,
            "iv",
            &Uint8Array::from(chunk_nonce(index, is_last).as_slice()),
        )?;
        set(
            &params,
            "additionalData",
            &Uint8Array::from(self.aad.as_slice()),
        )?;
        set(&params, "tagLength", &JsValue::from_f64(128.0))?;
        let promise = self
            .subtle
            .encrypt_with_object_and_buffer_source(&params, &self.key, &Uint8Array::from(plaintext))
            .map_err(|_| CryptoError::Encrypt)?;
        let sealed = JsFuture::from(promise)
            .await
            .map_err(|_| CryptoError::Encrypt)?;
        let sealed = sealed
            .dyn_into::<ArrayBuffer>()
            .map_err(|_| CryptoError::Encrypt)?;
        Ok(Uint8Array::new(&sealed).to_vec())
    }
}

fn set(object: &Object, key: &str, value: &JsValue) -> Result<(), CryptoError> {
    js_sys::Reflect::set(object, &JsValue::from_str(key), value)
        .map(|_| ())
        .map_err(|_| CryptoError::Encrypt)
}

/// `crypto.subtle` of the window or worker this runs in; `None` where there is none (an insecure
/// origin other than localhost, or no browser at all).
fn subtle() -> Option<web_sys::SubtleCrypto> {
    let global = js_sys::global();
    let crypto = js_sys::Reflect::get(&global, &JsValue::from_str("crypto")).ok()?;
    let crypto = crypto.dyn_into::<web_sys::Crypto>().ok()?;
    Some(crypto.subtle())
}
