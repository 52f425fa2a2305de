//! Types and crypto that the browser and the server must agree on.
//!
//! No I/O lives here: everything works on byte slices so the same code runs
//! natively (server) and in wasm (browser). The format is specified in
//! docs/format.md.

pub mod api;
pub mod crypto;
pub mod ids;
pub mod keyring;
pub mod manifest;
pub mod protocol;
pub mod sniff;

pub use crypto::fingerprint::{
    content_fingerprint, sample_ranges, upload_fingerprint, ContentSample,
};
pub use crypto::keys::{
    unwrap_dek, unwrap_library_key, wrap_dek, wrap_library_key, Dek, KdfParams, LibraryKey,
    PassphraseKey, WrappedKey,
};
pub use crypto::stream::{Purpose, PurposeId, StreamHeader, StreamOpener, StreamSealer};
pub use crypto::CryptoError;
pub use ids::{CommentId, IdError, VideoId};
