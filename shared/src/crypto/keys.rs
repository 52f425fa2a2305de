//! Key hierarchy (docs/format.md): passphrase key → library key → per-video DEK.

use std::fmt;

use aes_gcm::aead::{Aead, KeyInit, Payload};
use aes_gcm::Aes256Gcm;
use argon2::{Algorithm, Argon2, Params, Version};
use serde::{de, Deserialize, Deserializer, Serialize, Serializer};
use zeroize::{Zeroize, ZeroizeOnDrop, Zeroizing};

use super::{random, CryptoError};
use crate::ids::VideoId;

pub const KEY_LEN: usize = 32;
pub const KDF_SALT_LEN: usize = 16;
const NONCE_LEN: usize = 12;
const TAG_LEN: usize = 16;

const LIBRARY_KEY_AAD: &[u8] = b"cloister/library-key/v1";
const DEK_AAD_PREFIX: &[u8] = b"cloister/dek/v1";

macro_rules! secret_key {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Clone, Zeroize, ZeroizeOnDrop)]
        pub struct $name([u8; KEY_LEN]);

        impl $name {
            pub fn as_bytes(&self) -> &[u8; KEY_LEN] {
                &self.0
            }
        }

        // Never print key bytes, not even in debug logs.
        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(concat!(stringify!($name), "(..)"))
            }
        }
    };
}

secret_key!(
    /// Argon2id(passphrase, salt). Only ever exists in the browser.
    PassphraseKey
);
secret_key!(
    /// 32 random bytes per library; stored on the server only wrapped.
    LibraryKey
);
secret_key!(
    /// Per-video data encryption key; stored only wrapped under the library key.
    Dek
);

impl LibraryKey {
    pub fn generate() -> Result<Self, CryptoError> {
        random::array().map(Self)
    }
    pub fn from_bytes(bytes: [u8; KEY_LEN]) -> Self {
        Self(bytes)
    }
}

impl Dek {
    pub fn generate() -> Result<Self, CryptoError> {
        random::array().map(Self)
    }
    pub fn from_bytes(bytes: [u8; KEY_LEN]) -> Self {
        Self(bytes)
    }
}

/// Argon2id cost parameters. They come from the server, so the client
/// refuses values below the design floor (downgrade) or absurdly high (DoS).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct KdfParams {
    pub m_cost_kib: u32,
    pub t_cost: u32,
    pub p_cost: u32,
}

impl KdfParams {
    pub const MIN_M_COST_KIB: u32 = 64 * 1024;
    pub const MAX_M_COST_KIB: u32 = 1024 * 1024;
    pub const MIN_T_COST: u32 = 3;
    pub const MAX_T_COST: u32 = 20;
    pub const MIN_P_COST: u32 = 1;
    pub const MAX_P_COST: u32 = 8;

    pub fn validate(&self) -> Result<(), CryptoError> {
        let ok = (Self::MIN_M_COST_KIB..=Self::MAX_M_COST_KIB).contains(&self.m_cost_kib)
            && (Self::MIN_T_COST..=Self::MAX_T_COST).contains(&self.t_cost)
            && (Self::MIN_P_COST..=Self::MAX_P_COST).contains(&self.p_cost);
        if ok {
            Ok(())
        } else {
            Err(CryptoError::BadKdfParams)
        }
    }
}

impl Default for KdfParams {
    fn default() -> Self {
        Self {
            m_cost_kib: Self::MIN_M_COST_KIB,
            t_cost: Self::MIN_T_COST,
            p_cost: Self::MIN_P_COST,
        }
    }
}

impl PassphraseKey {
    /// Argon2id v1.3 with a 32-byte output. Validates `params` first.
    pub fn derive(
        passphrase: &[u8],
        salt: &[u8; KDF_SALT_LEN],
        params: &KdfParams,
    ) -> Result<Self, CryptoError> {
        params.validate()?;
        let p = Params::new(
            params.m_cost_kib,
            params.t_cost,
            params.p_cost,
            Some(KEY_LEN),
        )
        .map_err(|_| CryptoError::BadKdfParams)?;
        let mut out = Self([0u8; KEY_LEN]);
        Argon2::new(Algorithm::Argon2id, Version::V0x13, p)
            .hash_password_into(passphrase, salt, &mut out.0)
            .map_err(|_| CryptoError::KeyDerivation)?;
        Ok(out)
    }
}

/// A 32-byte key sealed under another: nonce (12) ‖ ciphertext (32) ‖ tag (16).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WrappedKey([u8; WrappedKey::LEN]);

