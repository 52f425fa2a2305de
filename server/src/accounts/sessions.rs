//! Sessions: a random 256-bit token in the cookie, only its SHA-256 in the database, so a copy of
//! the database cannot be replayed as anyone's sign-in.
//!
//! A request is checked once, but a WebSocket or a download stream lasts: `LiveSessions` ends
//! them when their session ends (sign-out, password change, removal of the user, expiry). It
//! re-checks the sessions of open connections against the database when told something changed
//! here, and every `RECHECK_EVERY` for changes made by another process (`cloister user passwd`).

use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, Weak};
use std::time::Duration;

use crate::db::Db;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use sha2::{Digest, Sha256};
use sqlx::AnyExecutor;
use tokio::sync::Notify;
use tokio_util::sync::{CancellationToken, WaitForCancellationFutureOwned};
use zeroize::Zeroizing;

use super::unix_now;
use super::users::User;
use crate::error::{AppError, AppResult};

const TOKEN_LEN: usize = 32;

/// How often open connections' sessions are re-checked when nothing here said they changed: the
/// longest a socket or stream outlives a session ended by another process.
pub const RECHECK_EVERY: Duration = Duration::from_secs(2);

/// SHA-256 of a session token: what the database keys sessions by.
pub type TokenHash = [u8; 32];

/// A session just made: the token goes to the client once and is never stored.
pub struct NewSession {
    pub token: Zeroizing<String>,
    pub expires_at: i64,
}

/// A new random token, base64url without padding (43 characters).
pub fn new_token() -> AppResult<Zeroizing<String>> {
    let mut bytes = Zeroizing::new([0u8; TOKEN_LEN]);
    getrandom::fill(bytes.as_mut())
        .map_err(|err| AppError::Internal(format!("random session token: {err}")))?;
    Ok(Zeroizing::new(URL_SAFE_NO_PAD.encode(bytes.as_ref())))
}

/// SHA-256 of the token's bytes; `None` if it is not a token we could have made (forged).
pub fn token_hash(token: &str) -> Option<[u8; 32]> {
    if token.len() != 43 {
        return None;
    }
    let bytes = Zeroizing::new(URL_SAFE_NO_PAD.decode(token).ok()?);
    if bytes.len() != TOKEN_LEN {
        return None;
    }
    Some(Sha256::digest(bytes.as_slice()).into())
}

pub async fn create<'e>(
    db: impl AnyExecutor<'e>,
    user_id: i64,
    lifetime: Duration,
) -> AppResult<NewSession> {
    let token = new_token()?;
    let hash = token_hash(&token)
        .ok_or_else(|| AppError::Internal("a fresh session token did not decode".to_owned()))?;
    let now = unix_now();
    let expires_at = now.saturating_add(i64::try_from(lifetime.as_secs()).unwrap_or(i64::MAX));
    super::store::insert_session(db, &hash, user_id, now, expires_at).await?;
    Ok(NewSession { token, expires_at })
}

/// The user a session token belongs to. An expired session is deleted and, like an unknown or
/// forged token, gives `None`.
pub async fn lookup(pool: &Db, token: &str) -> AppResult<Option<User>> {
    let Some(hash) = token_hash(token) else {
        return Ok(None);
    };
    let row = super::store::session(pool, &hash).await?;
    let Some((user_id, expires_at)) = row else {
        return Ok(None);
    };
    if expires_at <= unix_now() {
        delete_hash(pool, &hash).await?;
        return Ok(None);
    }
    super::users::by_id(pool, user_id).await
}

/// Signs a session out; unknown tokens are ignored.
pub async fn delete(pool: &Db, token: &str) -> AppResult<()> {
    match token_hash(token) {
        Some(hash) => delete_hash(pool, &hash).await,
        None => Ok(()),
    }
}

async fn delete_hash(pool: &Db, hash: &[u8; 32]) -> AppResult<()> {
    Ok(super::store::delete_session(pool, hash).await?)
}

pub async fn delete_expired(pool: &Db) -> AppResult<u64> {
    Ok(super::store::delete_sessions_expired(pool, unix_now()).await?)
}

/// Whether the session is still signed in: not signed out, not expired, its user not removed
/// and its password not changed since (both delete the user's sessions).
pub async fn is_live(pool: &Db, hash: &TokenHash) -> AppResult<bool> {
    Ok(super::store::session_live(pool, hash, unix_now()).await?)
}

/// Connections that outlive their request (WebSockets, download streams), by session.
#[derive(Default)]
pub struct LiveSessions {
    open: Mutex<HashMap<u64, (TokenHash, CancellationToken)>>,
    next_id: AtomicU64,
    recheck: Notify,
    checking: AtomicBool,
}

/// One open connection's hold on its session: `ended` fires when the session ends.
pub struct LiveSession {
    registry: Arc<LiveSessions>,
    id: u64,
    ended: CancellationToken,
}

impl LiveSession {
    /// Resolves once the session has ended; the connection must then close. Owned, so it can
    /// be awaited beside work on whatever holds this.
    pub fn ended(&self) -> WaitForCancellationFutureOwned {
        self.ended.clone().cancelled_owned()
    }
}

impl Drop for LiveSession {
    fn drop(&mut self) {
        if let Ok(mut open) = self.registry.open.lock() {
            open.remove(&self.id);
        }
    }
}

impl LiveSessions {
    /// Registers a connection of the session `hash`; the first one starts the checker.
    pub fn watch(self: &Arc<Self>, pool: &Db, hash: TokenHash) -> LiveSession {
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        let ended = CancellationToken::new();
        if let Ok(mut open) = self.open.lock() {
            open.insert(id, (hash, ended.clone()));
        }
        if !self.checking.swap(true, Ordering::AcqRel) {
            tokio::spawn(check_until_dropped(Arc::downgrade(self), pool.clone()));
        }
        LiveSession {
            registry: Arc::clone(self),
            id,
            ended,
        }
    }

    /// A session may have ended here (sign-out, removal): check open connections now.
    pub fn recheck(&self) {
        self.recheck.notify_one();
    }

    fn watched(&self) -> HashSet<TokenHash> {
        self.open
            .lock()
            .map(|open| open.values().map(|(hash, _)| *hash).collect())
            .unwrap_or_default()
    }

    fn end(&self, hash: &TokenHash) {
        if let Ok(open) = self.open.lock() {
            for (_, ended) in open.values().filter(|(h, _)| h == hash) {
                ended.cancel();
            }
        }
    }
}

/// Re-checks watched sessions when told and every `RECHECK_EVERY`, for as long as the registry
/// lives (the server's life; a test app's).
async fn check_until_dropped(registry: Weak<LiveSessions>, pool: Db) {
    loop {
        let Some(live) = registry.upgrade() else {
            return;
        };
        for hash in live.watched() {
            match is_live(&pool, &hash).await {
                Ok(true) => {}
                Ok(false) => live.end(&hash),
                Err(err) => tracing::warn!(error = %err, "cannot re-check a session"),
            }
        }
        tokio::select! {
            () = live.recheck.notified() => {},
            () = tokio::time::sleep(RECHECK_EVERY) => {},
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_43_base64url_characters_of_fresh_randomness() {
        let a = new_token().expect("token");
        let b = new_token().expect("token");
        assert_eq!(a.len(), 43);
        assert_ne!(*a, *b);
        assert!(token_hash(&a).is_some());
        assert!(token_hash("not a token").is_none());
        assert!(token_hash(&"A".repeat(44)).is_none());
    }
}
