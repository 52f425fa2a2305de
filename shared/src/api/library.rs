//! The library passphrase: `/api/library`. The server only ever sees the salt, the Argon2id
//! parameters and the library key wrapped under the passphrase key (docs/format.md).

use serde::{Deserialize, Serialize};

use crate::crypto::keys::{KdfParams, WrappedKey, KDF_SALT_LEN};

/// The salt and cost parameters the passphrase key is derived with.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct KdfInfo {
    /// 16 bytes as 32 lowercase hex digits.
    pub salt_hex: String,
    pub params: KdfParams,
}

impl KdfInfo {
    pub fn new(salt: &[u8; KDF_SALT_LEN], params: KdfParams) -> Self {
        Self {
            salt_hex: hex::encode(salt),
            params,
        }
    }

    pub fn salt(&self) -> Result<[u8; KDF_SALT_LEN], BadSalt> {
        decode_salt(&self.salt_hex)
    }
}

/// `salt_hex` is not 16 bytes of hex.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("salt_hex must be {KDF_SALT_LEN} bytes written as {} hex digits", KDF_SALT_LEN * 2)]
pub struct BadSalt;

pub fn decode_salt(salt_hex: &str) -> Result<[u8; KDF_SALT_LEN], BadSalt> {
    let mut salt = [0u8; KDF_SALT_LEN];
    hex::decode_to_slice(salt_hex, &mut salt).map_err(|_| BadSalt)?;
    Ok(salt)
}

/// `GET /api/library`: whether the library has a passphrase yet and, if so, what a member's
/// browser needs to open the library key.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LibraryStatus {
    pub initialized: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kdf: Option<KdfInfo>,
    /// Hex: nonce ‖ ciphertext ‖ tag (`WrappedKey::LEN` bytes).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub wrapped_library_key: Option<WrappedKey>,
}

/// `POST /api/library` (admin): sets the passphrase on a library that has none.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InitLibraryRequest {
    pub salt_hex: String,
    pub params: KdfParams,
    pub wrapped_library_key: WrappedKey,
}

/// `PUT /api/library/passphrase` (admin): rewraps the same library key under a new passphrase.
/// The client proves it knew the old passphrase by having unwrapped the current key itself; the
/// server accepts the change only while `expected_wrapped_library_key` is still the stored one.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChangePassphraseRequest {
    pub expected_wrapped_library_key: WrappedKey,
    pub salt_hex: String,
    pub params: KdfParams,
    pub wrapped_library_key: WrappedKey,
}
