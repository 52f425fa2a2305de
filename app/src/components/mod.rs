//! Pieces more than one page uses.

mod field;
mod header;
mod no_owner_hint;
mod passphrase_forms;
mod processing;
mod recovery_sheet;

pub use field::TextField;
pub use header::SiteHeader;
pub use no_owner_hint::NoOwnerHint;
pub use passphrase_forms::{ChoosePassphrase, ErrorLine, UnlockLibrary};
pub use processing::{JobControls, ProcessingBar};
pub use recovery_sheet::RecoverySheet;
