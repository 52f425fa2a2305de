//! Key hierarchy and the sealed-stream format (DESIGN.md §2).

mod error;
pub mod fingerprint;
pub mod keys;
mod purpose;
pub mod random;
pub mod stream;

pub use error::CryptoError;
