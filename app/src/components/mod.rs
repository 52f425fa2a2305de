//! Pieces more than one page uses.

mod field;
mod header;
mod passphrase_forms;
mod processing;

pub use field::TextField;
pub use header::SiteHeader;
pub use passphrase_forms::{ChoosePassphrase, ErrorLine, UnlockLibrary};
pub use processing::{JobControls, ProcessingBar};
