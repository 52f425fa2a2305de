//! Recovery challenges (`recovery_challenges`): the answer's SHA-256 per admin, single use.

use sqlx::AnyExecutor;

use crate::error::AppResult;

/// Stores the admin's challenge, replacing an earlier one.
#[tracing::instrument(level = "debug", skip_all, fields(user = user_id))]
pub async fn put_challenge<'e>(
    db: impl AnyExecutor<'e>,
    user_id: i64,
    answer_hash: &[u8],
    expires_at: i64,
) -> AppResult<()> {
    sqlx::query(
        "INSERT INTO recovery_challenges (user_id, answer_hash, expires_at) VALUES ($1, $2, $3)
         ON CONFLICT (user_id) DO UPDATE SET answer_hash = excluded.answer_hash,
                                             expires_at = excluded.expires_at",
    )
    .bind(user_id)
    .bind(answer_hash)
    .bind(expires_at)
    .execute(db)
    .await?;
    Ok(())
}

/// Removes and answers the admin's challenge: `(answer hash, expires_at)`.
#[tracing::instrument(level = "debug", skip_all, fields(user = user_id))]
pub async fn take_challenge<'e>(
    db: impl AnyExecutor<'e>,
    user_id: i64,
) -> AppResult<Option<(Vec<u8>, i64)>> {
    Ok(sqlx::query_as(
        "DELETE FROM recovery_challenges WHERE user_id = $1 RETURNING answer_hash, expires_at",
    )
    .bind(user_id)
    .fetch_optional(db)
    .await?)
}
