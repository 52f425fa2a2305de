//! The client side of keys for people, written once for the browser and the CLI: unlocking with a
//! member's own passphrase, setting up a library, converting from the shared passphrase, letting a
//! member in, the recovery key. Pure functions over the API types (docs/format.md, "Member keys";
//! docs/accounts.md for the rules the server adds).

use crate::api::keys::{
    ChangeMyPassphraseRequest, CreateLibraryRequest, GrantRequest, LibraryStatus, MemberKeys,
    RecoveryChallenge, RecoveryRestoreRequest, SetMyKeysRequest, SetRecoveryRequest,
    SharedPassphrase, WaitingMember,
};
use crate::api::library::KdfInfo;
use crate::crypto::keys::{
    self, Dek, KdfParams, LibraryKey, PassphraseKey, WrappedKey, KDF_SALT_LEN,
};
use crate::crypto::member::{
    self, open_challenge, open_library_key, seal_library_key, unwrap_previous_library_key,
    wrap_private_key, MemberSecretKey,
};
use crate::crypto::recovery::{RecoveryKey, RecoveryPhraseError};
use crate::crypto::{random, CryptoError};
use crate::ids::VideoId;

pub mod rotation;
pub use rotation::{rewrap_batch, start_rotation, RotationError};

/// What unlocking gives: the library key of the current generation (and, while a key change runs,
/// the previous one), and the member's private key, kept so a new grant opens without asking for
/// the passphrase again.
#[derive(Clone, Debug)]
pub struct Unlocked {
    pub generation: u32,
    pub library_key: LibraryKey,
    pub previous: Option<LibraryKey>,
    /// `None` only when unlocked with the shared passphrase of a library not yet converted.
    pub secret: Option<MemberSecretKey>,
}

impl Unlocked {
    /// A video's key: under the current library key, or (while a key change runs) the previous.
    pub fn unwrap_dek(&self, video: &VideoId, wrapped: &WrappedKey) -> Result<Dek, CryptoError> {
        keys::unwrap_dek(&self.library_key, video, wrapped).or_else(|err| match &self.previous {
            Some(previous) => keys::unwrap_dek(previous, video, wrapped),
            None => Err(err),
        })
    }
}

impl keys::OpensVideoKeys for Unlocked {
    fn open_video_key(&self, video: &VideoId, wrapped: &WrappedKey) -> Result<Dek, CryptoError> {
        self.unwrap_dek(video, wrapped)
    }
}

/// Why a key operation failed, in words for people.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KeyringError {
    #[error("Unable to decrypt. Check passphrase.")]
    WrongPassphrase,
    #[error("The server offered key-derivation settings that are too weak. Contact your admin.")]
    WeakKdf,
    #[error("The server sent a damaged salt. Contact your admin.")]
    DamagedSalt,
    #[error("You have not chosen your passphrase yet.")]
    NoKeys,
    #[error("An admin needs to let you in before you can open the library.")]
    NotGranted,
    #[error("The library has not been set up yet.")]
    NoLibrary,
    #[error(
        "The server sent a key that is out of date. Reload the page; if this happens again, tell \
         your admin."
    )]
    StaleGrant,
    #[error("The library key you were given does not open. Ask an admin to let you in again.")]
    BadGrant,
    #[error("{0}")]
    Phrase(#[from] RecoveryPhraseError),
    #[error("These words are a recovery key, but not this library's.")]
    NotThisLibrary,
    #[error("Encryption failed on this device: {0}.")]
    Crypto(CryptoError),
}

impl From<CryptoError> for KeyringError {
    fn from(err: CryptoError) -> Self {
        Self::Crypto(err)
    }
}

/// Argon2id of the passphrase with the server's salt and parameters, refusing parameters below
/// the floor (a server offering weak ones would make the passphrase cheap to guess).
pub fn passphrase_key(passphrase: &str, kdf: &KdfInfo) -> Result<PassphraseKey, KeyringError> {
    kdf.params.validate().map_err(|_| KeyringError::WeakKdf)?;
    let salt = kdf.salt().map_err(|_| KeyringError::DamagedSalt)?;
    PassphraseKey::derive(passphrase.as_bytes(), &salt, &kdf.params).map_err(KeyringError::from)
}

/// A fresh key pair, its private half wrapped under `passphrase` with a new salt.
pub fn new_member_keys(passphrase: &str) -> Result<(MemberKeys, MemberSecretKey), KeyringError> {
    let secret = MemberSecretKey::generate()?;
    let keys = wrap_keys(passphrase, &secret)?;
    Ok((keys, secret))
}

