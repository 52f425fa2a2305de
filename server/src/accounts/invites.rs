//! One-time invites: an admin makes a link, the invitee chooses a username and password with it.
//! Tokens are 256 random bits like session tokens, stored only hashed, valid for 7 days.

use std::time::Duration;

use crate::db::Db;
use cloister_shared::api::keys::MemberKeys;
use cloister_shared::api::Role;
use zeroize::Zeroizing;

use super::sessions::{self, NewSession};
use super::users::{self, User};
use super::{passwords, store, unix_now};
use crate::error::{AppError, AppResult};
use crate::library::keys_store;

pub const INVITE_LIFETIME_SECS: i64 = 7 * 24 * 3600;

pub struct NewInvite {
    pub token: Zeroizing<String>,
    pub expires_at: i64,
}

pub async fn create(pool: &Db, created_by: &User, role: Role) -> AppResult<NewInvite> {
    let token = sessions::new_token()?;
    let hash = sessions::token_hash(&token)
        .ok_or_else(|| AppError::Internal("a fresh invite token did not decode".to_owned()))?;
    let now = unix_now();
    let expires_at = now + INVITE_LIFETIME_SECS;
    store::insert_invite(pool, &hash, role.as_str(), created_by.id, now, expires_at).await?;
    Ok(NewInvite { token, expires_at })
}

fn invalid_invite() -> AppError {
    AppError::NotFound(
        "This invite link is not valid: it was already used, has expired, or was copied \
         incompletely. Ask an admin for a new one."
            .to_owned(),
    )
}

/// Uses up the invite and creates the account with a session (and the member's key pair, when
/// their client made one), all in one transaction: if the username is taken, nothing happens and
/// the invite can be used again with another name.
pub async fn accept(
    pool: &Db,
    token: &str,
    username: &str,
    password: Zeroizing<String>,
    keys: Option<&MemberKeys>,
    quota_bytes: u64,
    session_lifetime: Duration,
) -> AppResult<(User, NewSession)> {
    let hash = sessions::token_hash(token).ok_or_else(invalid_invite)?;
    let username = users::valid_username(username)?;
    users::valid_password(&password)?;
    if let Some(keys) = keys {
        keys_store::check_kdf(&keys.kdf)?;
    }
    let quota = i64::try_from(quota_bytes).unwrap_or(i64::MAX);
    // Check the invite before the slow hash, so a bad link is told at once.
    if !store::invite_live(pool, &hash, unix_now()).await? {
        return Err(invalid_invite());
    }
    let password_hash = passwords::hash(password).await?;

    let mut tx = pool.begin().await?;
    let role = store::take_invite(&mut *tx, &hash, unix_now()).await?;
    let role: Role = role
        .ok_or_else(invalid_invite)?
        .parse()
        .map_err(|_| AppError::Internal("an invite has an unknown role".to_owned()))?;
    let user = users::insert(&mut *tx, &username, &password_hash, role, quota).await?;
    if let Some(keys) = keys {
        keys_store::put_keys(&mut tx, user.id, keys).await?;
    }
    let session = sessions::create(&mut *tx, user.id, session_lifetime).await?;
    tx.commit().await?;
    Ok((user, session))
}

pub async fn delete_expired(pool: &Db) -> AppResult<u64> {
    Ok(store::delete_invites_expired(pool, unix_now()).await?)
}
