//! SQL of the first run (docs/accounts.md, "First run"): the setup link's token hash, and the
//! rows a new library starts with — the library itself, the first admin's keys and their grant of
//! generation 1, and the recovery key.

use cloister_shared::api::keys::CreateLibraryRequest;
use sqlx::{AnyConnection, AnyExecutor};

use super::sessions::TokenHash;
use super::unix_now;
use crate::error::{AppError, AppResult};

/// Replaces the setup token (there is at most one) with `hash`.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn replace_token<'e>(db: impl AnyExecutor<'e>, hash: &TokenHash) -> AppResult<()> {
    sqlx::query(
        "INSERT INTO setup_tokens (id, token_hash, created_at) VALUES (1, $1, $2)
         ON CONFLICT (id) DO UPDATE SET token_hash = excluded.token_hash,
                                        created_at = excluded.created_at",
    )
    .bind(hash.as_slice())
    .bind(unix_now())
    .execute(db)
    .await?;
    Ok(())
}

/// Whether `hash` is the live setup token (a quick check before the slow password hash).
#[tracing::instrument(level = "debug", skip_all)]
pub async fn token_is_live<'e>(db: impl AnyExecutor<'e>, hash: &TokenHash) -> AppResult<bool> {
    let found: Option<i64> = sqlx::query_scalar("SELECT 1 FROM setup_tokens WHERE token_hash = $1")
        .bind(hash.as_slice())
        .fetch_optional(db)
        .await?;
    Ok(found.is_some())
}

/// Uses the token up: true when `hash` was the live one.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn take_token(conn: &mut AnyConnection, hash: &TokenHash) -> AppResult<bool> {
    let done = sqlx::query("DELETE FROM setup_tokens WHERE token_hash = $1")
        .bind(hash.as_slice())
        .execute(conn)
        .await?;
    Ok(done.rows_affected() == 1)
}

/// Drops any setup token: someone owns this Cloister now.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn drop_tokens<'e>(db: impl AnyExecutor<'e>) -> AppResult<()> {
    sqlx::query("DELETE FROM setup_tokens").execute(db).await?;
    Ok(())
}

#[tracing::instrument(level = "debug", skip_all)]
pub async fn user_count<'e>(db: impl AnyExecutor<'e>) -> AppResult<i64> {
    Ok(sqlx::query_scalar("SELECT COUNT(*) FROM users")
        .fetch_one(db)
        .await?)
}

/// The library of generation 1 with `admin_id`'s keys, their grant and the recovery key, in the
/// caller's transaction. 409 when a library row exists already.
#[tracing::instrument(level = "debug", skip_all, fields(user = admin_id))]
pub async fn create_library(
    conn: &mut AnyConnection,
    admin_id: i64,
    library: &CreateLibraryRequest,
) -> AppResult<()> {
    let now = unix_now();
    let recovery = &library.recovery;
    let created = sqlx::query(
        "INSERT INTO library (id, key_generation, recovery_public_key, recovery_sealed_key,
                              created_at, updated_at)
         VALUES (1, 1, $1, $2, $3, $4) ON CONFLICT (id) DO NOTHING",
    )
    .bind(recovery.public_key.as_bytes().as_slice())
    .bind(recovery.sealed_library_key.to_bytes().as_slice())
    .bind(now)
    .bind(now)
    .execute(&mut *conn)
    .await?;
    if created.rows_affected() != 1 {
        return Err(AppError::Conflict(
            "This Cloister already has a library. Sign in instead.".to_owned(),
        ));
    }
    let keys = &library.keys;
    let salt = keys
        .kdf
        .salt()
        .map_err(|err| AppError::BadRequest(err.to_string()))?;
    sqlx::query(
        "INSERT INTO member_keys (user_id, public_key, kdf_salt, kdf_m_cost_kib, kdf_t_cost,
                                  kdf_p_cost, wrapped_private_key, created_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind(admin_id)
    .bind(keys.public_key.as_bytes().as_slice())
    .bind(salt.as_slice())
    .bind(i64::from(keys.kdf.params.m_cost_kib))
    .bind(i64::from(keys.kdf.params.t_cost))
    .bind(i64::from(keys.kdf.params.p_cost))
    .bind(keys.wrapped_private_key.to_bytes().as_slice())
    .bind(now)
    .execute(&mut *conn)
    .await?;
    sqlx::query(
        "INSERT INTO library_grants (user_id, generation, public_key, sealed_library_key,
                                     granted_by, granted_at)
         VALUES ($1, 1, $2, $3, $4, $5)",
    )
    .bind(admin_id)
    .bind(keys.public_key.as_bytes().as_slice())
    .bind(library.grant.to_bytes().as_slice())
    .bind(admin_id)
    .bind(now)
    .execute(&mut *conn)
    .await?;
    Ok(())
}