fn wrap_keys(passphrase: &str, secret: &MemberSecretKey) -> Result<MemberKeys, KeyringError> {
    let salt: [u8; KDF_SALT_LEN] = random::array()?;
    let kdf = KdfInfo::new(&salt, KdfParams::default());
    let wrapped_private_key = wrap_private_key(&passphrase_key(passphrase, &kdf)?, secret)?;
    Ok(MemberKeys {
        public_key: secret.public_key(),
        kdf,
        wrapped_private_key,
    })
}

/// The member's private key: this is the passphrase check.
pub fn open_private_key(
    passphrase: &str,
    me: &MemberKeys,
) -> Result<MemberSecretKey, KeyringError> {
    member::unwrap_private_key(
        &passphrase_key(passphrase, &me.kdf)?,
        &me.public_key,
        &me.wrapped_private_key,
    )
    .map_err(|err| match err {
        CryptoError::WrongPassphrase | CryptoError::Decrypt => KeyringError::WrongPassphrase,
        other => KeyringError::Crypto(other),
    })
}

/// Opens the caller's grant (and the previous key) with a private key already at hand.
pub fn open_library(
    secret: &MemberSecretKey,
    status: &LibraryStatus,
) -> Result<Unlocked, KeyringError> {
    let grant = status.my_grant.as_ref().ok_or(KeyringError::NotGranted)?;
    let library_key =
        open_library_key(secret, grant, status.generation).map_err(|err| match err {
            CryptoError::WrongGeneration => KeyringError::StaleGrant,
            _ => KeyringError::BadGrant,
        })?;
    let previous = match &status.previous {
        Some(previous) => Some(
            unwrap_previous_library_key(&library_key, status.generation, &previous.wrapped)
                .map_err(|_| KeyringError::StaleGrant)?,
        ),
        None => None,
    };
    Ok(Unlocked {
        generation: status.generation,
        library_key,
        previous,
        secret: Some(secret.clone()),
    })
}

/// Unlock with the member's own passphrase.
pub fn unlock(passphrase: &str, status: &LibraryStatus) -> Result<Unlocked, KeyringError> {
    let me = status.me.as_ref().ok_or(KeyringError::NoKeys)?;
    let secret = open_private_key(passphrase, me)?;
    open_library(&secret, status)
}

/// Unlock a library not yet converted with its shared passphrase (the first step of converting).
pub fn unlock_shared(
    passphrase: &str,
    shared: &SharedPassphrase,
    generation: u32,
) -> Result<Unlocked, KeyringError> {
    let key = passphrase_key(passphrase, &shared.kdf)?;
    let library_key = keys::unwrap_library_key(&key, &shared.wrapped_library_key)
        .map_err(|_| KeyringError::WrongPassphrase)?;
    Ok(Unlocked {
        generation,
        library_key,
        previous: None,
        secret: None,
    })
}

/// A new library: the admin's keys, the library key, its grant to the admin and a recovery key.
/// Show the recovery key's words to the admin once the request succeeded.
pub fn new_library(
    passphrase: &str,
) -> Result<(CreateLibraryRequest, Unlocked, RecoveryKey), KeyringError> {
    let (keys, secret) = new_member_keys(passphrase)?;
    let library_key = LibraryKey::generate()?;
    let grant = seal_library_key(&keys.public_key, &library_key, 1)?;
    let (recovery, recovery_key) = recovery_for(&library_key, 1)?;
    let unlocked = Unlocked {
        generation: 1,
        library_key,
        previous: None,
        secret: Some(secret),
    };
    Ok((
        CreateLibraryRequest {
            keys,
            grant,
            recovery,
        },
        unlocked,
        recovery_key,
    ))
}

fn recovery_for(
    library_key: &LibraryKey,
    generation: u32,
) -> Result<(SetRecoveryRequest, RecoveryKey), KeyringError> {
    let recovery_key = RecoveryKey::generate()?;
    let public_key = recovery_key.public_key()?;
    let sealed_library_key = seal_library_key(&public_key, library_key, generation)?;
    Ok((
        SetRecoveryRequest {
            public_key,
            sealed_library_key,
        },
        recovery_key,
    ))
}

/// A new recovery key for the unlocked library (an admin, on demand or when converting).
pub fn new_recovery(
    unlocked: &Unlocked,
) -> Result<(SetRecoveryRequest, RecoveryKey), KeyringError> {
    recovery_for(&unlocked.library_key, unlocked.generation)
}

/// Converting from the shared passphrase: the member's own keys and a grant to themselves.
pub fn convert_from_shared(
    unlocked: &Unlocked,
    new_passphrase: &str,
) -> Result<(SetMyKeysRequest, Unlocked), KeyringError> {
    let (keys, secret) = new_member_keys(new_passphrase)?;
    let self_grant =
        seal_library_key(&keys.public_key, &unlocked.library_key, unlocked.generation)?;
    let converted = Unlocked {
        secret: Some(secret),
        ..unlocked.clone()
    };
    Ok((
        SetMyKeysRequest {
            keys,
            self_grant: Some(self_grant),
        },
        converted,
    ))
}

