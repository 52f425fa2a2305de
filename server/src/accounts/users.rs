//! Users: creation, lookup, password changes and removal.

use crate::db::{self, Db};
use cloister_shared::api::users::{
    check_password, normalize_username, PASSWORD_MAX_CHARS, PASSWORD_RULE,
};
use cloister_shared::api::{Role, UserInfo};
use sqlx::AnyExecutor;
use zeroize::Zeroizing;

use super::store::{self, UserRow};
use super::{passwords, unix_now};
use crate::error::{AppError, AppResult};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User {
    pub id: i64,
    pub username: String,
    pub role: Role,
    pub quota_bytes: u64,
    pub created_at: i64,
}

impl User {
    pub fn info(&self) -> UserInfo {
        UserInfo {
            username: self.username.clone(),
            role: self.role,
            quota_bytes: self.quota_bytes,
            created_at: self.created_at,
        }
    }
}

impl TryFrom<UserRow> for User {
    type Error = AppError;

    fn try_from(row: UserRow) -> AppResult<Self> {
        let role = row
            .role
            .parse()
            .map_err(|_| AppError::Internal(format!("user {} has role {:?}", row.id, row.role)))?;
        Ok(Self {
            id: row.id,
            username: row.username,
            role,
            quota_bytes: u64::try_from(row.quota_bytes).unwrap_or(0),
            created_at: row.created_at,
        })
    }
}

/// The username, checked and lowercased, or a 400 saying what a username may be.
pub fn valid_username(username: &str) -> AppResult<String> {
    normalize_username(username).map_err(|rule| AppError::BadRequest(rule.to_owned()))
}

/// A 400 saying how long a password must be, unless it is 8 to 256 characters.
pub fn valid_password(password: &str) -> AppResult<()> {
    check_password(password).map_err(|rule| AppError::BadRequest(rule.to_owned()))
}

fn valid_quota(quota_bytes: u64) -> AppResult<i64> {
    i64::try_from(quota_bytes)
        .map_err(|_| AppError::BadRequest(format!("A quota is at most {} bytes.", i64::MAX)))
}

/// Hashes the password and adds the user; 409 when the name is taken.
pub async fn create(
    pool: &Db,
    username: &str,
    password: Zeroizing<String>,
    role: Role,
    quota_bytes: u64,
) -> AppResult<User> {
    let username = valid_username(username)?;
    valid_password(&password)?;
    let quota = valid_quota(quota_bytes)?;
    let hash = passwords::hash(password).await?;
    insert(pool, &username, &hash, role, quota).await
}

/// Inserts a checked user with a ready hash: `create` and invite acceptance (inside its
/// transaction) share it.
pub(crate) async fn insert<'e>(
    db: impl AnyExecutor<'e>,
    username: &str,
    password_hash: &str,
    role: Role,
    quota_bytes: i64,
) -> AppResult<User> {
    let created_at = unix_now();
    let inserted = store::insert_user(
        db,
        username,
        password_hash,
        role.as_str(),
        quota_bytes,
        created_at,
    )
    .await;
    match inserted {
        Ok(id) => Ok(User {
            id,
            username: username.to_owned(),
            role,
            quota_bytes: u64::try_from(quota_bytes).unwrap_or(0),
            created_at,
        }),
        Err(sqlx::Error::Database(err)) if err.is_unique_violation() => Err(AppError::Conflict(
            format!("The username {username} is already taken."),
        )),
        Err(err) => Err(err.into()),
    }
}

pub async fn list(pool: &Db) -> AppResult<Vec<User>> {
    store::users(pool)
        .await?
        .into_iter()
        .map(User::try_from)
        .collect()
}

pub async fn find(pool: &Db, username: &str) -> AppResult<Option<User>> {
    store::user_named(pool, username)
        .await?
        .map(User::try_from)
        .transpose()
}

pub(crate) async fn by_id<'e>(db: impl AnyExecutor<'e>, id: i64) -> AppResult<Option<User>> {
    store::user_by_id(db, id)
        .await?
        .map(User::try_from)
        .transpose()
}

// One answer for an unknown user and a wrong password: neither tells which usernames exist.
fn wrong_credentials() -> AppError {
    AppError::WrongCredentials
}

/// The user whose password this is. Unknown user and wrong password are the same 401 and cost
/// the same time.
pub async fn authenticate(
    pool: &Db,
    username: &str,
    password: Zeroizing<String>,
) -> AppResult<User> {
    let username = valid_username(username)?;
    // Too long is a 400 (and never hashed); too short simply cannot match.
    if password.chars().take(PASSWORD_MAX_CHARS + 1).count() > PASSWORD_MAX_CHARS {
        return Err(AppError::BadRequest(PASSWORD_RULE.to_owned()));
    }
    let row = store::password_hash_of(pool, &username).await?;
    let (id, hash) = match row {
        Some((id, hash)) => (Some(id), Some(hash)),
        None => (None, None),
    };
    if !passwords::verify(password, hash).await? {
        return Err(wrong_credentials());
    }
    match id {
        Some(id) => by_id(pool, id).await?.ok_or_else(wrong_credentials),
        None => Err(wrong_credentials()),
    }
}

/// Sets a new password and signs the user out everywhere: whoever knew the old one is cut off.
pub async fn set_password(pool: &Db, username: &str, password: Zeroizing<String>) -> AppResult<()> {
    let username = valid_username(username)?;
    valid_password(&password)?;
    let user = find(pool, &username)
        .await?
        .ok_or_else(|| no_such_user(&username))?;
    let hash = passwords::hash(password).await?;
    let mut tx = pool.begin().await?;
    store::set_password_hash(&mut tx, user.id, &hash).await?;
    store::delete_sessions_of(&mut tx, user.id).await?;
    tx.commit().await?;
    Ok(())
}

pub(crate) fn no_such_user(username: &str) -> AppError {
    AppError::NotFound(format!("There is no user named {username}."))
}

/// Removes a user and their sessions. The last admin cannot be removed: nobody could manage the
/// server from the web any more.
pub async fn remove(pool: &Db, username: &str) -> AppResult<()> {
    let username = valid_username(username)?;
    let mut tx = pool.begin().await?;
    let removed = match lock_admin_removals(&mut tx, db::backend(pool)).await {
        Ok(()) => delete_user(&mut tx, &username).await,
        Err(err) => Err(err),
    };
    if matches!(removed, Ok(1)) {
        tx.commit().await?;
    } else {
        drop(tx);
    }
    removed_or_why(pool, &username, removed).await
}

pub(crate) use store::{delete_user, lock_admin_removals};

/// The words for what `delete_user` answered.
pub(crate) async fn removed_or_why(
    pool: &Db,
    username: &str,
    removed: Result<u64, sqlx::Error>,
) -> AppResult<()> {
    match removed {
        Ok(1) => Ok(()),
        Ok(_) => match find(pool, username).await? {
            None => Err(no_such_user(username)),
            Some(_) => Err(AppError::Conflict(format!(
                "{username} is the last admin and cannot be removed. Make another admin first."
            ))),
        },
        Err(sqlx::Error::Database(err)) if err.is_foreign_key_violation() => {
            Err(AppError::Conflict(format!(
                "{username} still owns videos; choose who gets them, or move them to the trash."
            )))
        }
        Err(err) => Err(err.into()),
    }
}

/// Removes the comments `author_id` wrote, in the caller's transaction (a member's removal).
pub(crate) async fn delete_comments_by(
    conn: &mut sqlx::AnyConnection,
    author_id: i64,
) -> AppResult<u64> {
    Ok(store::delete_comments_by(conn, author_id).await?)
}
