//! SQL for key changes (docs/accounts.md, "Removing a member: the key change"): the
//! `key_rotations` rows, the library row's generation and `rotation_needed_for`, the grants of a
//! new generation and the videos' wrapped keys.

use cloister_shared::api::keys::{RotationGrant, RotationProgress};
use cloister_shared::crypto::member::SealedLibraryKey;
use cloister_shared::WrappedKey;
use sqlx::AnyConnection;

use crate::db::Flag;
use crate::error::{AppError, AppResult};

/// The library row's key state.
#[derive(Debug, Clone)]
pub struct KeyState {
    pub generation: u32,
    pub recovery_set: bool,
    /// Removed members who still know the current key.
    pub needed_for: Vec<String>,
}

/// An unfinished (or just finished) key change as stored.
#[derive(Debug, Clone)]
pub struct Rotation {
    pub to_generation: u32,
    pub started_by: Option<String>,
    pub started_at: i64,
    pub total: u64,
    pub covers: Vec<String>,
}

impl Rotation {
    pub fn from_generation(&self) -> u32 {
        self.to_generation - 1
    }

    pub fn progress(&self, remaining: u64, finished: bool) -> RotationProgress {
        RotationProgress {
            from_generation: self.from_generation(),
            to_generation: self.to_generation,
            done: self.total.saturating_sub(remaining),
            total: self.total,
            started_by: self.started_by.clone(),
            started_at: self.started_at,
            finished,
        }
    }
}

fn corrupt(what: &str) -> AppError {
    AppError::Internal(format!("the library row has a bad {what}"))
}

fn generation_of(value: i64) -> AppResult<u32> {
    u32::try_from(value).map_err(|_| corrupt("key generation"))
}

fn names_of(json: &str) -> AppResult<Vec<String>> {
    serde_json::from_str(json).map_err(|_| corrupt("list of removed members"))
}

fn json_of(names: &[String]) -> AppResult<String> {
    serde_json::to_string(names).map_err(|err| AppError::Internal(err.to_string()))
}

/// Takes SQLite's write lock at the start of a transaction, so the checks that follow read what
/// no concurrent writer can change before commit (a deferred transaction would fail its first
/// write instead, as "database is locked").
#[tracing::instrument(level = "debug", skip_all)]
pub async fn lock_for_writing(conn: &mut AnyConnection) -> AppResult<()> {
    sqlx::query("UPDATE library SET updated_at = updated_at WHERE id = 1")
        .execute(conn)
        .await?;
    Ok(())
}

/// `None` while the library has no key (mode New).
#[tracing::instrument(level = "debug", skip_all)]
pub async fn key_state(conn: &mut AnyConnection) -> AppResult<Option<KeyState>> {
    let row: Option<(i64, Flag, String)> = sqlx::query_as(
        "SELECT key_generation, recovery_public_key IS NOT NULL, rotation_needed_for
         FROM library WHERE id = 1",
    )
    .fetch_optional(conn)
    .await?;
    row.map(|(generation, Flag(recovery_set), needed)| {
        Ok(KeyState {
            generation: generation_of(generation)?,
            recovery_set,
            needed_for: names_of(&needed)?,
        })
    })
    .transpose()
}

#[tracing::instrument(level = "debug", skip_all)]
pub async fn recovery_public_key(conn: &mut AnyConnection) -> AppResult<Option<Vec<u8>>> {
    Ok(
        sqlx::query_scalar("SELECT recovery_public_key FROM library WHERE id = 1")
            .fetch_optional(conn)
            .await?
            .flatten(),
    )
}

#[tracing::instrument(level = "debug", skip_all)]
pub async fn unfinished(conn: &mut AnyConnection) -> AppResult<Option<Rotation>> {
    let row: Option<(i64, Option<String>, i64, i64, String)> = sqlx::query_as(
        "SELECT r.to_generation, u.username, r.started_at, r.total_videos, r.covers
         FROM key_rotations r LEFT JOIN users u ON u.id = r.started_by
         WHERE r.finished_at IS NULL",
    )
    .fetch_optional(conn)
    .await?;
    row.map(|(to, started_by, started_at, total, covers)| {
        let to_generation = generation_of(to)?;
        if to_generation < 2 {
            return Err(corrupt("key change generation"));
        }
        Ok(Rotation {
            to_generation,
            started_by,
            started_at,
            total: u64::try_from(total).map_err(|_| corrupt("key change total"))?,
            covers: names_of(&covers)?,
        })
    })
    .transpose()
}

