//! Server-side decrypted downloads (docs/architecture.md "Download", docs/downloads.md).
//!
//! A member hands the server a video's DEK for one download. When the resource gate allows and
//! fewer than D downloads hold a slot, the download is `ready` at once: a link that only that
//! member can use, for a short while, that streams the decrypted original chunk by chunk. If not,
//! the member is told so and may queue it; the dispatcher promotes queued downloads as slots free
//! up and tells the member over their sockets. The DEK is held wrapped under the server key only
//! while the download is queued or ready, and a queued download expires after a day. No plaintext
//! file name is stored: the server reads the video's sealed name with the key it holds.

mod dispatcher;
mod file;
mod name;
mod routes;
mod runtime;
pub mod store;

pub use dispatcher::spawn_dispatcher;
pub use routes::router;
pub use runtime::DownloadRuntime;
pub use store::holding_slots;
