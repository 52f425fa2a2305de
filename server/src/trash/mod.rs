//! The trash (docs/decisions.md, "Delete, trash, restore"): deleting a video moves it here, where
//! its owner or an admin can restore it or delete it for good until the retention ends. Routes,
//! the rules (`domain`), purging (`purge`) and the SQL (`store`).

pub mod domain;
pub mod purge;
mod routes;
pub mod store;

pub use routes::router;
pub use store::NOT_TRASHED;
