//! The accounts' tables: `users`, `sessions` and `invites` (the setup link's and the library's
//! rows are in `setup_store` and `crate::library`). User names are compared without regard to
//! case, as both schemas index them.

use sqlx::{AnyConnection, AnyExecutor};

use crate::db::Backend;

/// A `users` row.
#[derive(sqlx::FromRow)]
pub struct UserRow {
    pub id: i64,
    pub username: String,
    pub role: String,
    pub quota_bytes: i64,
    pub created_at: i64,
}

const USER_COLUMNS: &str = "id, username, role, quota_bytes, created_at";

/// Adds a user; answers the new id (a unique violation when the name is taken).
#[tracing::instrument(level = "debug", skip_all, fields(username = username, role = role, quota = quota_bytes))]
pub async fn insert_user<'e>(
    db: impl AnyExecutor<'e>,
    username: &str,
    password_hash: &str,
    role: &str,
    quota_bytes: i64,
    created_at: i64,
) -> sqlx::Result<i64> {
    sqlx::query_scalar(
        "INSERT INTO users (username, password_hash, role, quota_bytes, created_at)
         VALUES ($1, $2, $3, $4, $5) RETURNING id",
    )
    .bind(username)
    .bind(password_hash)
    .bind(role)
    .bind(quota_bytes)
    .bind(created_at)
    .fetch_one(db)
    .await
}

/// Every user, by name.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn users<'e>(db: impl AnyExecutor<'e>) -> sqlx::Result<Vec<UserRow>> {
    sqlx::query_as(&format!(
        "SELECT {USER_COLUMNS} FROM users ORDER BY username"
    ))
    .fetch_all(db)
    .await
}

#[tracing::instrument(level = "debug", skip_all, fields(username = username))]
pub async fn user_named<'e>(
    db: impl AnyExecutor<'e>,
    username: &str,
) -> sqlx::Result<Option<UserRow>> {
    sqlx::query_as(&format!(
        "SELECT {USER_COLUMNS} FROM users WHERE lower(username) = lower($1)"
    ))
    .bind(username)
    .fetch_optional(db)
    .await
}

#[tracing::instrument(level = "debug", skip_all, fields(user = id))]
pub async fn user_by_id<'e>(db: impl AnyExecutor<'e>, id: i64) -> sqlx::Result<Option<UserRow>> {
    sqlx::query_as(&format!("SELECT {USER_COLUMNS} FROM users WHERE id = $1"))
        .bind(id)
        .fetch_optional(db)
        .await
}

/// `(id, password hash)` of the user named `username`.
#[tracing::instrument(level = "debug", skip_all, fields(username = username))]
pub async fn password_hash_of<'e>(
    db: impl AnyExecutor<'e>,
    username: &str,
) -> sqlx::Result<Option<(i64, String)>> {
    sqlx::query_as("SELECT id, password_hash FROM users WHERE lower(username) = lower($1)")
        .bind(username)
        .fetch_optional(db)
        .await
}

#[tracing::instrument(level = "debug", skip_all, fields(user = id))]
pub async fn set_password_hash(conn: &mut AnyConnection, id: i64, hash: &str) -> sqlx::Result<()> {
    sqlx::query("UPDATE users SET password_hash = $1 WHERE id = $2")
        .bind(hash)
        .bind(id)
        .execute(conn)
        .await?;
    Ok(())
}

/// Any number, the same in every process: the PostgreSQL advisory lock removals take.
const ADMIN_REMOVAL_LOCK: i64 = 0x636c_6f69_7374_0001;

/// Serializes the removals of users, first thing in the removal's transaction, so the last-admin
/// guard in `delete_user` counts what the other removals committed. SQLite admits one writer at
/// a time already; on PostgreSQL each statement reads the rows committed when it started, so two
/// admins removing each other at once would each still count the other and both go. The lock
/// is released when the transaction ends.
#[tracing::instrument(level = "debug", skip_all, fields(backend = ?backend))]
pub async fn lock_admin_removals(conn: &mut AnyConnection, backend: Backend) -> sqlx::Result<()> {
    if backend == Backend::Postgres {
        sqlx::query_scalar::<_, i64>("SELECT 1 FROM pg_advisory_xact_lock($1)")
            .bind(ADMIN_REMOVAL_LOCK)
            .fetch_one(conn)
            .await?;
    }
    Ok(())
}

/// The removal statement, in the caller's transaction, which took `lock_admin_removals` first:
/// the last admin stays. Answers how many rows went (0 or 1).
#[tracing::instrument(level = "debug", skip_all, fields(username = username))]
pub async fn delete_user(conn: &mut AnyConnection, username: &str) -> sqlx::Result<u64> {
    sqlx::query(
        "DELETE FROM users WHERE lower(username) = lower($1)
           AND (role <> 'admin' OR (SELECT COUNT(*) FROM users WHERE role = 'admin') > 1)",
    )
    .bind(username)
    .execute(conn)
    .await
    .map(|done| done.rows_affected())
}

