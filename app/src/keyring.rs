//! The library passphrase in the browser: choosing it, unlocking with it, and (only if the member
//! asks) remembering the library key for this browser session. The passphrase and the key derived
//! from it never leave this tab.

use cloister_shared::api::{ChangePassphraseRequest, InitLibraryRequest, KdfInfo, LibraryStatus};
use cloister_shared::crypto::keys::{
    unwrap_library_key, wrap_library_key, KdfParams, LibraryKey, PassphraseKey, KDF_SALT_LEN,
};
use cloister_shared::crypto::{random, CryptoError};

pub const WRONG_PASSPHRASE: &str = "Unable to decrypt. Check passphrase.";
pub const MIN_PASSPHRASE_CHARS: usize = 10;
#[cfg(feature = "hydrate")]
const STORAGE_KEY: &str = "cloister.library-key";

/// Opens the library key with `passphrase`. Takes a few seconds: Argon2id at 64 MiB.
pub fn unlock(passphrase: &str, status: &LibraryStatus) -> Result<LibraryKey, String> {
    let (Some(kdf), Some(wrapped)) = (&status.kdf, &status.wrapped_library_key) else {
        return Err("The library has no passphrase yet.".to_owned());
    };
    let passphrase_key = derive(passphrase, kdf)?;
    unwrap_library_key(&passphrase_key, wrapped).map_err(|err| match err {
        CryptoError::WrongPassphrase | CryptoError::Decrypt => WRONG_PASSPHRASE.to_owned(),
        other => format!("The library key could not be opened: {other}."),
    })
}

/// Makes the library key and wraps it under a key derived from `passphrase`, for a new library.
pub fn create(passphrase: &str) -> Result<(InitLibraryRequest, LibraryKey), String> {
    let library_key = LibraryKey::generate().map_err(crypto_failed)?;
    let (kdf, wrapped) = wrap_under_new_passphrase(passphrase, &library_key)?;
    let request = InitLibraryRequest {
        salt_hex: kdf.salt_hex,
        params: kdf.params,
        wrapped_library_key: wrapped,
    };
    Ok((request, library_key))
}

/// Rewraps the one library key under a new passphrase, after proving the old one opens it.
pub fn change(
    old: &str,
    new: &str,
    status: &LibraryStatus,
) -> Result<(ChangePassphraseRequest, LibraryKey), String> {
    let library_key = unlock(old, status)?;
    let expected = status
        .wrapped_library_key
        .clone()
        .ok_or("The library has no passphrase yet.")?;
    let (kdf, wrapped) = wrap_under_new_passphrase(new, &library_key)?;
    let request = ChangePassphraseRequest {
        expected_wrapped_library_key: expected,
        salt_hex: kdf.salt_hex,
        params: kdf.params,
        wrapped_library_key: wrapped,
    };
    Ok((request, library_key))
}

fn wrap_under_new_passphrase(
    passphrase: &str,
    library_key: &LibraryKey,
) -> Result<(KdfInfo, cloister_shared::crypto::keys::WrappedKey), String> {
    let mut salt = [0u8; KDF_SALT_LEN];
    random::fill(&mut salt).map_err(crypto_failed)?;
    let kdf = KdfInfo::new(&salt, KdfParams::default());
    let passphrase_key = derive(passphrase, &kdf)?;
    let wrapped = wrap_library_key(&passphrase_key, library_key).map_err(crypto_failed)?;
    Ok((kdf, wrapped))
}

fn derive(passphrase: &str, kdf: &KdfInfo) -> Result<PassphraseKey, String> {
    // A server that offered weak parameters could make a passphrase cheap to guess: refuse them.
    kdf.params.validate().map_err(|_| {
        "The server offered key-derivation settings that are too weak. Contact your admin."
            .to_owned()
    })?;
    let salt = kdf
        .salt()
        .map_err(|_| "The server sent a damaged salt. Contact your admin.".to_owned())?;
    PassphraseKey::derive(passphrase.as_bytes(), &salt, &kdf.params).map_err(crypto_failed)
}

fn crypto_failed(err: CryptoError) -> String {
    format!("Encryption failed in this browser: {err}.")
}

/// A plain-words hint about a passphrase's strength (length is what matters most against
/// offline guessing; see docs/decisions.md for why this is not zxcvbn).
pub fn strength_hint(passphrase: &str) -> (&'static str, &'static str) {
    let chars = passphrase.chars().count();
    let words = passphrase
        .split_whitespace()
        .filter(|w| w.chars().count() >= 3)
        .count();
    let classes = [
        passphrase.chars().any(char::is_lowercase),
        passphrase.chars().any(char::is_uppercase),
        passphrase.chars().any(|c| c.is_ascii_digit()),
        passphrase.chars().any(|c| !c.is_alphanumeric()),
    ]
    .iter()
    .filter(|present| **present)
    .count();
    if chars < MIN_PASSPHRASE_CHARS {
        ("too-short", "Too short: use at least 10 characters.")
    } else if chars >= 24 || words >= 4 {
        (
            "strong",
            "Strong: long passphrases are the hardest to guess.",
        )
    } else if chars >= 16 && classes >= 2 {
        (
            "fair",
            "Fair: a few more words would make it much stronger.",
        )
    } else {
        (
            "weak",
            "Weak: anyone with a copy of the server's data could guess it. Use four or more words.",
        )
    }
}

#[cfg(feature = "hydrate")]
fn storage() -> Option<web_sys::Storage> {
    web_sys::window()?.session_storage().ok()?
}

/// The key remembered for this browser session, if the member opted in.
#[cfg(feature = "hydrate")]
pub fn remembered() -> Option<LibraryKey> {
    let hex_key = zeroize::Zeroizing::new(storage()?.get_item(STORAGE_KEY).ok()??);
    let mut bytes = zeroize::Zeroizing::new([0u8; 32]);
    hex::decode_to_slice(hex_key.as_str(), bytes.as_mut()).ok()?;
    Some(LibraryKey::from_bytes(*bytes))
}

#[cfg(feature = "hydrate")]
pub fn remember(key: &LibraryKey) {
    if let Some(storage) = storage() {
        let hex_key = zeroize::Zeroizing::new(hex::encode(key.as_bytes()));
        let _ = storage.set_item(STORAGE_KEY, &hex_key);
    }
}

#[cfg(feature = "hydrate")]
pub fn forget() {
    if let Some(storage) = storage() {
        let _ = storage.remove_item(STORAGE_KEY);
    }
}

#[cfg(not(feature = "hydrate"))]
pub fn remembered() -> Option<LibraryKey> {
    None
}

#[cfg(not(feature = "hydrate"))]
pub fn remember(_key: &LibraryKey) {}

#[cfg(not(feature = "hydrate"))]
pub fn forget() {}

/// Lets the browser paint (a "working…" message) before a long synchronous computation.
pub async fn let_the_page_paint() {
    crate::browser::sleep_ms(60).await;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strength_hint_grows_with_length() {
        assert_eq!(strength_hint("short").0, "too-short");
        assert_eq!(strength_hint("aaaaaaaaaaaa").0, "weak");
        assert_eq!(strength_hint("Sixteen chars 12").0, "fair");
        assert_eq!(strength_hint("correct horse battery staple").0, "strong");
    }
}
