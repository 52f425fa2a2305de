//! Account password hashing: Argon2id in PHC strings, off the async runtime.
//!
//! m = 19 MiB, t = 2, p = 1 (OWASP's recommendation): a 64 MiB hash per sign-in would let a
//! flood of logins eat a 2 GB server. At most two hashes run at once for the same reason, and at
//! most `HASH_QUEUE` wait or run: beyond that a request is refused at once (429, retry in a
//! second) instead of queueing without bound.

use std::sync::OnceLock;

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};
use tokio::sync::Semaphore;
use zeroize::Zeroizing;

use crate::error::{AppError, AppResult};

const M_COST_KIB: u32 = 19 * 1024;
const T_COST: u32 = 2;
const P_COST: u32 = 1;

/// Bounds the memory hashing can take: 2 × 19 MiB, whatever the number of sign-ins in flight.
static HASH_PERMITS: Semaphore = Semaphore::const_new(2);

/// Hashes running or waiting, at most: a flood of sign-ins gets 429s, not an endless queue.
pub const HASH_QUEUE: usize = 16;
static HASH_QUEUE_SLOTS: Semaphore = Semaphore::const_new(HASH_QUEUE);

/// The answer when the queue is full.
pub const BUSY_MESSAGE: &str =
    "The server is busy checking other passwords. Try again in a second.";

/// Verified when the user is unknown, so that case takes as long as a wrong password.
static DUMMY_HASH: OnceLock<String> = OnceLock::new();

fn argon2() -> AppResult<Argon2<'static>> {
    let params = Params::new(M_COST_KIB, T_COST, P_COST, None)
        .map_err(|err| AppError::Internal(format!("argon2 parameters: {err}")))?;
    Ok(Argon2::new(Algorithm::Argon2id, Version::V0x13, params))
}

fn hash_blocking(password: &[u8]) -> AppResult<String> {
    let mut salt = [0u8; 16];
    getrandom::fill(&mut salt).map_err(|err| AppError::Internal(format!("random salt: {err}")))?;
    let salt = SaltString::encode_b64(&salt)
        .map_err(|err| AppError::Internal(format!("salt encoding: {err}")))?;
    argon2()?
        .hash_password(password, &salt)
        .map(|hash| hash.to_string())
        .map_err(|err| AppError::Internal(format!("password hashing: {err}")))
}

fn verify_blocking(password: &[u8], phc: &str) -> AppResult<bool> {
    let hash = PasswordHash::new(phc)
        .map_err(|err| AppError::Internal(format!("stored password hash is malformed: {err}")))?;
    // The parameters come from the stored hash, so older hashes keep verifying if ours change.
    Ok(argon2()?.verify_password(password, &hash).is_ok())
}

async fn run_blocking<T: Send + 'static>(
    work: impl FnOnce() -> AppResult<T> + Send + 'static,
) -> AppResult<T> {
    let _slot = HASH_QUEUE_SLOTS
        .try_acquire()
        .map_err(|_| AppError::TooManyRequests {
            message: BUSY_MESSAGE.to_owned(),
            retry_after_secs: 1,
        })?;
    let _permit = HASH_PERMITS
        .acquire()
        .await
        .map_err(|_| AppError::Internal("password hashing is shut down".to_owned()))?;
    tokio::task::spawn_blocking(work)
        .await
        .map_err(|err| AppError::Internal(format!("password hashing task: {err}")))?
}

/// A fresh PHC string for `password`.
pub async fn hash(password: Zeroizing<String>) -> AppResult<String> {
    run_blocking(move || hash_blocking(password.as_bytes())).await
}

/// Checks `password` against `phc`, or against a dummy hash when there is no such user, so both
/// failures cost the same time.
pub async fn verify(password: Zeroizing<String>, phc: Option<String>) -> AppResult<bool> {
    run_blocking(move || {
        let Some(phc) = phc else {
            let dummy = match DUMMY_HASH.get() {
                Some(dummy) => dummy,
                None => {
                    let made = hash_blocking(b"no such user: a dummy password")?;
                    DUMMY_HASH.get_or_init(|| made)
                }
            };
            verify_blocking(password.as_bytes(), dummy)?;
            return Ok(false);
        };
        verify_blocking(password.as_bytes(), &phc)
    })
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn hashes_are_argon2id_with_the_owasp_parameters_and_verify() {
        let phc = hash(Zeroizing::new("correct horse".to_owned()))
            .await
            .expect("hash");
        assert!(phc.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{phc}");
        assert!(
            verify(Zeroizing::new("correct horse".into()), Some(phc.clone()))
                .await
                .expect("verify")
        );
        assert!(!verify(Zeroizing::new("wrong horse".into()), Some(phc))
            .await
            .expect("verify"));
        assert!(!verify(Zeroizing::new("anything".into()), None)
            .await
            .expect("verify"));
    }
}
