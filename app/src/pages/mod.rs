//! One module a page.

mod home;
mod not_found;

pub use home::HomePage;
pub use not_found::NotFound;