impl WrappedKey {
    pub const LEN: usize = NONCE_LEN + KEY_LEN + TAG_LEN;

    pub fn to_bytes(&self) -> [u8; Self::LEN] {
        self.0
    }

    pub fn from_bytes(bytes: &[u8]) -> Result<Self, CryptoError> {
        bytes
            .try_into()
            .map(Self)
            .map_err(|_| CryptoError::BadWrappedKey)
    }

    pub fn to_hex(&self) -> String {
        hex::encode(self.0)
    }

    pub fn from_hex(s: &str) -> Result<Self, CryptoError> {
        let mut out = [0u8; Self::LEN];
        hex::decode_to_slice(s, &mut out).map_err(|_| CryptoError::BadWrappedKey)?;
        Ok(Self(out))
    }
}

impl Serialize for WrappedKey {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.to_hex())
    }
}

impl<'de> Deserialize<'de> for WrappedKey {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        Self::from_hex(&s).map_err(de::Error::custom)
    }
}

pub(super) fn wrap(
    kek: &[u8; KEY_LEN],
    key: &[u8; KEY_LEN],
    aad: &[u8],
) -> Result<WrappedKey, CryptoError> {
    // A random 96-bit nonce is safe here: each KEK wraps few keys.
    let nonce: [u8; NONCE_LEN] = random::array()?;
    let ct = Aes256Gcm::new(&(*kek).into())
        .encrypt(&nonce.into(), Payload { msg: key, aad })
        .map_err(|_| CryptoError::Encrypt)?;
    let mut out = [0u8; WrappedKey::LEN];
    out[..NONCE_LEN].copy_from_slice(&nonce);
    out.get_mut(NONCE_LEN..)
        .filter(|rest| rest.len() == ct.len())
        .ok_or(CryptoError::Encrypt)?
        .copy_from_slice(&ct);
    Ok(WrappedKey(out))
}

/// Opens a wrapped key; `None` when authentication fails.
pub(super) fn unwrap(
    kek: &[u8; KEY_LEN],
    wrapped: &WrappedKey,
    aad: &[u8],
) -> Option<[u8; KEY_LEN]> {
    let (nonce, ct) = wrapped.0.split_at(NONCE_LEN);
    let nonce: [u8; NONCE_LEN] = nonce.try_into().ok()?;
    let pt = Aes256Gcm::new(&(*kek).into())
        .decrypt(&nonce.into(), Payload { msg: ct, aad })
        .ok()
        .map(Zeroizing::new)?;
    pt.as_slice().try_into().ok()
}

fn dek_aad(video: &VideoId) -> Vec<u8> {
    let mut aad = DEK_AAD_PREFIX.to_vec();
    aad.push(0);
    aad.extend_from_slice(video.to_string().as_bytes());
    aad
}

pub fn wrap_library_key(pk: &PassphraseKey, lk: &LibraryKey) -> Result<WrappedKey, CryptoError> {
    wrap(&pk.0, &lk.0, LIBRARY_KEY_AAD)
}

/// Fails with `WrongPassphrase`: this is the passphrase check (invariant 3).
pub fn unwrap_library_key(
    pk: &PassphraseKey,
    wrapped: &WrappedKey,
) -> Result<LibraryKey, CryptoError> {
    unwrap(&pk.0, wrapped, LIBRARY_KEY_AAD)
        .map(LibraryKey)
        .ok_or(CryptoError::WrongPassphrase)
}

/// The video id is bound in the AAD: a DEK only unwraps for its own video.
pub fn wrap_dek(lk: &LibraryKey, video: &VideoId, dek: &Dek) -> Result<WrappedKey, CryptoError> {
    wrap(&lk.0, &dek.0, &dek_aad(video))
}

pub fn unwrap_dek(
    lk: &LibraryKey,
    video: &VideoId,
    wrapped: &WrappedKey,
) -> Result<Dek, CryptoError> {
    unwrap(&lk.0, wrapped, &dek_aad(video))
        .map(Dek)
        .ok_or(CryptoError::Decrypt)
}

/// Whatever can open a video's wrapped key: one library key, or the keyring's current and
/// previous keys while a key change runs (`keyring::Unlocked`, docs/format.md "Member keys").
pub trait OpensVideoKeys {
    fn open_video_key(&self, video: &VideoId, wrapped: &WrappedKey) -> Result<Dek, CryptoError>;
}

impl OpensVideoKeys for LibraryKey {
    fn open_video_key(&self, video: &VideoId, wrapped: &WrappedKey) -> Result<Dek, CryptoError> {
        unwrap_dek(self, video, wrapped)
    }
}
