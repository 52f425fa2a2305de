//! One module a page.

mod admin;
mod home;
mod invite;
mod lazy;
mod login;
mod not_found;
mod processing_banner;
mod setup;
mod share;
mod trash;
mod upload;
mod video;

pub use admin::AdminPage;
pub use home::HomePage;
pub use invite::InvitePage;
pub use lazy::{AdminRoute, SetupRoute, ShareRoute, TrashRoute, UploadRoute, VideoRoute};
pub use login::LoginPage;
pub use not_found::NotFound;
pub use setup::SetupPage;
pub use share::SharePage;
pub use trash::TrashPage;
pub use upload::UploadPage;
pub use video::{LibraryWithVideo, VideoView};
