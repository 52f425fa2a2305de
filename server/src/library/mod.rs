//! The library's keys on the server (docs/accounts.md, "Keys for people"): member key pairs,
//! grants of the library key, the recovery key, key changes, and the shared passphrase of a
//! library made before members had keys. The server never sees a passphrase or any key that opens
//! anything, so all it can do is check shapes and rules and store values atomically.

pub mod grants;
pub mod keys_store;
pub mod members;
pub mod recovery;
pub mod recovery_store;
pub mod rotation;
pub mod rotation_store;
pub mod store;

use axum::Router;

use crate::state::AppState;

pub fn router() -> Router<AppState> {
    members::router()
        .merge(grants::router())
        .merge(recovery::router())
        .merge(rotation::router())
}
