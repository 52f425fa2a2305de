//! Keys for people (docs/format.md, "Member keys"): each member has an X25519 key pair; the
//! private key is stored on the server wrapped under the member's own passphrase key, and the
//! library key reaches the member sealed to their public key (libsodium's anonymous sealed box,
//! `crypto_box_seal`). The server stores only public keys, wrapped private keys and sealed boxes:
//! nothing it holds opens anything.

use std::fmt;

use crypto_box::{PublicKey, SecretKey};
use curve25519_dalek::montgomery::MontgomeryPoint;
use serde::{de, Deserialize, Deserializer, Serialize, Serializer};
use zeroize::Zeroizing;

use super::keys::{self, LibraryKey, PassphraseKey, WrappedKey, KEY_LEN};
use super::{random, CryptoError};

/// Associated data of a wrapped private key: label ‖ 0 ‖ the public key (32 bytes).
const PRIVATE_KEY_AAD_PREFIX: &[u8] = b"cloister/member-private-key/v1";
/// Associated data of a previous library key: label ‖ 0 ‖ current generation (u32 BE).
const PREVIOUS_KEY_AAD_PREFIX: &[u8] = b"cloister/previous-library-key/v1";
/// The first bytes of a challenge's plaintext, so a challenge can never be confused with a grant.
const CHALLENGE_LABEL: &[u8] = b"cloister/recovery-challenge/v1";
/// Bytes a sealed box adds: the ephemeral public key (32) and the Poly1305 tag (16).
const SEAL_OVERHEAD: usize = crypto_box::SEALBYTES;
/// The random part of a challenge, which the client returns.
pub const CHALLENGE_ANSWER_LEN: usize = 32;

/// Randomness for crypto_box, which asks for a rand_core 0.6 generator: every byte comes from
/// `random::fill` (getrandom; `crypto.getRandomValues` in the browser).
struct SystemRandom;

impl rand_core::RngCore for SystemRandom {
    fn next_u32(&mut self) -> u32 {
        rand_core::impls::next_u32_via_fill(self)
    }
    fn next_u64(&mut self) -> u64 {
        rand_core::impls::next_u64_via_fill(self)
    }
    fn fill_bytes(&mut self, dest: &mut [u8]) {
        // `try_fill_bytes` is what Cloister calls (through `seal`), after checking the generator
        // works; a generator that fails here has no safe fallback.
        if random::fill(dest).is_err() {
            panic!("the system random number generator failed");
        }
    }
    fn try_fill_bytes(&mut self, dest: &mut [u8]) -> Result<(), rand_core::Error> {
        random::fill(dest).map_err(|_| rand_core::Error::from(core::num::NonZeroU32::MIN))
    }
}

impl rand_core::CryptoRng for SystemRandom {}

/// A checked source of randomness: fails (instead of panicking later) when the generator is broken.
fn system_random() -> Result<SystemRandom, CryptoError> {
    random::array::<1>()?;
    Ok(SystemRandom)
}

/// A member's (or the recovery key's) X25519 private key.
#[derive(Clone)]
pub struct MemberSecretKey(SecretKey);

impl MemberSecretKey {
    pub fn generate() -> Result<Self, CryptoError> {
        let bytes = Zeroizing::new(random::array::<KEY_LEN>()?);
        Ok(Self(SecretKey::from_bytes(*bytes)))
    }

    pub fn from_bytes(bytes: [u8; KEY_LEN]) -> Self {
        Self(SecretKey::from_bytes(bytes))
    }

    pub fn to_bytes(&self) -> Zeroizing<[u8; KEY_LEN]> {
        Zeroizing::new(self.0.to_bytes())
    }

    pub fn public_key(&self) -> MemberPublicKey {
        MemberPublicKey(self.0.public_key().to_bytes())
    }
}

impl fmt::Debug for MemberSecretKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("MemberSecretKey(..)")
    }
}

/// An X25519 public key that is not of small order: a key of small order would make every box
/// sealed to it readable by anyone.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct MemberPublicKey([u8; KEY_LEN]);

impl MemberPublicKey {
    pub const LEN: usize = KEY_LEN;

    pub fn from_bytes(bytes: &[u8]) -> Result<Self, CryptoError> {
        let bytes: [u8; KEY_LEN] = bytes.try_into().map_err(|_| CryptoError::BadPublicKey)?;
        // A point of small order times the cofactor-clearing scalar 2^254 + 8 is the identity (all
        // zeros); any other point is not. Non-canonical encodings are reduced first.
        let mut eight = [0u8; KEY_LEN];
        eight[0] = 8;
        let cleared = MontgomeryPoint(bytes).mul_clamped(eight);
        if cleared.to_bytes() == [0u8; KEY_LEN] {
            return Err(CryptoError::BadPublicKey);
        }
        Ok(Self(bytes))
    }

