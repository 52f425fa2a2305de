//! Pieces more than one page uses.

mod field;
mod header;
mod passphrase_forms;

pub use field::TextField;
pub use header::SiteHeader;
pub use passphrase_forms::{ChoosePassphrase, ErrorLine, UnlockLibrary};