/// A finished key change to `to_generation`, if there was one (a late batch from a second tab).
#[tracing::instrument(level = "debug", skip_all, fields(generation = to_generation))]
pub async fn finished(conn: &mut AnyConnection, to_generation: u32) -> AppResult<Option<Rotation>> {
    let row: Option<(Option<String>, i64, i64)> = sqlx::query_as(
        "SELECT u.username, r.started_at, r.total_videos
         FROM key_rotations r LEFT JOIN users u ON u.id = r.started_by
         WHERE r.to_generation = $1 AND r.finished_at IS NOT NULL",
    )
    .bind(i64::from(to_generation))
    .fetch_optional(conn)
    .await?;
    row.map(|(started_by, started_at, total)| {
        Ok(Rotation {
            to_generation,
            started_by,
            started_at,
            total: u64::try_from(total).map_err(|_| corrupt("key change total"))?,
            covers: Vec::new(),
        })
    })
    .transpose()
}

/// The progress of the unfinished key change, if any (for `GET /api/library`).
#[tracing::instrument(level = "debug", skip_all)]
pub async fn progress(conn: &mut AnyConnection) -> AppResult<Option<RotationProgress>> {
    let Some(rotation) = unfinished(&mut *conn).await? else {
        return Ok(None);
    };
    let remaining = remaining(conn, rotation.from_generation()).await?;
    Ok(Some(rotation.progress(remaining, false)))
}

/// Removed members the next key change must answer for (for `GET /api/library`, admins).
#[tracing::instrument(level = "debug", skip_all)]
pub async fn needed_for(conn: &mut AnyConnection) -> AppResult<Vec<String>> {
    Ok(key_state(conn)
        .await?
        .map(|state| state.needed_for)
        .unwrap_or_default())
}

/// Who holds a grant for `generation`: (username, public key bytes), by username.
#[tracing::instrument(level = "debug", skip_all, fields(generation = generation))]
pub async fn holders(
    conn: &mut AnyConnection,
    generation: u32,
) -> AppResult<Vec<(String, Vec<u8>)>> {
    Ok(sqlx::query_as(
        "SELECT u.username, g.public_key FROM library_grants g JOIN users u ON u.id = g.user_id
         WHERE g.generation = $1 ORDER BY u.username",
    )
    .bind(i64::from(generation))
    .fetch_all(conn)
    .await?)
}

/// Videos (trashed and unfinished ones too) whose key is still wrapped under `generation`.
#[tracing::instrument(level = "debug", skip_all, fields(generation = generation))]
pub async fn remaining(conn: &mut AnyConnection, generation: u32) -> AppResult<u64> {
    let count: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM videos WHERE key_generation = $1")
        .bind(i64::from(generation))
        .fetch_one(conn)
        .await?;
    u64::try_from(count).map_err(|_| corrupt("video count"))
}

/// Everything a key change's start stores.
pub struct NewRotation<'a> {
    pub from_generation: u32,
    pub started_by: i64,
    pub now: i64,
    pub total: u64,
    pub covers: &'a [String],
    pub grants: &'a [RotationGrant],
    pub recovery_sealed_key: Option<&'a SealedLibraryKey>,
    pub previous: &'a WrappedKey,
}

/// Moves the library to the next generation: the new key's grants replace the old ones (the
/// old generation's grants of remaining members, and any older), the recovery key's sealing is
/// replaced, the previous key is kept wrapped under the new one until every video is re-wrapped,
/// and the shared passphrase (which only opens the old key) is dropped.
#[tracing::instrument(level = "debug", skip_all, fields(from = new.from_generation, by = new.started_by, total = new.total))]
pub async fn start(conn: &mut AnyConnection, new: &NewRotation<'_>) -> AppResult<()> {
    let to = new.from_generation + 1;
    let total = i64::try_from(new.total).map_err(|_| corrupt("video count"))?;
    sqlx::query(
        "INSERT INTO key_rotations (to_generation, started_by, started_at, total_videos, covers)
         VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(i64::from(to))
    .bind(new.started_by)
    .bind(new.now)
    .bind(total)
    .bind(json_of(new.covers)?)
    .execute(&mut *conn)
    .await?;
    sqlx::query(
        "UPDATE library SET key_generation = $1, previous_wrapped_key = $2,
                recovery_sealed_key = CASE WHEN recovery_public_key IS NULL THEN NULL ELSE $3 END,
                shared_kdf_salt = NULL, shared_kdf_m_cost_kib = NULL, shared_kdf_t_cost = NULL,
                shared_kdf_p_cost = NULL, shared_wrapped_library_key = NULL, updated_at = $4
         WHERE id = 1 AND key_generation = $5",
    )
    .bind(i64::from(to))
    .bind(new.previous.to_bytes().as_slice())
    .bind(
        new.recovery_sealed_key
            .map(|sealed| sealed.to_bytes().to_vec()),
    )
    .bind(new.now)
    .bind(i64::from(new.from_generation))
    .execute(&mut *conn)
    .await?;
    sqlx::query("DELETE FROM library_grants WHERE generation < $1")
        .bind(i64::from(to))
        .execute(&mut *conn)
        .await?;
    for grant in new.grants {
        sqlx::query(
            "INSERT INTO library_grants (user_id, generation, public_key, sealed_library_key,
                                         granted_by, granted_at)
             SELECT id, $1, $2, $3, $4, $5 FROM users WHERE lower(username) = lower($6)",
        )
        .bind(i64::from(to))
        .bind(grant.public_key.as_bytes().as_slice())
        .bind(grant.sealed_library_key.to_bytes().as_slice())
        .bind(new.started_by)
        .bind(new.now)
        .bind(&grant.username)
        .execute(&mut *conn)
        .await?;
    }
    Ok(())
}

