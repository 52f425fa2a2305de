//! The member's keys in the browser (docs/accounts.md, "Passphrases and keys"): the protocol is
//! `cloister_shared::keyring`, shared with the CLI; this module adds what only a browser tab does —
//! remembering the member's private key for this browser session if they ask, the passphrase
//! strength hint, and letting the page paint before Argon2 blocks it. The passphrase and the keys
//! never leave this tab.

use cloister_shared::crypto::member::MemberSecretKey;
pub use cloister_shared::keyring::{KeyringError, Unlocked};

pub const MIN_PASSPHRASE_CHARS: usize = 10;
#[cfg(feature = "hydrate")]
const STORAGE_KEY: &str = "cloister.member-key";
/// Where the library key was remembered before members had their own keys: cleared on sight.
#[cfg(feature = "hydrate")]
const OLD_STORAGE_KEY: &str = "cloister.library-key";

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

/// Checks a new passphrase before Argon2 runs: long enough, typed twice the same, and not the
/// sign-in password (the server sees that one; docs/decisions.md, "Keys for people").
pub fn check_new_passphrase(
    new: &str,
    confirm: &str,
    password: Option<&str>,
) -> Result<(), String> {
    if new.chars().count() < MIN_PASSPHRASE_CHARS {
        return Err(format!("Use at least {MIN_PASSPHRASE_CHARS} characters."));
    }
    if new != confirm {
        return Err("The two passphrases are not the same.".to_owned());
    }
    if password.is_some_and(|password| password == new) {
        return Err(
            "Choose a passphrase that is not your sign-in password: the server sees your password, \
             and must never see your passphrase."
                .to_owned(),
        );
    }
    Ok(())
}

#[cfg(feature = "hydrate")]
fn storage() -> Option<web_sys::Storage> {
    web_sys::window()?.session_storage().ok()?
}

/// The private key remembered for this browser session, if the member opted in.
#[cfg(feature = "hydrate")]
pub fn remembered() -> Option<MemberSecretKey> {
    let storage = storage()?;
    let _ = storage.remove_item(OLD_STORAGE_KEY);
    let hex_key = zeroize::Zeroizing::new(storage.get_item(STORAGE_KEY).ok()??);
    let mut bytes = zeroize::Zeroizing::new([0u8; 32]);
    hex::decode_to_slice(hex_key.as_str(), bytes.as_mut()).ok()?;
    Some(MemberSecretKey::from_bytes(*bytes))
}

#[cfg(feature = "hydrate")]
pub fn remember(secret: &MemberSecretKey) {
    if let Some(storage) = storage() {
        let hex_key = zeroize::Zeroizing::new(hex::encode(*secret.to_bytes()));
        let _ = storage.set_item(STORAGE_KEY, &hex_key);
    }
}

#[cfg(feature = "hydrate")]
pub fn forget() {
    if let Some(storage) = storage() {
        let _ = storage.remove_item(STORAGE_KEY);
        let _ = storage.remove_item(OLD_STORAGE_KEY);
    }
}

#[cfg(not(feature = "hydrate"))]
pub fn remembered() -> Option<MemberSecretKey> {
    None
}

#[cfg(not(feature = "hydrate"))]
pub fn remember(_secret: &MemberSecretKey) {}

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

    #[test]
    fn a_new_passphrase_is_long_typed_twice_and_not_the_password() {
        assert!(check_new_passphrase("short", "short", None).is_err());
        assert_eq!(
            check_new_passphrase("long enough words", "long enough wordz", None).unwrap_err(),
            "The two passphrases are not the same."
        );
        assert!(check_new_passphrase(
            "my sign-in password",
            "my sign-in password",
            Some("my sign-in password")
        )
        .unwrap_err()
        .contains("not your sign-in password"));
        assert!(
            check_new_passphrase("long enough words", "long enough words", Some("other")).is_ok()
        );
    }
}

/// The steps that need the recovery key's BIP-39 word list, loaded on first use: with
/// `cargo leptos build --split` they are a WebAssembly file of their own, so a first visit (and
/// every unlock) does without the list (docs/decisions.md, "The first visit").
pub mod recovery {
    use cloister_shared::api::keys::{
        CreateLibraryRequest, RecoveryChallenge, RecoveryRestoreRequest, SetRecoveryRequest,
    };
    use cloister_shared::crypto::recovery::RecoveryKey;

    use super::Unlocked;

    /// A new library and its recovery key's 24 words.
    #[leptos::lazy]
    pub fn new_library(
        passphrase: String,
    ) -> Result<(CreateLibraryRequest, Unlocked, Vec<String>), String> {
        cloister_shared::keyring::new_library(&passphrase)
            .map(|(request, unlocked, recovery)| (request, unlocked, recovery.words()))
            .map_err(|err| err.to_string())
    }

    /// A new recovery key for the unlocked library, and its words.
    #[leptos::lazy]
    pub fn new_recovery(unlocked: Unlocked) -> Result<(SetRecoveryRequest, Vec<String>), String> {
        cloister_shared::keyring::new_recovery(&unlocked)
            .map(|(request, recovery)| (request, recovery.words()))
            .map_err(|err| err.to_string())
    }

    /// Whether typed words are a recovery key at all (before the server is asked).
    #[leptos::lazy]
    pub fn check_words(words: String) -> Result<(), String> {
        RecoveryKey::parse(&words)
            .map(|_| ())
            .map_err(|err| err.to_string())
    }

    /// Back in with the 24 words: the restore request and the unlocked library.
    #[leptos::lazy]
    pub fn recover(
        words: String,
        challenge: RecoveryChallenge,
        passphrase: String,
    ) -> Result<(RecoveryRestoreRequest, Unlocked), String> {
        cloister_shared::keyring::recover(&words, &challenge, &passphrase)
            .map_err(|err| err.to_string())
    }
}
