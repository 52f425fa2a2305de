//! Members' key pairs (`member_keys`) and their grants of the library key (`library_grants`),
//! docs/accounts.md, "Keys for people".

use cloister_shared::api::keys::{KeyHolder, MemberKeys, WaitingMember};
use cloister_shared::api::library::KdfInfo;
use cloister_shared::crypto::member::{MemberPublicKey, SealedLibraryKey};
use cloister_shared::{KdfParams, WrappedKey};
use sqlx::{AnyConnection, AnyExecutor};

use crate::accounts::unix_now;
use crate::error::{AppError, AppResult};

fn corrupt(what: &str) -> AppError {
    AppError::Internal(format!("stored keys have a bad {what}"))
}

fn public_key_of(bytes: &[u8]) -> AppResult<MemberPublicKey> {
    MemberPublicKey::from_bytes(bytes).map_err(|_| corrupt("public key"))
}

/// Refuses a salt that is not 16 bytes and Argon2id parameters below the floor: a weak KDF would
/// make the passphrase cheap to guess for anyone holding a copy of the database.
pub fn check_kdf(kdf: &KdfInfo) -> AppResult<[u8; 16]> {
    let salt = kdf
        .salt()
        .map_err(|err| AppError::BadRequest(format!("{err}.")))?;
    kdf.params.validate().map_err(|_| {
        AppError::BadRequest(format!(
            "The key-derivation parameters are out of range: memory must be {}..={} KiB, \
             iterations {}..={}, parallelism {}..={}.",
            KdfParams::MIN_M_COST_KIB,
            KdfParams::MAX_M_COST_KIB,
            KdfParams::MIN_T_COST,
            KdfParams::MAX_T_COST,
            KdfParams::MIN_P_COST,
            KdfParams::MAX_P_COST,
        ))
    })?;
    Ok(salt)
}

type KeysRow = (Vec<u8>, Vec<u8>, i64, i64, i64, Vec<u8>);

fn keys_of((pk, salt, m, t, p, wrapped): KeysRow) -> AppResult<MemberKeys> {
    let salt: [u8; 16] = salt.as_slice().try_into().map_err(|_| corrupt("salt"))?;
    let u32_of = |v: i64| u32::try_from(v).map_err(|_| corrupt("KDF parameter"));
    Ok(MemberKeys {
        public_key: public_key_of(&pk)?,
        kdf: KdfInfo::new(
            &salt,
            KdfParams {
                m_cost_kib: u32_of(m)?,
                t_cost: u32_of(t)?,
                p_cost: u32_of(p)?,
            },
        ),
        wrapped_private_key: WrappedKey::from_bytes(&wrapped)
            .map_err(|_| corrupt("wrapped private key"))?,
    })
}

/// The member's keys, if they made them.
#[tracing::instrument(level = "debug", skip_all, fields(user = user_id))]
pub async fn keys_of_user<'e>(
    db: impl AnyExecutor<'e>,
    user_id: i64,
) -> AppResult<Option<MemberKeys>> {
    sqlx::query_as::<_, KeysRow>(
        "SELECT public_key, kdf_salt, kdf_m_cost_kib, kdf_t_cost, kdf_p_cost, wrapped_private_key
         FROM member_keys WHERE user_id = $1",
    )
    .bind(user_id)
    .fetch_optional(db)
    .await?
    .map(keys_of)
    .transpose()
}

/// Stores (or replaces) the member's key pair. Replacing drops every grant to the old key: it no
/// longer opens them, and a grant must always be sealed to the member's current key.
#[tracing::instrument(level = "debug", skip_all, fields(user = user_id))]
pub async fn put_keys(conn: &mut AnyConnection, user_id: i64, keys: &MemberKeys) -> AppResult<()> {
    let salt = check_kdf(&keys.kdf)?;
    sqlx::query("DELETE FROM library_grants WHERE user_id = $1")
        .bind(user_id)
        .execute(&mut *conn)
        .await?;
    sqlx::query(
        "INSERT INTO member_keys (user_id, public_key, kdf_salt, kdf_m_cost_kib, kdf_t_cost,
                                  kdf_p_cost, wrapped_private_key, created_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
         ON CONFLICT (user_id) DO UPDATE SET
             public_key = excluded.public_key, kdf_salt = excluded.kdf_salt,
             kdf_m_cost_kib = excluded.kdf_m_cost_kib, kdf_t_cost = excluded.kdf_t_cost,
             kdf_p_cost = excluded.kdf_p_cost, wrapped_private_key = excluded.wrapped_private_key,
             created_at = excluded.created_at",
    )
    .bind(user_id)
    .bind(keys.public_key.as_bytes().as_slice())
    .bind(salt.as_slice())
    .bind(i64::from(keys.kdf.params.m_cost_kib))
    .bind(i64::from(keys.kdf.params.t_cost))
    .bind(i64::from(keys.kdf.params.p_cost))
    .bind(keys.wrapped_private_key.to_bytes().as_slice())
    .bind(unix_now())
    .execute(conn)
    .await?;
    Ok(())
}

