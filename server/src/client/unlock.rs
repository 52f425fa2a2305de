//! Opening and rewrapping the library key on the command line, with the shared crypto. Argon2id at
//! the design floor takes a moment and 64 MiB, so it runs on a blocking thread.

use cloister_shared::api::library::decode_salt;
use cloister_shared::api::LibraryStatus;
use cloister_shared::crypto::keys::KDF_SALT_LEN;
use cloister_shared::crypto::random;
use cloister_shared::{
    unwrap_library_key, wrap_library_key, CryptoError, KdfParams, LibraryKey, PassphraseKey,
    WrappedKey,
};
use zeroize::Zeroizing;

#[derive(Debug, thiserror::Error)]
pub enum UnlockError {
    #[error("The library has no passphrase yet. An admin sets one with `cloister library init` or in the web app.")]
    NotInitialized,
    /// The message docs/architecture.md gives for a wrong passphrase.
    #[error("Unable to decrypt. Check passphrase.")]
    WrongPassphrase,
    #[error("The server sent key-derivation settings this client refuses ({0}).")]
    BadServerData(String),
    #[error("Encryption failed: {0}")]
    Crypto(CryptoError),
}

async fn blocking<T: Send + 'static>(
    work: impl FnOnce() -> Result<T, UnlockError> + Send + 'static,
) -> Result<T, UnlockError> {
    tokio::task::spawn_blocking(work)
        .await
        .map_err(|_| UnlockError::Crypto(CryptoError::KeyDerivation))?
}

/// Derives the passphrase key with the library's salt and parameters and opens the library key.
/// The parameters come from the server and are validated first (no downgrade, no DoS).
pub async fn unlock(
    status: &LibraryStatus,
    passphrase: Zeroizing<String>,
) -> Result<LibraryKey, UnlockError> {
    let (Some(kdf), Some(wrapped)) = (&status.kdf, &status.wrapped_library_key) else {
        return Err(UnlockError::NotInitialized);
    };
    let salt =
        decode_salt(&kdf.salt_hex).map_err(|err| UnlockError::BadServerData(err.to_string()))?;
    let params = kdf.params;
    params
        .validate()
        .map_err(|err| UnlockError::BadServerData(err.to_string()))?;
    let wrapped = wrapped.clone();
    blocking(move || {
        let key = PassphraseKey::derive(passphrase.as_bytes(), &salt, &params)
            .map_err(UnlockError::Crypto)?;
        unwrap_library_key(&key, &wrapped).map_err(|err| match err {
            CryptoError::WrongPassphrase => UnlockError::WrongPassphrase,
            other => UnlockError::Crypto(other),
        })
    })
    .await
}

/// A fresh salt, the default (floor) parameters, and `library_key` wrapped under the key derived
/// from `passphrase`: what `library init` and `library passwd` send.
pub async fn wrap_for_passphrase(
    passphrase: Zeroizing<String>,
    library_key: LibraryKey,
) -> Result<([u8; KDF_SALT_LEN], KdfParams, WrappedKey), UnlockError> {
    blocking(move || {
        let mut salt = [0u8; KDF_SALT_LEN];
        random::fill(&mut salt).map_err(UnlockError::Crypto)?;
        let params = KdfParams::default();
        let key = PassphraseKey::derive(passphrase.as_bytes(), &salt, &params)
            .map_err(UnlockError::Crypto)?;
        let wrapped = wrap_library_key(&key, &library_key).map_err(UnlockError::Crypto)?;
        Ok((salt, params, wrapped))
    })
    .await
}
