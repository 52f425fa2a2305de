//! The recovery key: `POST /api/library/recovery`, `…/recovery/challenge`, `…/recovery/restore`
//! (admin). The server holds the recovery public key and the library key sealed to it; restoring
//! proves possession of the recovery key by answering a challenge sealed to it, single use and
//! valid for ten minutes (docs/accounts.md, "The recovery key").

use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::post;
use axum::Router;
use cloister_shared::api::keys::{
    LibraryStatus, RecoveryChallenge, RecoveryRestoreRequest, SetRecoveryRequest,
};
use cloister_shared::crypto::member::seal_challenge;
use sha2::{Digest, Sha256};

use super::{keys_store, members, recovery_store, store};
use crate::accounts::{unix_now, AdminUser};
use crate::error::{AppError, AppResult};
use crate::http::json::ApiJson;
use crate::state::AppState;

/// How long a challenge may be answered.
pub const CHALLENGE_LIFETIME_SECS: i64 = 10 * 60;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/library/recovery", post(set_recovery))
        .route("/api/library/recovery/challenge", post(challenge))
        .route("/api/library/recovery/restore", post(restore))
}

fn no_library() -> AppError {
    AppError::Conflict("The library has not been set up yet.".to_owned())
}

/// A new recovery key replaces the old one. Only an admin who holds the current key may set it:
/// anyone else could only store a recovery key that opens nothing, and lose the working one.
async fn set_recovery(
    State(state): State<AppState>,
    AdminUser(admin): AdminUser,
    ApiJson(body): ApiJson<SetRecoveryRequest>,
) -> AppResult<StatusCode> {
    let mut tx = state.db.begin().await?;
    let generation = store::generation(&mut *tx).await?.ok_or_else(no_library)?;
    if keys_store::grant_of(&mut *tx, admin.id, generation)
        .await?
        .is_none()
    {
        return Err(AppError::Forbidden(
            "Only an admin who can open the library can set its recovery key.".to_owned(),
        ));
    }
    store::set_recovery(&mut *tx, &body.public_key, &body.sealed_library_key).await?;
    tx.commit().await?;
    tracing::info!(by = %admin.username, "recovery key replaced");
    Ok(StatusCode::NO_CONTENT)
}

fn answer_hash(answer: &[u8]) -> Vec<u8> {
    Sha256::digest(answer).to_vec()
}

async fn challenge(
    State(state): State<AppState>,
    AdminUser(admin): AdminUser,
) -> AppResult<ApiJson<RecoveryChallenge>> {
    let row = store::get(&state.db).await?.ok_or_else(no_library)?;
    let Some((recovery_public_key, sealed_library_key)) = row.recovery else {
        return Err(AppError::Conflict(
            "This library has no recovery key, so there is nothing to recover with.".to_owned(),
        ));
    };
    let (sealed, answer) = seal_challenge(&recovery_public_key)
        .map_err(|err| AppError::Internal(format!("sealing a recovery challenge: {err}")))?;
    recovery_store::put_challenge(
        &state.db,
        admin.id,
        &answer_hash(&answer),
        unix_now() + CHALLENGE_LIFETIME_SECS,
    )
    .await?;
    tracing::info!(by = %admin.username, "recovery challenge issued");
    Ok(ApiJson(RecoveryChallenge {
        generation: row.generation,
        recovery_public_key,
        sealed_library_key,
        challenge: sealed,
    }))
}

fn refused(message: &str) -> AppError {
    AppError::Forbidden(message.to_owned())
}

async fn restore(
    State(state): State<AppState>,
    AdminUser(admin): AdminUser,
    ApiJson(body): ApiJson<RecoveryRestoreRequest>,
) -> AppResult<ApiJson<LibraryStatus>> {
    // Shapes first, so a malformed request does not use the challenge up.
    keys_store::check_kdf(&body.keys.kdf)?;
    let answer = hex::decode(&body.answer)
        .ok()
        .filter(|bytes| bytes.len() == 32)
        .ok_or_else(|| {
            AppError::BadRequest("answer must be 32 bytes written as 64 hex digits.".to_owned())
        })?;
    // Used up whatever the answer: one try per challenge.
    let Some((expected, expires_at)) = recovery_store::take_challenge(&state.db, admin.id).await?
    else {
        return Err(AppError::Conflict(
            "There is no recovery under way (or it was already used). Start again.".to_owned(),
        ));
    };
    if expires_at <= unix_now() {
        return Err(AppError::Conflict(
            "The recovery took longer than ten minutes and has expired. Start again.".to_owned(),
        ));
    }
    if answer_hash(&answer) != expected {
        return Err(refused(
            "The recovery key did not match. Nothing was changed; start again.",
        ));
    }
    let mut tx = state.db.begin().await?;
    let generation = store::generation(&mut *tx).await?.ok_or_else(no_library)?;
    keys_store::put_keys(&mut tx, admin.id, &body.keys).await?;
    keys_store::put_grant(
        &mut tx,
        admin.id,
        generation,
        &body.keys.public_key,
        &body.self_grant,
        admin.id,
    )
    .await?;
    tx.commit().await?;
    tracing::info!(by = %admin.username, "access restored with the recovery key");
    members::status_for(&state, &admin).await.map(ApiJson)
}