    pub fn as_bytes(&self) -> &[u8; KEY_LEN] {
        &self.0
    }

    pub fn to_hex(&self) -> String {
        hex::encode(self.0)
    }

    pub fn from_hex(s: &str) -> Result<Self, CryptoError> {
        let mut out = [0u8; KEY_LEN];
        hex::decode_to_slice(s, &mut out).map_err(|_| CryptoError::BadPublicKey)?;
        Self::from_bytes(&out)
    }

    fn crypto_box_key(&self) -> PublicKey {
        PublicKey::from_bytes(self.0)
    }
}

impl fmt::Debug for MemberPublicKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "MemberPublicKey({})", self.to_hex())
    }
}

fn private_key_aad(public: &MemberPublicKey) -> Vec<u8> {
    let mut aad = PRIVATE_KEY_AAD_PREFIX.to_vec();
    aad.push(0);
    aad.extend_from_slice(public.as_bytes());
    aad
}

/// The member's private key wrapped (AES-256-GCM, `WrappedKey`) under their passphrase key, bound
/// to its public key.
pub fn wrap_private_key(
    passphrase_key: &PassphraseKey,
    secret: &MemberSecretKey,
) -> Result<WrappedKey, CryptoError> {
    let aad = private_key_aad(&secret.public_key());
    keys::wrap(passphrase_key.as_bytes(), &secret.to_bytes(), &aad)
}

/// Opens the private key: this is the passphrase check. Fails with `WrongPassphrase`, also when
/// the opened key does not belong to `public` (a wrapped key swapped in from another member).
pub fn unwrap_private_key(
    passphrase_key: &PassphraseKey,
    public: &MemberPublicKey,
    wrapped: &WrappedKey,
) -> Result<MemberSecretKey, CryptoError> {
    let bytes = keys::unwrap(passphrase_key.as_bytes(), wrapped, &private_key_aad(public))
        .map(Zeroizing::new)
        .ok_or(CryptoError::WrongPassphrase)?;
    let secret = MemberSecretKey::from_bytes(*bytes);
    if secret.public_key() != *public {
        return Err(CryptoError::WrongPassphrase);
    }
    Ok(secret)
}

/// The library key of one generation sealed to one public key: sealed box of generation (u32 BE)
/// ‖ library key (32), 84 bytes.
#[derive(Clone, PartialEq, Eq)]
pub struct SealedLibraryKey([u8; SealedLibraryKey::LEN]);

impl SealedLibraryKey {
    pub const PLAINTEXT_LEN: usize = 4 + KEY_LEN;
    pub const LEN: usize = SEAL_OVERHEAD + Self::PLAINTEXT_LEN;

    pub fn to_bytes(&self) -> [u8; Self::LEN] {
        self.0
    }

    pub fn from_bytes(bytes: &[u8]) -> Result<Self, CryptoError> {
        bytes
            .try_into()
            .map(Self)
            .map_err(|_| CryptoError::BadSealedKey)
    }

    pub fn to_hex(&self) -> String {
        hex::encode(self.0)
    }

    pub fn from_hex(s: &str) -> Result<Self, CryptoError> {
        let mut out = [0u8; Self::LEN];
        hex::decode_to_slice(s, &mut out).map_err(|_| CryptoError::BadSealedKey)?;
        Ok(Self(out))
    }
}

impl fmt::Debug for SealedLibraryKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SealedLibraryKey(..)")
    }
}

/// Seals the library key of `generation` to `to` (a member or the recovery key).
pub fn seal_library_key(
    to: &MemberPublicKey,
    library_key: &LibraryKey,
    generation: u32,
) -> Result<SealedLibraryKey, CryptoError> {
    let mut plaintext = Zeroizing::new([0u8; SealedLibraryKey::PLAINTEXT_LEN]);
    plaintext[..4].copy_from_slice(&generation.to_be_bytes());
    plaintext[4..].copy_from_slice(library_key.as_bytes());
    let sealed = to
        .crypto_box_key()
        .seal(&mut system_random()?, plaintext.as_ref())
        .map_err(|_| CryptoError::Encrypt)?;
    SealedLibraryKey::from_bytes(&sealed).map_err(|_| CryptoError::Encrypt)
}

