//! The library: the listing (`cloister ls` and the gallery) and the sealed files members fetch to
//! decrypt on their own machines (the original, and what processing made for playback).

mod delivery;
pub mod list;
pub mod original;
mod playback;
mod published;
pub mod routes;

pub use routes::router;
