//! The library: the listing (`cloister ls` and the gallery) and the sealed files members fetch to
//! decrypt on their own machines (the original, and what processing made for playback).

pub(crate) mod delivery;
pub mod edit;
pub mod index;
pub mod list;
pub mod original;
pub(crate) mod playback;
pub(crate) mod published;
pub mod routes;
pub mod store;

pub use routes::router;
