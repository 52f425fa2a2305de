//! Pieces more than one page uses.

mod field;
mod header;
mod passphrase_forms;
mod processing;
mod recovery_sheet;

pub use field::TextField;
pub use header::SiteHeader;
pub use passphrase_forms::{ChoosePassphrase, ErrorLine, UnlockLibrary};
pub use processing::{JobControls, ProcessingBar};
pub use recovery_sheet::RecoverySheet;