/// Up to `limit` videos still under `generation`, in a stable order.
#[tracing::instrument(level = "debug", skip_all, fields(generation = generation, limit = limit))]
pub async fn batch(
    conn: &mut AnyConnection,
    generation: u32,
    limit: u32,
) -> AppResult<Vec<(String, Vec<u8>)>> {
    Ok(sqlx::query_as(
        "SELECT id, wrapped_dek FROM videos WHERE key_generation = $1 ORDER BY id LIMIT $2",
    )
    .bind(i64::from(generation))
    .bind(i64::from(limit))
    .fetch_all(conn)
    .await?)
}

/// Re-wraps one video's key, only if it is still under `from` (another tab may have done it, or
/// the video may be gone): answers whether it changed.
#[tracing::instrument(level = "debug", skip_all, fields(video = video_id, from = from))]
pub async fn rewrap(
    conn: &mut AnyConnection,
    video_id: &str,
    from: u32,
    wrapped: &WrappedKey,
) -> AppResult<bool> {
    let done = sqlx::query(
        "UPDATE videos SET wrapped_dek = $1, key_generation = $2 WHERE id = $3 AND key_generation = $4",
    )
    .bind(wrapped.to_bytes().as_slice())
    .bind(i64::from(from + 1))
    .bind(video_id)
    .bind(i64::from(from))
    .execute(conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Marks the key change finished (once: answers false when another request already did) and
/// drops the previous key, the shared passphrase and the names it answered for.
#[tracing::instrument(level = "debug", skip_all, fields(generation = rotation.to_generation))]
pub async fn finish(conn: &mut AnyConnection, rotation: &Rotation, now: i64) -> AppResult<bool> {
    let done = sqlx::query(
        "UPDATE key_rotations SET finished_at = $1 WHERE to_generation = $2 AND finished_at IS NULL",
    )
    .bind(now)
    .bind(i64::from(rotation.to_generation))
    .execute(&mut *conn)
    .await?;
    if done.rows_affected() != 1 {
        return Ok(false);
    }
    let needed = needed_for(&mut *conn).await?;
    let still_needed: Vec<String> = needed
        .into_iter()
        .filter(|name| !rotation.covers.contains(name))
        .collect();
    sqlx::query(
        "UPDATE library SET previous_wrapped_key = NULL, rotation_needed_for = $1,
                shared_kdf_salt = NULL, shared_kdf_m_cost_kib = NULL, shared_kdf_t_cost = NULL,
                shared_kdf_p_cost = NULL, shared_wrapped_library_key = NULL, updated_at = $2
         WHERE id = 1",
    )
    .bind(json_of(&still_needed)?)
    .bind(now)
    .execute(conn)
    .await?;
    Ok(true)
}

/// A removed member still knows the current key: the next key change must answer for them.
/// Does nothing while the library has no key.
#[tracing::instrument(level = "debug", skip_all, fields(username = username))]
pub async fn note_removed(conn: &mut AnyConnection, username: &str) -> AppResult<()> {
    let Some(state) = key_state(&mut *conn).await? else {
        return Ok(());
    };
    let mut names = state.needed_for;
    if !names.iter().any(|name| name == username) {
        names.push(username.to_owned());
    }
    sqlx::query("UPDATE library SET rotation_needed_for = $1 WHERE id = 1")
        .bind(json_of(&names)?)
        .execute(conn)
        .await?;
    Ok(())
}