/// Removes the comments `author_id` wrote (a member's removal); answers how many.
#[tracing::instrument(level = "debug", skip_all, fields(user = author_id))]
pub async fn delete_comments_by(conn: &mut AnyConnection, author_id: i64) -> sqlx::Result<u64> {
    let done = sqlx::query("DELETE FROM comments WHERE author_id = $1")
        .bind(author_id)
        .execute(conn)
        .await?;
    Ok(done.rows_affected())
}

#[tracing::instrument(level = "debug", skip_all, fields(user = user_id))]
pub async fn insert_session<'e>(
    db: impl AnyExecutor<'e>,
    hash: &[u8],
    user_id: i64,
    now: i64,
    expires_at: i64,
) -> sqlx::Result<()> {
    sqlx::query(
        "INSERT INTO sessions (token_hash, user_id, created_at, expires_at) VALUES ($1, $2, $3, $4)",
    )
    .bind(hash)
    .bind(user_id)
    .bind(now)
    .bind(expires_at)
    .execute(db)
    .await?;
    Ok(())
}

/// `(user_id, expires_at)` of the session with this token hash.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn session<'e>(
    db: impl AnyExecutor<'e>,
    hash: &[u8],
) -> sqlx::Result<Option<(i64, i64)>> {
    sqlx::query_as("SELECT user_id, expires_at FROM sessions WHERE token_hash = $1")
        .bind(hash)
        .fetch_optional(db)
        .await
}

#[tracing::instrument(level = "debug", skip_all)]
pub async fn delete_session<'e>(db: impl AnyExecutor<'e>, hash: &[u8]) -> sqlx::Result<()> {
    sqlx::query("DELETE FROM sessions WHERE token_hash = $1")
        .bind(hash)
        .execute(db)
        .await?;
    Ok(())
}

/// Signs the user out everywhere.
#[tracing::instrument(level = "debug", skip_all, fields(user = user_id))]
pub async fn delete_sessions_of(conn: &mut AnyConnection, user_id: i64) -> sqlx::Result<()> {
    sqlx::query("DELETE FROM sessions WHERE user_id = $1")
        .bind(user_id)
        .execute(conn)
        .await?;
    Ok(())
}

#[tracing::instrument(level = "debug", skip_all)]
pub async fn delete_sessions_expired<'e>(db: impl AnyExecutor<'e>, now: i64) -> sqlx::Result<u64> {
    Ok(sqlx::query("DELETE FROM sessions WHERE expires_at <= $1")
        .bind(now)
        .execute(db)
        .await?
        .rows_affected())
}

/// Whether a session with this hash exists and ends after `now`.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn session_live<'e>(
    db: impl AnyExecutor<'e>,
    hash: &[u8],
    now: i64,
) -> sqlx::Result<bool> {
    let found: Option<i64> =
        sqlx::query_scalar("SELECT 1 FROM sessions WHERE token_hash = $1 AND expires_at > $2")
            .bind(hash)
            .bind(now)
            .fetch_optional(db)
            .await?;
    Ok(found.is_some())
}

#[tracing::instrument(level = "debug", skip_all, fields(role = role, by = created_by))]
pub async fn insert_invite<'e>(
    db: impl AnyExecutor<'e>,
    hash: &[u8],
    role: &str,
    created_by: i64,
    now: i64,
    expires_at: i64,
) -> sqlx::Result<()> {
    sqlx::query(
        "INSERT INTO invites (token_hash, role, created_by, created_at, expires_at)
         VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(hash)
    .bind(role)
    .bind(created_by)
    .bind(now)
    .bind(expires_at)
    .execute(db)
    .await?;
    Ok(())
}

/// Whether an invite with this hash exists and ends after `now`.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn invite_live<'e>(
    db: impl AnyExecutor<'e>,
    hash: &[u8],
    now: i64,
) -> sqlx::Result<bool> {
    let found: Option<i64> =
        sqlx::query_scalar("SELECT 1 FROM invites WHERE token_hash = $1 AND expires_at > $2")
            .bind(hash)
            .bind(now)
            .fetch_optional(db)
            .await?;
    Ok(found.is_some())
}

/// Uses the invite up (one statement, so only one acceptance gets it); answers its role.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn take_invite<'e>(
    db: impl AnyExecutor<'e>,
    hash: &[u8],
    now: i64,
) -> sqlx::Result<Option<String>> {
    sqlx::query_scalar(
        "DELETE FROM invites WHERE token_hash = $1 AND expires_at > $2 RETURNING role",
    )
    .bind(hash)
    .bind(now)
    .fetch_optional(db)
    .await
}

#[tracing::instrument(level = "debug", skip_all)]
pub async fn delete_invites_expired<'e>(db: impl AnyExecutor<'e>, now: i64) -> sqlx::Result<u64> {
    Ok(sqlx::query("DELETE FROM invites WHERE expires_at <= $1")
        .bind(now)
        .execute(db)
        .await?
        .rows_affected())
}
