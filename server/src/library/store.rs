//! The one `library` row: its key generation, the shared passphrase of a library made before
//! members had keys, the recovery key, and a key change's previous key (docs/accounts.md, "Keys
//! for people").

use cloister_shared::api::keys::{PreviousKey, SharedPassphrase};
use cloister_shared::api::library::KdfInfo;
use cloister_shared::crypto::member::{MemberPublicKey, SealedLibraryKey};
use cloister_shared::{KdfParams, WrappedKey};
use sqlx::{AnyConnection, AnyExecutor};

use crate::accounts::unix_now;
use crate::error::{AppError, AppResult};

/// What the `library` row holds, decoded.
#[derive(Debug, Clone)]
pub struct LibraryRow {
    pub generation: u32,
    pub shared: Option<SharedPassphrase>,
    pub recovery: Option<(MemberPublicKey, SealedLibraryKey)>,
    pub previous: Option<PreviousKey>,
    /// Removed members who still know the current key (JSON in the row).
    pub rotation_needed_for: Vec<String>,
}

type Row = (
    i64,
    Option<Vec<u8>>,
    Option<i64>,
    Option<i64>,
    Option<i64>,
    Option<Vec<u8>>,
    Option<Vec<u8>>,
    Option<Vec<u8>>,
    Option<Vec<u8>>,
    String,
);

fn corrupt(what: &str) -> AppError {
    AppError::Internal(format!("the library row has a bad {what}"))
}

fn u32_of(value: i64, what: &str) -> AppResult<u32> {
    u32::try_from(value).map_err(|_| corrupt(what))
}

fn shared_of(
    salt: Option<Vec<u8>>,
    m: Option<i64>,
    t: Option<i64>,
    p: Option<i64>,
    wrapped: Option<Vec<u8>>,
) -> AppResult<Option<SharedPassphrase>> {
    let (Some(salt), Some(m), Some(t), Some(p), Some(wrapped)) = (salt, m, t, p, wrapped) else {
        return Ok(None);
    };
    let salt: [u8; 16] = salt.as_slice().try_into().map_err(|_| corrupt("salt"))?;
    let params = KdfParams {
        m_cost_kib: u32_of(m, "m_cost")?,
        t_cost: u32_of(t, "t_cost")?,
        p_cost: u32_of(p, "p_cost")?,
    };
    Ok(Some(SharedPassphrase {
        kdf: KdfInfo::new(&salt, params),
        wrapped_library_key: WrappedKey::from_bytes(&wrapped)
            .map_err(|_| corrupt("shared wrapped key"))?,
    }))
}

fn from_row(row: Row) -> AppResult<LibraryRow> {
    let (generation, salt, m, t, p, wrapped, recovery_pk, recovery_sealed, previous, needed) = row;
    let generation = u32_of(generation, "key generation")?;
    let recovery = match (recovery_pk, recovery_sealed) {
        (Some(pk), Some(sealed)) => Some((
            MemberPublicKey::from_bytes(&pk).map_err(|_| corrupt("recovery public key"))?,
            SealedLibraryKey::from_bytes(&sealed).map_err(|_| corrupt("recovery sealed key"))?,
        )),
        _ => None,
    };
    let previous = previous
        .map(|bytes| {
            Ok::<_, AppError>(PreviousKey {
                generation: generation.saturating_sub(1),
                wrapped: WrappedKey::from_bytes(&bytes).map_err(|_| corrupt("previous key"))?,
            })
        })
        .transpose()?;
    Ok(LibraryRow {
        generation,
        shared: shared_of(salt, m, t, p, wrapped)?,
        recovery,
        previous,
        rotation_needed_for: serde_json::from_str(&needed)
            .map_err(|_| corrupt("rotation_needed_for"))?,
    })
}

/// The library row, or `None` before an admin set the library up.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn get<'e>(db: impl AnyExecutor<'e>) -> AppResult<Option<LibraryRow>> {
    sqlx::query_as::<_, Row>(
        "SELECT key_generation, shared_kdf_salt, shared_kdf_m_cost_kib, shared_kdf_t_cost,
                shared_kdf_p_cost, shared_wrapped_library_key, recovery_public_key,
                recovery_sealed_key, previous_wrapped_key, rotation_needed_for
         FROM library WHERE id = 1",
    )
    .fetch_optional(db)
    .await?
    .map(from_row)
    .transpose()
}

/// The current key generation, or `None` without a library.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn generation<'e>(db: impl AnyExecutor<'e>) -> AppResult<Option<u32>> {
    let generation: Option<i64> =
        sqlx::query_scalar("SELECT key_generation FROM library WHERE id = 1")
            .fetch_optional(db)
            .await?;
    generation.map(|g| u32_of(g, "key generation")).transpose()
}

pub fn already_exists() -> AppError {
    AppError::Conflict(
        "The library is already set up. Setting it up again would orphan every video encrypted \
         under its key, so it was refused."
            .to_owned(),
    )
}

/// Makes the library row of generation 1 with its recovery key; 409 when one exists.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn create(
    conn: &mut AnyConnection,
    recovery_public_key: &MemberPublicKey,
    recovery_sealed_key: &SealedLibraryKey,
) -> AppResult<()> {
    let now = unix_now();
    let done = sqlx::query(
        "INSERT INTO library (id, key_generation, recovery_public_key, recovery_sealed_key,
                              created_at, updated_at)
         VALUES (1, 1, $1, $2, $3, $4) ON CONFLICT (id) DO NOTHING",
    )
    .bind(recovery_public_key.as_bytes().as_slice())
    .bind(recovery_sealed_key.to_bytes().as_slice())
    .bind(now)
    .bind(now)
    .execute(conn)
    .await?;
    if done.rows_affected() == 1 {
        Ok(())
    } else {
        Err(already_exists())
    }
}

/// Replaces the recovery key (sealed for the current generation).
#[tracing::instrument(level = "debug", skip_all)]
pub async fn set_recovery<'e>(
    db: impl AnyExecutor<'e>,
    public_key: &MemberPublicKey,
    sealed: &SealedLibraryKey,
) -> AppResult<()> {
    sqlx::query(
        "UPDATE library SET recovery_public_key = $1, recovery_sealed_key = $2, updated_at = $3
         WHERE id = 1",
    )
    .bind(public_key.as_bytes().as_slice())
    .bind(sealed.to_bytes().as_slice())
    .bind(unix_now())
    .execute(db)
    .await?;
    Ok(())
}

/// Drops the shared passphrase once every account has keys of its own: nobody needs it any more,
/// and a copy of it would otherwise open the library for anyone who once knew it.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn drop_shared_if_all_converted(conn: &mut AnyConnection) -> AppResult<bool> {
    let done = sqlx::query(
        "UPDATE library SET shared_kdf_salt = NULL, shared_kdf_m_cost_kib = NULL,
                            shared_kdf_t_cost = NULL, shared_kdf_p_cost = NULL,
                            shared_wrapped_library_key = NULL, updated_at = $1
         WHERE id = 1 AND shared_wrapped_library_key IS NOT NULL
           AND NOT EXISTS (SELECT 1 FROM users u
                           WHERE NOT EXISTS (SELECT 1 FROM member_keys k WHERE k.user_id = u.id))",
    )
    .bind(unix_now())
    .execute(conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Whether a key change (rotation) is unfinished.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn rotation_unfinished<'e>(db: impl AnyExecutor<'e>) -> AppResult<bool> {
    let found: Option<i64> =
        sqlx::query_scalar("SELECT 1 FROM key_rotations WHERE finished_at IS NULL")
            .fetch_optional(db)
            .await?;
    Ok(found.is_some())
}
