//! The one `library` row.

use cloister_shared::crypto::keys::KDF_SALT_LEN;
use cloister_shared::{KdfParams, WrappedKey};
use sqlx::SqlitePool;

use crate::accounts::unix_now;
use crate::error::{AppError, AppResult};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LibraryRecord {
    pub salt: [u8; KDF_SALT_LEN],
    pub params: KdfParams,
    pub wrapped_library_key: WrappedKey,
}

type Row = (Vec<u8>, i64, i64, i64, Vec<u8>);

fn from_row((salt, m, t, p, wrapped): Row) -> AppResult<LibraryRecord> {
    let corrupt = |what: &str| AppError::Internal(format!("the library row has a bad {what}"));
    let u32_of = |v: i64, what: &str| u32::try_from(v).map_err(|_| corrupt(what));
    Ok(LibraryRecord {
        salt: salt.as_slice().try_into().map_err(|_| corrupt("salt"))?,
        params: KdfParams {
            m_cost_kib: u32_of(m, "m_cost")?,
            t_cost: u32_of(t, "t_cost")?,
            p_cost: u32_of(p, "p_cost")?,
        },
        wrapped_library_key: WrappedKey::from_bytes(&wrapped)
            .map_err(|_| corrupt("wrapped key"))?,
    })
}

pub async fn get(pool: &SqlitePool) -> AppResult<Option<LibraryRecord>> {
    sqlx::query_as::<_, Row>(
        "SELECT shared_kdf_salt, shared_kdf_m_cost_kib, shared_kdf_t_cost, shared_kdf_p_cost, shared_wrapped_library_key
         FROM library WHERE id = 1 AND shared_wrapped_library_key IS NOT NULL",
    )
    .fetch_optional(pool)
    .await?
    .map(from_row)
    .transpose()
}

/// Refuses parameters below the design floor: a weak KDF would make the passphrase cheap to guess
/// for anyone holding a copy of the database.
fn check_params(params: &KdfParams) -> AppResult<()> {
    params.validate().map_err(|_| {
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
    })
}

/// Stores the first wrapping of the library key. A second one is refused: replacing the key
/// would leave every video's key wrapped under a key nobody has any more.
pub async fn init(pool: &SqlitePool, record: &LibraryRecord) -> AppResult<()> {
    check_params(&record.params)?;
    let now = unix_now();
    let done = sqlx::query(
        "INSERT INTO library (id, shared_kdf_salt, shared_kdf_m_cost_kib, shared_kdf_t_cost, shared_kdf_p_cost,
                              shared_wrapped_library_key, created_at, updated_at)
         VALUES (1, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO NOTHING",
    )
    .bind(record.salt.as_slice())
    .bind(record.params.m_cost_kib)
    .bind(record.params.t_cost)
    .bind(record.params.p_cost)
    .bind(record.wrapped_library_key.to_bytes().as_slice())
    .bind(now)
    .bind(now)
    .execute(pool)
    .await?;
    if done.rows_affected() == 1 {
        Ok(())
    } else {
        Err(AppError::Conflict(
            "The library already has a passphrase. Setting up a new one would orphan every video \
             encrypted under the current library key, so it was refused. To change the \
             passphrase, use “change passphrase”, which keeps the key."
                .to_owned(),
        ))
    }
}

/// Rewraps the library key under a new passphrase, only if `expected` is still the stored
/// wrapping: the client proved it knew the old passphrase by unwrapping that exact value, and a
/// concurrent change is not silently overwritten.
pub async fn change_passphrase(
    pool: &SqlitePool,
    expected: &WrappedKey,
    record: &LibraryRecord,
) -> AppResult<()> {
    check_params(&record.params)?;
    let done = sqlx::query(
        "UPDATE library SET shared_kdf_salt = ?, shared_kdf_m_cost_kib = ?, shared_kdf_t_cost = ?, shared_kdf_p_cost = ?,
                            shared_wrapped_library_key = ?, updated_at = ?
         WHERE id = 1 AND shared_wrapped_library_key = ?",
    )
    .bind(record.salt.as_slice())
    .bind(record.params.m_cost_kib)
    .bind(record.params.t_cost)
    .bind(record.params.p_cost)
    .bind(record.wrapped_library_key.to_bytes().as_slice())
    .bind(unix_now())
    .bind(expected.to_bytes().as_slice())
    .execute(pool)
    .await?;
    if done.rows_affected() == 1 {
        return Ok(());
    }
    if get(pool).await?.is_none() {
        return Err(AppError::Conflict(
            "The library has no passphrase yet; set one up first.".to_owned(),
        ));
    }
    Err(AppError::Conflict(
        "The library passphrase was changed since you unlocked it. Unlock with the current \
         passphrase and try again."
            .to_owned(),
    ))
}
