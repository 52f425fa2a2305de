//! Pieces more than one page uses.

mod header;
mod passphrase_forms;

pub use header::SiteHeader;
pub use passphrase_forms::{ChoosePassphrase, ErrorLine, UnlockLibrary};
