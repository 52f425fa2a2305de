//! Pieces more than one page uses.

mod field;
mod header;
pub mod keys;
mod processing;
mod recovery_sheet;

pub use field::TextField;
pub use header::SiteHeader;
pub use keys::{ErrorLine, KeysGate};
pub use processing::{JobControls, ProcessingBar};
pub use recovery_sheet::RecoverySheet;
