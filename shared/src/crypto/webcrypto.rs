//! The sealed stream's chunk encryption and decryption through the browser's WebCrypto (AES-GCM in
//! the browser's own, hardware-accelerated code). wasm has no AES instructions, so the portable
//! implementation seals about 40 MB/s in Chromium; WebCrypto is many times faster. Everything that
//! defines the format — subkey derivation, nonce, associated data, length rules — is the same code
//! as `StreamSealer`'s and `StreamOpener`'s; only the AES-GCM primitive differs, and the vector
//! tests check in Chromium that both produce identical bytes.

use js_sys::{Array, ArrayBuffer, Object, Uint8Array};
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;

use super::keys::Dek;
use super::stream::{
    check_plain_len, chunk_nonce, derive_subkey, Purpose, StreamHeader, HEADER_LEN, TAG_LEN,
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
        let (subtle, key) = import_subkey(dek, video, purpose, header, "encrypt")
            .await
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
        let params = gcm_params(index, is_last, &self.aad).map_err(|_| CryptoError::Encrypt)?;
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

/// Opens chunks of one stream with WebCrypto; output is exactly `StreamOpener::open_chunk`'s.
pub struct WebOpener {
    subtle: web_sys::SubtleCrypto,
    key: web_sys::CryptoKey,
    header: StreamHeader,
    aad: [u8; HEADER_LEN],
}

impl WebOpener {
    /// An opener for the stream with this header. An error means WebCrypto cannot be used here
    /// (no `crypto.subtle`): open with `StreamOpener` instead. A wrong key is only found out when
    /// a chunk is opened.
    pub async fn new(
        dek: &Dek,
        video: &VideoId,
        purpose: &Purpose,
        header: &StreamHeader,
    ) -> Result<Self, CryptoError> {
        let (subtle, key) = import_subkey(dek, video, purpose, header, "decrypt").await?;
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

    /// Chunk `index` opened, exactly as `StreamOpener::open_chunk`: the same length rules, and
    /// `is_last` must come from the caller's knowledge of the stream's length, never the data.
    pub async fn open_chunk(
        &self,
        index: u64,
        ciphertext: &[u8],
        is_last: bool,
    ) -> Result<Vec<u8>, CryptoError> {
        let body_len = ciphertext
            .len()
            .checked_sub(TAG_LEN)
            .ok_or(CryptoError::Truncated)?;
        check_plain_len(self.header.chunk_size, index, body_len, is_last)?;
        let params = gcm_params(index, is_last, &self.aad).map_err(|_| CryptoError::Decrypt)?;
        let promise = self
            .subtle
            .decrypt_with_object_and_buffer_source(
                &params,
                &self.key,
                &Uint8Array::from(ciphertext),
            )
            .map_err(|_| CryptoError::Decrypt)?;
        // WebCrypto rejects with an OperationError when the tag does not verify.
        let plain = JsFuture::from(promise)
            .await
            .map_err(|_| CryptoError::Decrypt)?
            .dyn_into::<ArrayBuffer>()
            .map_err(|_| CryptoError::Decrypt)?;
        Ok(Uint8Array::new(&plain).to_vec())
    }
}

/// `stream::open_all` with WebCrypto where the browser has it, the portable opener otherwise: the
/// same result, the same errors. The final piece is opened as the last chunk, so a stream cut
/// anywhere fails.
pub async fn open_all(
    dek: &Dek,
    video: &VideoId,
    purpose: &Purpose,
    sealed: &[u8],
) -> Result<Vec<u8>, CryptoError> {
    let header = StreamHeader::parse(sealed)?;
    let body = sealed.get(HEADER_LEN..).unwrap_or_default();
    if body.is_empty() {
        return Err(CryptoError::Truncated);
    }
    let Ok(opener) = WebOpener::new(dek, video, purpose, &header).await else {
        return super::stream::open_all(dek, video, purpose, sealed);
    };
    let piece = header.chunk_size as usize + TAG_LEN;
    let count = body.len().div_ceil(piece);
    let mut out = Vec::with_capacity(body.len());
    for (i, chunk) in body.chunks(piece).enumerate() {
        out.extend_from_slice(&opener.open_chunk(i as u64, chunk, i + 1 == count).await?);
    }
    Ok(out)
}

/// The stream's subkey imported into WebCrypto for one usage. Not extractable: the subkey stays
/// inside the browser's crypto implementation.
async fn import_subkey(
    dek: &Dek,
    video: &VideoId,
    purpose: &Purpose,
    header: &StreamHeader,
    usage: &str,
) -> Result<(web_sys::SubtleCrypto, web_sys::CryptoKey), CryptoError> {
    let unavailable = |_| CryptoError::KeyDerivation;
    let subtle = subtle().ok_or(CryptoError::KeyDerivation)?;
    let subkey = derive_subkey(dek, video, purpose, &header.salt)?;
    let algorithm = Object::new();
    set(&algorithm, "name", &JsValue::from_str("AES-GCM"))?;
    let usages = Array::of1(&JsValue::from_str(usage));
    let promise = subtle
        .import_key_with_object(
            "raw",
            &Uint8Array::from(subkey.as_slice()),
            &algorithm,
            false,
            &usages,
        )
        .map_err(unavailable)?;
    let key = JsFuture::from(promise)
        .await
        .map_err(unavailable)?
        .dyn_into::<web_sys::CryptoKey>()
        .map_err(unavailable)?;
    Ok((subtle, key))
}

/// AES-GCM parameters for chunk `index`: the stream's nonce and the header as associated data.
fn gcm_params(index: u64, is_last: bool, aad: &[u8; HEADER_LEN]) -> Result<Object, CryptoError> {
    let params = Object::new();
    set(&params, "name", &JsValue::from_str("AES-GCM"))?;
    set(
        &params,
        "iv",
        &Uint8Array::from(chunk_nonce(index, is_last).as_slice()),
    )?;
    set(&params, "additionalData", &Uint8Array::from(aad.as_slice()))?;
    set(&params, "tagLength", &JsValue::from_f64(128.0))?;
    Ok(params)
}

fn set(object: &Object, key: &str, value: &JsValue) -> Result<(), CryptoError> {
    js_sys::Reflect::set(object, &JsValue::from_str(key), value)
        .map(|_| ())
        .map_err(|_| CryptoError::KeyDerivation)
}

/// `crypto.subtle` of the window or worker this runs in; `None` where there is none (an insecure
/// origin other than localhost, or no browser at all).
fn subtle() -> Option<web_sys::SubtleCrypto> {
    let global = js_sys::global();
    let crypto = js_sys::Reflect::get(&global, &JsValue::from_str("crypto")).ok()?;
    let crypto = crypto.dyn_into::<web_sys::Crypto>().ok()?;
    Some(crypto.subtle())
}