/// Opens a sealed library key. `Decrypt` when it was not sealed to this key (or was altered),
/// `WrongGeneration` when it holds another generation's key (a stale grant served as current).
pub fn open_library_key(
    secret: &MemberSecretKey,
    sealed: &SealedLibraryKey,
    expected_generation: u32,
) -> Result<LibraryKey, CryptoError> {
    let plaintext = Zeroizing::new(
        secret
            .0
            .unseal(&sealed.0)
            .map_err(|_| CryptoError::Decrypt)?,
    );
    let (generation, key) = plaintext
        .split_first_chunk::<4>()
        .ok_or(CryptoError::Decrypt)?;
    let key: [u8; KEY_LEN] = key.try_into().map_err(|_| CryptoError::Decrypt)?;
    let key = LibraryKey::from_bytes(key);
    if u32::from_be_bytes(*generation) != expected_generation {
        return Err(CryptoError::WrongGeneration);
    }
    Ok(key)
}

fn previous_key_aad(current_generation: u32) -> Vec<u8> {
    let mut aad = PREVIOUS_KEY_AAD_PREFIX.to_vec();
    aad.push(0);
    aad.extend_from_slice(&current_generation.to_be_bytes());
    aad
}

/// The key of generation `current_generation - 1`, wrapped under the current one: kept only while
/// a key change re-wraps the videos, so members can open the ones not yet re-wrapped.
pub fn wrap_previous_library_key(
    current: &LibraryKey,
    current_generation: u32,
    previous: &LibraryKey,
) -> Result<WrappedKey, CryptoError> {
    keys::wrap(
        current.as_bytes(),
        previous.as_bytes(),
        &previous_key_aad(current_generation),
    )
}

pub fn unwrap_previous_library_key(
    current: &LibraryKey,
    current_generation: u32,
    wrapped: &WrappedKey,
) -> Result<LibraryKey, CryptoError> {
    keys::unwrap(
        current.as_bytes(),
        wrapped,
        &previous_key_aad(current_generation),
    )
    .map(LibraryKey::from_bytes)
    .ok_or(CryptoError::Decrypt)
}

/// A challenge the server seals to the recovery public key: label ‖ 32 random bytes. Whoever
/// returns the 32 bytes holds the recovery key. The label means the client never returns the
/// content of a sealed library key, whatever a server sends it.
#[derive(Clone, PartialEq, Eq)]
pub struct SealedChallenge([u8; SealedChallenge::LEN]);

impl SealedChallenge {
    pub const LEN: usize = SEAL_OVERHEAD + CHALLENGE_LABEL.len() + CHALLENGE_ANSWER_LEN;

    pub fn from_bytes(bytes: &[u8]) -> Result<Self, CryptoError> {
        bytes
            .try_into()
            .map(Self)
            .map_err(|_| CryptoError::BadSealedKey)
    }
    pub fn to_bytes(&self) -> [u8; Self::LEN] {
        self.0
    }
    pub fn to_hex(&self) -> String {
        hex::encode(self.0)
    }
    pub fn from_hex(s: &str) -> Result<Self, CryptoError> {
        let mut out = [0u8; Self::LEN];
        hex::decode_to_slice(s, &mut out).map_err(|_| CryptoError::BadSealedKey)?;
        Ok(Self(out))
    }
}

impl fmt::Debug for SealedChallenge {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SealedChallenge(..)")
    }
}

/// Server side: a fresh challenge for `to` and the answer to expect.
pub fn seal_challenge(
    to: &MemberPublicKey,
) -> Result<(SealedChallenge, [u8; CHALLENGE_ANSWER_LEN]), CryptoError> {
    let answer: [u8; CHALLENGE_ANSWER_LEN] = random::array()?;
    let mut plaintext = CHALLENGE_LABEL.to_vec();
    plaintext.extend_from_slice(&answer);
    let sealed = to
        .crypto_box_key()
        .seal(&mut system_random()?, &plaintext)
        .map_err(|_| CryptoError::Encrypt)?;
    Ok((SealedChallenge::from_bytes(&sealed)?, answer))
}

/// Client side: the answer inside a challenge sealed to `secret`'s public key.
pub fn open_challenge(
    secret: &MemberSecretKey,
    sealed: &SealedChallenge,
) -> Result<[u8; CHALLENGE_ANSWER_LEN], CryptoError> {
    let plaintext = Zeroizing::new(
        secret
            .0
            .unseal(&sealed.0)
            .map_err(|_| CryptoError::Decrypt)?,
    );
    let answer = plaintext
        .strip_prefix(CHALLENGE_LABEL)
        .ok_or(CryptoError::Decrypt)?;
    answer.try_into().map_err(|_| CryptoError::Decrypt)
}

macro_rules! hex_serde {
    ($name:ident) => {
        impl Serialize for $name {
            fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(&self.to_hex())
            }
        }
        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let s = String::deserialize(d)?;
                Self::from_hex(&s).map_err(de::Error::custom)
            }
        }
    };
}

