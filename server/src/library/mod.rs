//! The library passphrase's server side: the salt, the Argon2id parameters and the library key
//! wrapped under the passphrase key. The server never sees the passphrase or any key derived from
//! it, so all it can do is store these values and swap them atomically.

pub mod routes;
pub mod store;

pub use routes::router;