/// An admin lets `who` in: the library key sealed to their public key.
pub fn grant(unlocked: &Unlocked, who: &WaitingMember) -> Result<GrantRequest, KeyringError> {
    Ok(GrantRequest {
        username: who.username.clone(),
        public_key: who.public_key,
        generation: unlocked.generation,
        sealed_library_key: seal_library_key(
            &who.public_key,
            &unlocked.library_key,
            unlocked.generation,
        )?,
    })
}

/// The same key pair under a new passphrase, after the old one opened it.
pub fn change_passphrase(
    old: &str,
    new: &str,
    me: &MemberKeys,
) -> Result<ChangeMyPassphraseRequest, KeyringError> {
    let secret = open_private_key(old, me)?;
    let keys = wrap_keys(new, &secret)?;
    Ok(ChangeMyPassphraseRequest {
        expected_wrapped_private_key: me.wrapped_private_key.clone(),
        kdf: keys.kdf,
        wrapped_private_key: keys.wrapped_private_key,
    })
}

/// Recovering with the 24 words: checks them against the server's challenge, then makes the
/// admin new keys under `new_passphrase` and a grant to them.
pub fn recover(
    words: &str,
    challenge: &RecoveryChallenge,
    new_passphrase: &str,
) -> Result<(RecoveryRestoreRequest, Unlocked), KeyringError> {
    let recovery_key = RecoveryKey::parse(words)?;
    let recovery_secret = recovery_key.secret_key()?;
    if recovery_secret.public_key() != challenge.recovery_public_key {
        return Err(KeyringError::NotThisLibrary);
    }
    let library_key = open_library_key(
        &recovery_secret,
        &challenge.sealed_library_key,
        challenge.generation,
    )
    .map_err(|_| KeyringError::NotThisLibrary)?;
    let answer = open_challenge(&recovery_secret, &challenge.challenge)
        .map_err(|_| KeyringError::NotThisLibrary)?;
    let (keys, secret) = new_member_keys(new_passphrase)?;
    let self_grant = seal_library_key(&keys.public_key, &library_key, challenge.generation)?;
    Ok((
        RecoveryRestoreRequest {
            answer: hex::encode(answer),
            keys,
            self_grant,
        },
        Unlocked {
            generation: challenge.generation,
            library_key,
            previous: None,
            secret: Some(secret),
        },
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::keys::LibraryMode;
    use crate::crypto::member::seal_challenge;

    fn status_for(request: &CreateLibraryRequest) -> LibraryStatus {
        LibraryStatus {
            mode: LibraryMode::Members,
            generation: 1,
            me: Some(request.keys.clone()),
            my_grant: Some(request.grant.clone()),
            previous: None,
            shared: None,
            recovery_set: true,
            rotation: None,
            rotation_needed: vec![],
            waiting: vec![],
            holders: vec![],
        }
    }

    #[test]
    fn set_up_unlock_grant_and_recover() {
        let (request, admin, recovery) = new_library("admin's own passphrase").unwrap();
        let status = status_for(&request);
        let unlocked = unlock("admin's own passphrase", &status).unwrap();
        assert_eq!(
            unlocked.library_key.as_bytes(),
            admin.library_key.as_bytes()
        );
        assert_eq!(
            unlock("not the passphrase", &status).unwrap_err(),
            KeyringError::WrongPassphrase
        );

        let (bob_keys, bob_secret) = new_member_keys("bob's own passphrase").unwrap();
        let waiting = WaitingMember {
            username: "bob".into(),
            public_key: bob_keys.public_key,
            since: 0,
        };
        let grant = grant(&unlocked, &waiting).unwrap();
        let bob_status = LibraryStatus {
            me: Some(bob_keys),
            my_grant: Some(grant.sealed_library_key),
            ..status.clone()
        };
        let bob = open_library(&bob_secret, &bob_status).unwrap();
        assert_eq!(bob.library_key.as_bytes(), admin.library_key.as_bytes());

        let (sealed, _) = seal_challenge(&request.recovery.public_key).unwrap();
        let challenge = RecoveryChallenge {
            generation: 1,
            recovery_public_key: request.recovery.public_key,
            sealed_library_key: request.recovery.sealed_library_key.clone(),
            challenge: sealed,
        };
        let (_, recovered) = recover(
            &recovery.words().join(" "),
            &challenge,
            "a brand new passphrase",
        )
        .unwrap();
        assert_eq!(
            recovered.library_key.as_bytes(),
            admin.library_key.as_bytes()
        );
        let other = RecoveryKey::generate().unwrap().words().join(" ");
        assert_eq!(
            recover(&other, &challenge, "x").unwrap_err(),
            KeyringError::NotThisLibrary
        );
    }
}
