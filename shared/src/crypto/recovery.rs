//! The recovery key (docs/format.md, "Recovery key"): 256 random bits written as 24 words of the
//! BIP-39 English list (the last word carries an 8-bit checksum). The words are turned into an
//! X25519 key pair, and the library key is sealed to its public key exactly as to a member's, so a
//! key change can re-seal it without anyone typing the words.

use std::fmt;

use bip39::{Language, Mnemonic};
use hkdf::Hkdf;
use sha2::Sha256;
use zeroize::Zeroizing;

use super::keys::KEY_LEN;
use super::member::{MemberPublicKey, MemberSecretKey};
use super::{random, CryptoError};

/// HKDF info that turns the recovery entropy into an X25519 private key.
const SECRET_KEY_INFO: &[u8] = b"cloister/recovery-key/v1";
pub const WORD_COUNT: usize = 24;
const ENTROPY_LEN: usize = 32;

/// The recovery key's 32 bytes of entropy.
#[derive(Clone)]
pub struct RecoveryKey(Zeroizing<[u8; ENTROPY_LEN]>);

/// Why typed words are not a recovery key, in words for people.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RecoveryPhraseError {
    #[error("A recovery key has 24 words; this has {0}.")]
    WordCount(usize),
    #[error(
        "Word {position} (“{word}”) is not one of the recovery key's words. Check its spelling."
    )]
    UnknownWord { position: usize, word: String },
    #[error(
        "These 24 words are not a recovery key: a word is wrong or two are swapped. Check them \
         against the sheet, in order."
    )]
    Checksum,
}

impl RecoveryKey {
    pub fn generate() -> Result<Self, CryptoError> {
        Ok(Self(Zeroizing::new(random::array()?)))
    }

    pub fn from_entropy(entropy: [u8; ENTROPY_LEN]) -> Self {
        Self(Zeroizing::new(entropy))
    }

    /// The 24 words, in order.
    pub fn words(&self) -> Vec<String> {
        // 32 bytes is always a valid BIP-39 entropy length.
        Mnemonic::from_entropy_in(Language::English, self.0.as_ref())
            .map(|m| m.words().map(str::to_owned).collect())
            .unwrap_or_default()
    }

    /// Reads typed words: any whitespace between them, any letter case, numbering ("1." or "1)")
    /// before a word ignored.
    pub fn parse(text: &str) -> Result<Self, RecoveryPhraseError> {
        let words: Vec<String> = text
            .split_whitespace()
            .map(|w| w.trim_matches(|c: char| !c.is_alphabetic()).to_lowercase())
            .filter(|w| !w.is_empty())
            .collect();
        if words.len() != WORD_COUNT {
            return Err(RecoveryPhraseError::WordCount(words.len()));
        }
        let list = Language::English.word_list();
        if let Some((i, word)) = words
            .iter()
            .enumerate()
            .find(|(_, w)| list.binary_search(&w.as_str()).is_err())
        {
            return Err(RecoveryPhraseError::UnknownWord {
                position: i + 1,
                word: word.clone(),
            });
        }
        let mnemonic = Mnemonic::parse_in_normalized(Language::English, &words.join(" "))
            .map_err(|_| RecoveryPhraseError::Checksum)?;
        let (entropy, len) = mnemonic.to_entropy_array();
        let entropy = Zeroizing::new(entropy);
        let bytes: [u8; ENTROPY_LEN] = entropy
            .get(..len)
            .and_then(|e| e.try_into().ok())
            .ok_or(RecoveryPhraseError::WordCount(words.len()))?;
        Ok(Self::from_entropy(bytes))
    }

    /// X25519 private key = HKDF-SHA256(ikm = entropy, no salt, info = "cloister/recovery-key/v1").
    pub fn secret_key(&self) -> Result<MemberSecretKey, CryptoError> {
        let mut bytes = Zeroizing::new([0u8; KEY_LEN]);
        Hkdf::<Sha256>::new(None, self.0.as_ref())
            .expand(SECRET_KEY_INFO, bytes.as_mut())
            .map_err(|_| CryptoError::KeyDerivation)?;
        Ok(MemberSecretKey::from_bytes(*bytes))
    }

    pub fn public_key(&self) -> Result<MemberPublicKey, CryptoError> {
        Ok(self.secret_key()?.public_key())
    }
}

impl fmt::Debug for RecoveryKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("RecoveryKey(..)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_round_trip() {
        let key = RecoveryKey::generate().unwrap();
        let words = key.words();
        assert_eq!(words.len(), 24);
        let numbered: String = words
            .iter()
            .enumerate()
            .map(|(i, w)| format!("{}. {}\n", i + 1, w.to_uppercase()))
            .collect();
        let parsed = RecoveryKey::parse(&numbered).unwrap();
        assert_eq!(parsed.public_key().unwrap(), key.public_key().unwrap());
    }

    #[test]
    fn bad_phrases_say_what_is_wrong() {
        let words = RecoveryKey::from_entropy([9; 32]).words();
        assert_eq!(
            RecoveryKey::parse(&words[..23].join(" ")).unwrap_err(),
            RecoveryPhraseError::WordCount(23)
        );
        let mut typo = words.clone();
        typo[6] = "abandn".to_owned();
        assert_eq!(
            RecoveryKey::parse(&typo.join(" ")).unwrap_err(),
            RecoveryPhraseError::UnknownWord {
                position: 7,
                word: "abandn".to_owned()
            }
        );
        // Another real word in place of the last one breaks the checksum.
        let mut wrong = words.clone();
        wrong[23] = if wrong[23] == "zoo" { "abandon" } else { "zoo" }.to_owned();
        assert_eq!(
            RecoveryKey::parse(&wrong.join(" ")).unwrap_err(),
            RecoveryPhraseError::Checksum
        );
    }
}
