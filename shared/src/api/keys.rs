//! Keys for people: `/api/library…` and `/api/setup` (docs/api.md, "Library keys"; formats in
//! docs/format.md, "Member keys"). The server stores public keys, private keys wrapped under each
//! member's passphrase key, and library keys sealed to public keys: it can check shapes and
//! rules, never open anything.

use std::fmt;

use serde::{Deserialize, Serialize};

use super::library::KdfInfo;
use crate::crypto::keys::WrappedKey;
use crate::crypto::member::{MemberPublicKey, SealedChallenge, SealedLibraryKey};
use crate::ids::VideoId;

/// A member's key pair as stored on the server.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MemberKeys {
    pub public_key: MemberPublicKey,
    /// Salt and Argon2id parameters of the member's passphrase key.
    pub kdf: KdfInfo,
    /// The X25519 private key wrapped under the passphrase key (`WrappedKey`, hex).
    pub wrapped_private_key: WrappedKey,
}

/// Where the library stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LibraryMode {
    /// No library key yet: an admin sets it up.
    New,
    /// Made before members had their own keys: the library key is wrapped under one shared
    /// passphrase (`LibraryStatus::shared`); each member converts on their next unlock.
    Shared,
    /// Every member unlocks with their own passphrase.
    Members,
}

/// The shared passphrase's wrapping of a library made before member keys.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SharedPassphrase {
    pub kdf: KdfInfo,
    pub wrapped_library_key: WrappedKey,
}

/// The previous generation's library key wrapped under the current one (while a key change runs).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PreviousKey {
    /// Always `LibraryStatus::generation - 1`.
    pub generation: u32,
    pub wrapped: WrappedKey,
}

/// A key change (rotation) in progress or just finished.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RotationProgress {
    pub from_generation: u32,
    pub to_generation: u32,
    /// Videos re-wrapped so far and in all.
    pub done: u64,
    pub total: u64,
    pub started_by: Option<String>,
    pub started_at: i64,
    pub finished: bool,
}

/// A member who has keys but no grant for the current generation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WaitingMember {
    pub username: String,
    pub public_key: MemberPublicKey,
    /// Unix seconds: when they made their keys.
    pub since: i64,
}

/// A member holding a grant for the current generation (admins only; a key change re-seals to
/// exactly these).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct KeyHolder {
    pub username: String,
    pub public_key: MemberPublicKey,
}

/// `GET /api/library`: what the caller needs to unlock, and (for admins) what needs doing.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LibraryStatus {
    pub mode: LibraryMode,
    /// The current library key generation (1 for a new library; 0 while `mode` is `New`).
    pub generation: u32,
    /// The caller's keys, if they have made them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub me: Option<MemberKeys>,
    /// The library key of `generation` sealed to the caller, once an admin let them in.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub my_grant: Option<SealedLibraryKey>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub previous: Option<PreviousKey>,
    /// Only in `Shared` mode.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shared: Option<SharedPassphrase>,
    /// Whether a recovery key is set.
    pub recovery_set: bool,
    /// The unfinished key change, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rotation: Option<RotationProgress>,
    /// Admins only: members removed since the last finished key change, who still know the
    /// current key. Non-empty means a key change is due.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub rotation_needed: Vec<String>,
    /// Admins only.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub waiting: Vec<WaitingMember>,
    /// Admins only.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub holders: Vec<KeyHolder>,
}

/// The recovery key's public half and the library key sealed to it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SetRecoveryRequest {
    pub public_key: MemberPublicKey,
    /// For the current generation.
    pub sealed_library_key: SealedLibraryKey,
}

/// `POST /api/library` (admin, mode `New`): the admin's keys, their grant of generation 1 and the
/// recovery key.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CreateLibraryRequest {
    pub keys: MemberKeys,
    pub grant: SealedLibraryKey,
    pub recovery: SetRecoveryRequest,
}

/// `PUT /api/library/me`: the caller's (new) keys. `self_grant` only when converting from the
/// shared passphrase.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SetMyKeysRequest {
    pub keys: MemberKeys,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub self_grant: Option<SealedLibraryKey>,
}

/// `PUT /api/library/me/passphrase`: the same key pair under a new passphrase.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChangeMyPassphraseRequest {
    pub expected_wrapped_private_key: WrappedKey,
    pub kdf: KdfInfo,
    pub wrapped_private_key: WrappedKey,
}

/// `POST /api/library/grants` (admin): let `username` in.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GrantRequest {
    pub username: String,
    /// The public key the grant was sealed to: must still be the member's.
    pub public_key: MemberPublicKey,
    pub generation: u32,
    pub sealed_library_key: SealedLibraryKey,
}

/// `POST /api/library/recovery/challenge` (admin).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RecoveryChallenge {
    pub generation: u32,
    pub recovery_public_key: MemberPublicKey,
    /// Sealed to the recovery key.
    pub sealed_library_key: SealedLibraryKey,
    pub challenge: SealedChallenge,
}

/// `POST /api/library/recovery/restore` (admin): proves the recovery key and replaces the caller's
/// keys and grant.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RecoveryRestoreRequest {
    /// The challenge's 32 random bytes, hex.
    pub answer: String,
    pub keys: MemberKeys,
    pub self_grant: SealedLibraryKey,
}

impl fmt::Debug for RecoveryRestoreRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RecoveryRestoreRequest")
            .field("keys", &self.keys)
            .finish_non_exhaustive()
    }
}

/// One remaining member's grant of the new generation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RotationGrant {
    pub username: String,
    pub public_key: MemberPublicKey,
    pub sealed_library_key: SealedLibraryKey,
}

/// `POST /api/library/rotation` (admin): a new library key, sealed to every remaining holder.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StartRotationRequest {
    pub from_generation: u32,
    pub grants: Vec<RotationGrant>,
    /// The new key sealed to the recovery key (required when one is set).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub recovery_sealed_library_key: Option<SealedLibraryKey>,
    /// The old key wrapped under the new one.
    pub previous: WrappedKey,
}

/// One video whose key is still wrapped under the previous generation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RotationBatchItem {
    pub video_id: VideoId,
    pub wrapped_dek: WrappedKey,
}

/// `GET /api/library/rotation/batch?limit=N` (admin).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RotationBatch {
    pub to_generation: u32,
    pub items: Vec<RotationBatchItem>,
    pub progress: RotationProgress,
}

/// `POST /api/library/rotation/batch` (admin): the same videos' keys wrapped under the new key.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RewrapBatchRequest {
    pub to_generation: u32,
    pub items: Vec<RotationBatchItem>,
}

/// `GET /api/setup` (no sign-in).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SetupStatus {
    /// True while nobody has an account: the setup link is the way in.
    pub needed: bool,
}

/// `POST /api/setup` (no sign-in; the secret from the link's fragment proves the right to it).
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SetupRequest {
    pub secret: String,
    pub username: String,
    pub password: String,
    pub library: CreateLibraryRequest,
}

impl fmt::Debug for SetupRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SetupRequest")
            .field("username", &self.username)
            .finish_non_exhaustive()
    }
}

/// `GET /api/library/rotation` (admin): what starting a key change needs, and the one running.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RotationPlan {
    /// The current generation: a key change goes from it to the next.
    pub generation: u32,
    /// Who holds the current key: the new key is sealed to exactly these.
    pub holders: Vec<KeyHolder>,
    /// The recovery key, when one is set: the new key is sealed to it too.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub recovery_public_key: Option<MemberPublicKey>,
    /// Removed members who still know the current key.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub needed_for: Vec<String>,
    /// The unfinished key change, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub running: Option<RotationProgress>,
}
