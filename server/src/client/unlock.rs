//! Unlocking on the command line with the shared keyring (shared/src/keyring.rs), as the browser
//! does: the member's own passphrase opens their private key, which opens their grant of the
//! library key; a library not yet converted opens with its shared passphrase (docs/accounts.md,
//! "Keys for people"). Argon2id at the design floor takes a moment and 64 MiB, so every keyring
//! call runs on a blocking thread.

use cloister_shared::api::keys::{LibraryMode, LibraryStatus};
use cloister_shared::keyring::{self, KeyringError, Unlocked};
use zeroize::Zeroizing;

#[derive(Debug, thiserror::Error)]
pub enum UnlockError {
    #[error("The library has not been set up yet. An admin sets it up with `cloister library init` or in the web app.")]
    NotInitialized,
    #[error("You have not chosen your passphrase yet: run `cloister library keys`, then ask an admin to let you in.")]
    NoKeys,
    /// The keyring's own words ("Unable to decrypt. Check passphrase.", "An admin needs to let
    /// you in …").
    #[error("{0}")]
    Keyring(#[from] KeyringError),
    #[error("The key work was interrupted on this machine.")]
    Interrupted,
}

/// Runs key work (Argon2id, sealing) off the async threads.
pub async fn blocking<T: Send + 'static>(
    work: impl FnOnce() -> Result<T, KeyringError> + Send + 'static,
) -> Result<T, UnlockError> {
    tokio::task::spawn_blocking(work)
        .await
        .map_err(|_| UnlockError::Interrupted)?
        .map_err(UnlockError::from)
}

/// What the passphrase asked for opens: the caller's own, or the shared one of a library whose
/// member has not converted yet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PassphraseKind {
    Own,
    Shared,
}

/// Which passphrase `status` needs from this member, or why none would help.
pub fn passphrase_kind(status: &LibraryStatus) -> Result<PassphraseKind, UnlockError> {
    match (status.mode, &status.me, &status.shared) {
        (LibraryMode::New, _, _) => Err(UnlockError::NotInitialized),
        (_, Some(_), _) => Ok(PassphraseKind::Own),
        (LibraryMode::Shared, None, Some(_)) => Ok(PassphraseKind::Shared),
        (_, None, _) => Err(UnlockError::NoKeys),
    }
}

/// Opens the library with `passphrase` (the kind `passphrase_kind` said).
pub async fn unlock(
    status: &LibraryStatus,
    passphrase: Zeroizing<String>,
) -> Result<Unlocked, UnlockError> {
    let kind = passphrase_kind(status)?;
    let status = status.clone();
    blocking(move || match (kind, &status.shared) {
        (PassphraseKind::Shared, Some(shared)) => {
            keyring::unlock_shared(&passphrase, shared, status.generation)
        }
        _ => keyring::unlock(&passphrase, &status),
    })
    .await
}