/// Rewraps the member's private key under a new passphrase, only while `expected` is still the
/// stored wrapping (the client opened that exact value with the old passphrase). False when it is
/// not (or the member has no keys).
#[tracing::instrument(level = "debug", skip_all, fields(user = user_id))]
pub async fn rewrap_private_key<'e>(
    db: impl AnyExecutor<'e>,
    user_id: i64,
    expected: &WrappedKey,
    kdf: &KdfInfo,
    wrapped: &WrappedKey,
) -> AppResult<bool> {
    let salt = check_kdf(kdf)?;
    let done = sqlx::query(
        "UPDATE member_keys SET kdf_salt = $1, kdf_m_cost_kib = $2, kdf_t_cost = $3, kdf_p_cost = $4,
                                wrapped_private_key = $5
         WHERE user_id = $6 AND wrapped_private_key = $7",
    )
    .bind(salt.as_slice())
    .bind(i64::from(kdf.params.m_cost_kib))
    .bind(i64::from(kdf.params.t_cost))
    .bind(i64::from(kdf.params.p_cost))
    .bind(wrapped.to_bytes().as_slice())
    .bind(user_id)
    .bind(expected.to_bytes().as_slice())
    .execute(db)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Stores the library key of `generation` sealed to `public_key` for the member (replacing an
/// earlier grant of that generation).
#[tracing::instrument(level = "debug", skip_all, fields(user = user_id, generation = generation, by = granted_by))]
pub async fn put_grant(
    conn: &mut AnyConnection,
    user_id: i64,
    generation: u32,
    public_key: &MemberPublicKey,
    sealed: &SealedLibraryKey,
    granted_by: i64,
) -> AppResult<()> {
    sqlx::query(
        "INSERT INTO library_grants (user_id, generation, public_key, sealed_library_key,
                                     granted_by, granted_at)
         VALUES ($1, $2, $3, $4, $5, $6)
         ON CONFLICT (user_id, generation) DO UPDATE SET
             public_key = excluded.public_key, sealed_library_key = excluded.sealed_library_key,
             granted_by = excluded.granted_by, granted_at = excluded.granted_at",
    )
    .bind(user_id)
    .bind(i64::from(generation))
    .bind(public_key.as_bytes().as_slice())
    .bind(sealed.to_bytes().as_slice())
    .bind(granted_by)
    .bind(unix_now())
    .execute(conn)
    .await?;
    Ok(())
}

/// The member's grant of `generation`, if any.
#[tracing::instrument(level = "debug", skip_all, fields(user = user_id, generation = generation))]
pub async fn grant_of<'e>(
    db: impl AnyExecutor<'e>,
    user_id: i64,
    generation: u32,
) -> AppResult<Option<SealedLibraryKey>> {
    let sealed: Option<Vec<u8>> = sqlx::query_scalar(
        "SELECT sealed_library_key FROM library_grants WHERE user_id = $1 AND generation = $2",
    )
    .bind(user_id)
    .bind(i64::from(generation))
    .fetch_optional(db)
    .await?;
    sealed
        .map(|bytes| SealedLibraryKey::from_bytes(&bytes).map_err(|_| corrupt("grant")))
        .transpose()
}

/// Members with keys but no grant of `generation`, oldest first.
#[tracing::instrument(level = "debug", skip_all, fields(generation = generation))]
pub async fn waiting<'e>(
    db: impl AnyExecutor<'e>,
    generation: u32,
) -> AppResult<Vec<WaitingMember>> {
    let rows: Vec<(String, Vec<u8>, i64)> = sqlx::query_as(
        "SELECT u.username, k.public_key, k.created_at
         FROM member_keys k JOIN users u ON u.id = k.user_id
         WHERE NOT EXISTS (SELECT 1 FROM library_grants g
                           WHERE g.user_id = k.user_id AND g.generation = $1)
         ORDER BY k.created_at, u.username",
    )
    .bind(i64::from(generation))
    .fetch_all(db)
    .await?;
    rows.into_iter()
        .map(|(username, pk, since)| {
            Ok(WaitingMember {
                username,
                public_key: public_key_of(&pk)?,
                since,
            })
        })
        .collect()
}

/// Members holding a grant of `generation`, with the key it was sealed to.
#[tracing::instrument(level = "debug", skip_all, fields(generation = generation))]
pub async fn holders<'e>(db: impl AnyExecutor<'e>, generation: u32) -> AppResult<Vec<KeyHolder>> {
    let rows: Vec<(String, Vec<u8>)> = sqlx::query_as(
        "SELECT u.username, g.public_key FROM library_grants g JOIN users u ON u.id = g.user_id
         WHERE g.generation = $1 ORDER BY u.username",
    )
    .bind(i64::from(generation))
    .fetch_all(db)
    .await?;
    rows.into_iter()
        .map(|(username, pk)| {
            Ok(KeyHolder {
                username,
                public_key: public_key_of(&pk)?,
            })
        })
        .collect()
}

/// Ids of every admin: who hears that a member waits for access.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn admin_ids<'e>(db: impl AnyExecutor<'e>) -> AppResult<Vec<i64>> {
    Ok(
        sqlx::query_scalar("SELECT id FROM users WHERE role = 'admin'")
            .fetch_all(db)
            .await?,
    )
}
