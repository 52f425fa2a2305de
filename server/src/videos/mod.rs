//! The library listing (minimal for `cloister ls` and the gallery; later issues add more).

pub mod list;
pub mod original;
pub mod routes;

pub use routes::router;