hex_serde!(MemberPublicKey);
hex_serde!(SealedLibraryKey);
hex_serde!(SealedChallenge);

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crypto::keys::KdfParams;

    fn passphrase_key(passphrase: &str) -> PassphraseKey {
        PassphraseKey::derive(passphrase.as_bytes(), &[7; 16], &KdfParams::default()).unwrap()
    }

    #[test]
    fn private_key_round_trips_and_refuses_a_wrong_passphrase() {
        let secret = MemberSecretKey::generate().unwrap();
        let public = secret.public_key();
        let wrapped = wrap_private_key(&passphrase_key("right one"), &secret).unwrap();
        let opened = unwrap_private_key(&passphrase_key("right one"), &public, &wrapped).unwrap();
        assert_eq!(opened.public_key(), public);
        assert_eq!(
            unwrap_private_key(&passphrase_key("wrong one"), &public, &wrapped).unwrap_err(),
            CryptoError::WrongPassphrase
        );
        let other = MemberSecretKey::generate().unwrap().public_key();
        assert_eq!(
            unwrap_private_key(&passphrase_key("right one"), &other, &wrapped).unwrap_err(),
            CryptoError::WrongPassphrase
        );
    }

    #[test]
    fn sealed_library_key_opens_only_for_its_member_and_generation() {
        let library_key = LibraryKey::generate().unwrap();
        let alice = MemberSecretKey::generate().unwrap();
        let bob = MemberSecretKey::generate().unwrap();
        let sealed = seal_library_key(&alice.public_key(), &library_key, 3).unwrap();
        assert_eq!(sealed.to_bytes().len(), 84);
        let opened = open_library_key(&alice, &sealed, 3).unwrap();
        assert_eq!(opened.as_bytes(), library_key.as_bytes());
        assert_eq!(
            open_library_key(&bob, &sealed, 3).unwrap_err(),
            CryptoError::Decrypt
        );
        assert_eq!(
            open_library_key(&alice, &sealed, 4).unwrap_err(),
            CryptoError::WrongGeneration
        );
        let mut tampered = sealed.to_bytes();
        tampered[50] ^= 1;
        let tampered = SealedLibraryKey::from_bytes(&tampered).unwrap();
        assert_eq!(
            open_library_key(&alice, &tampered, 3).unwrap_err(),
            CryptoError::Decrypt
        );
    }

    #[test]
    fn small_order_public_keys_are_refused() {
        let mut p_minus_1 = [0xff; 32];
        p_minus_1[0] = 0xec;
        p_minus_1[31] = 0x7f;
        let mut one = [0u8; 32];
        one[0] = 1;
        let order_8 =
            hex::decode("e0eb7a7c3b41b8ae1656e3faf19fc46ada098deb9c32b1fd866205165f49b800")
                .unwrap();
        for bad in [
            [0u8; 32].to_vec(),
            one.to_vec(),
            p_minus_1.to_vec(),
            order_8,
        ] {
            assert_eq!(
                MemberPublicKey::from_bytes(&bad).unwrap_err(),
                CryptoError::BadPublicKey,
                "{}",
                hex::encode(&bad)
            );
        }
        assert_eq!(
            MemberPublicKey::from_bytes(&[1; 31]).unwrap_err(),
            CryptoError::BadPublicKey
        );
        let good = MemberSecretKey::generate().unwrap().public_key();
        assert_eq!(MemberPublicKey::from_bytes(good.as_bytes()).unwrap(), good);
    }

    #[test]
    fn previous_key_is_bound_to_the_generation() {
        let current = LibraryKey::generate().unwrap();
        let previous = LibraryKey::generate().unwrap();
        let wrapped = wrap_previous_library_key(&current, 2, &previous).unwrap();
        let opened = unwrap_previous_library_key(&current, 2, &wrapped).unwrap();
        assert_eq!(opened.as_bytes(), previous.as_bytes());
        assert!(unwrap_previous_library_key(&current, 3, &wrapped).is_err());
    }

    #[test]
    fn challenge_answers_only_with_the_key_and_never_opens_a_grant() {
        let recovery = MemberSecretKey::generate().unwrap();
        let (sealed, answer) = seal_challenge(&recovery.public_key()).unwrap();
        assert_eq!(open_challenge(&recovery, &sealed).unwrap(), answer);
        let other = MemberSecretKey::generate().unwrap();
        assert!(open_challenge(&other, &sealed).is_err());
        // A sealed library key has another length, so it cannot even be passed as a challenge.
        let grant =
            seal_library_key(&recovery.public_key(), &LibraryKey::generate().unwrap(), 1).unwrap();
        assert!(SealedChallenge::from_bytes(&grant.to_bytes()).is_err());
    }
}
