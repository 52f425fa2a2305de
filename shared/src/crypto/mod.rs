//! Key hierarchy and the sealed-stream format (docs/format.md).

mod error;
pub mod fingerprint;
pub mod keys;
pub mod member;
mod purpose;
pub mod random;
pub mod recovery;
pub mod share;
pub mod stream;
pub mod upload;
#[cfg(target_arch = "wasm32")]
pub mod webcrypto;

pub use error::CryptoError;
