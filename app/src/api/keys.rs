//! Keys for people (docs/api.md, "Library keys"): the caller's keys and grant, letting members
//! in, the recovery key. Only public keys, wrapped and sealed keys travel; never a passphrase.

use cloister_shared::api::keys::{
    ChangeMyPassphraseRequest, CreateLibraryRequest, GrantRequest, LibraryStatus,
    RecoveryChallenge, RecoveryRestoreRequest, SetMyKeysRequest, SetRecoveryRequest,
};

use super::client::{get, post, put};
use super::ApiError;
use cloister_shared::protocol::paths;

/// What a key request answers beyond success is not needed: the page fetches the status again.
type Ignored = serde_json::Value;

pub async fn library() -> Result<LibraryStatus, ApiError> {
    get(paths::LIBRARY).await
}

pub async fn create_library(request: &CreateLibraryRequest) -> Result<(), ApiError> {
    post::<_, Ignored>(paths::LIBRARY, request).await.map(drop)
}

pub async fn set_my_keys(request: &SetMyKeysRequest) -> Result<(), ApiError> {
    put::<_, Ignored>(paths::LIBRARY_ME, request)
        .await
        .map(drop)
}

pub async fn change_my_passphrase(request: &ChangeMyPassphraseRequest) -> Result<(), ApiError> {
    put::<_, Ignored>(paths::LIBRARY_PASSPHRASE, request)
        .await
        .map(drop)
}

pub async fn grant(request: &GrantRequest) -> Result<(), ApiError> {
    post::<_, Ignored>(paths::LIBRARY_GRANTS, request)
        .await
        .map(drop)
}

pub async fn set_recovery(request: &SetRecoveryRequest) -> Result<(), ApiError> {
    post::<_, Ignored>(paths::LIBRARY_RECOVERY, request)
        .await
        .map(drop)
}

pub async fn recovery_challenge() -> Result<RecoveryChallenge, ApiError> {
    post(paths::RECOVERY_CHALLENGE, &serde_json::json!({})).await
}

pub async fn recovery_restore(request: &RecoveryRestoreRequest) -> Result<(), ApiError> {
    post::<_, Ignored>(paths::RECOVERY_RESTORE, request)
        .await
        .map(drop)
}
