//! One module a page.

mod admin;
mod home;
mod invite;
mod login;
mod not_found;

pub use admin::AdminPage;
pub use home::HomePage;
pub use invite::InvitePage;
pub use login::LoginPage;
pub use not_found::NotFound;
