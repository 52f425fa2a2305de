//! The `downloads` table. Every change names the state it expects, so a cancel, an expiry and a
//! finished transfer can never both win; the slot count is checked inside the same statement that
//! takes a slot, so D + 1 requests at once cannot all get one: on SQLite because one writer goes
//! at a time, on PostgreSQL because slot-taking statements hold an advisory lock (`lock_slots`).

use crate::db::Db;
use cloister_shared::api::downloads::{file_url, DownloadInfo, DownloadState};
use cloister_shared::crypto::random;
use cloister_shared::VideoId;

use crate::error::{AppError, AppResult};

/// The advisory lock of the download slots (any constant the rest of the code does not use).
const SLOTS_LOCK: i64 = 0x636c_6f69_736c_6f74;

/// On PostgreSQL, takes the slots' lock until the transaction ends: a statement that counts the
/// ready downloads and then takes a slot sees every slot taken before it. SQLite needs nothing.
async fn lock_slots(conn: &mut sqlx::AnyConnection) -> AppResult<()> {
    if conn.backend_name() == "PostgreSQL" {
        sqlx::query("SELECT pg_advisory_xact_lock($1)")
            .bind(SLOTS_LOCK)
            .execute(conn)
            .await?;
    }
    Ok(())
}

/// Finished downloads are listed for a day, then forgotten.
const KEEP_FINISHED_SECS: i64 = 24 * 3600;
/// A download still queued after this long expires, and its key is erased: the server holds a
/// member's key for a day at most, however long the server stays busy (docs/downloads.md).
pub const QUEUED_FOR_SECS: i64 = 24 * 3600;

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct DownloadRow {
    pub id: String,
    pub video_id: String,
    pub user_id: i64,
    pub state: String,
    pub wrapped_dek: Option<Vec<u8>>,
    pub size_bytes: i64,
    pub created_at: i64,
    pub expires_at: Option<i64>,
}

impl DownloadRow {
    pub fn state(&self) -> AppResult<DownloadState> {
        DownloadState::parse(&self.state)
            .ok_or_else(|| AppError::Internal(format!("download {} has a bad state", self.id)))
    }

    pub fn video(&self) -> AppResult<VideoId> {
        VideoId::parse(&self.video_id)
            .map_err(|_| AppError::Internal(format!("download {} has a bad video id", self.id)))
    }

    /// As the API shows it; `position` only matters while queued, `file_name` (see
    /// `super::name`) is empty once the key to read it is gone.
    pub fn info(&self, position: Option<u64>, file_name: String) -> AppResult<DownloadInfo> {
        let state = self.state()?;
        let ready = state == DownloadState::Ready;
        Ok(DownloadInfo {
            download_id: self.id.clone(),
            video_id: self.video()?,
            state,
            file_name,
            size_bytes: u64::try_from(self.size_bytes).unwrap_or(0),
            created_at: self.created_at,
            expires_at: self.expires_at.filter(|_| ready),
            url: ready.then(|| file_url(&self.id)),
            queue_position: position.filter(|_| state == DownloadState::Queued),
        })
    }
}

const COLUMNS: &str =
    "id, video_id, user_id, state, wrapped_dek, size_bytes, created_at, expires_at";

/// What a new download is made of.
pub struct NewDownload<'a> {
    pub video: &'a VideoId,
    pub user_id: i64,
    pub wrapped_dek: &'a [u8],
    pub size_bytes: u64,
}

/// 128 random bits, hex: unguessable, though the link also needs the requester's session.
pub fn new_id() -> AppResult<String> {
    let bytes: [u8; 16] =
        random::array().map_err(|_| AppError::Internal("no randomness for an id".to_owned()))?;
    Ok(hex::encode(bytes))
}

/// Downloads holding a slot: ready links, used or not. (Stale ones are expired first.)
#[tracing::instrument(level = "debug", skip_all)]
pub async fn holding_slots(db: &Db) -> AppResult<u64> {
    let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM downloads WHERE state = 'ready'")
        .fetch_one(db)
        .await?;
    Ok(u64::try_from(n).unwrap_or(0))
}

/// Makes the download `ready` if fewer than `slots` hold one and nobody is queued (the queue goes
/// first); `None` when it could not.
#[tracing::instrument(level = "debug", skip_all, fields(user = new.user_id, video = %new.video, slots = slots))]
pub async fn insert_ready(
    db: &Db,
    new: &NewDownload<'_>,
    now: i64,
    expires_at: i64,
    slots: u32,
) -> AppResult<Option<DownloadRow>> {
    let mut tx = db.begin().await?;
    let row = insert_ready_in(&mut tx, new, now, expires_at, slots).await?;
    tx.commit().await?;
    Ok(row)
}

/// `insert_ready` in the caller's transaction (which then holds the slots' lock until it ends).
#[tracing::instrument(level = "debug", skip_all, fields(user = new.user_id, video = %new.video, slots = slots))]
pub async fn insert_ready_in(
    conn: &mut sqlx::AnyConnection,
    new: &NewDownload<'_>,
    now: i64,
    expires_at: i64,
    slots: u32,
) -> AppResult<Option<DownloadRow>> {
    lock_slots(conn).await?;
    let row = sqlx::query_as(&format!(
        "INSERT INTO downloads (id, video_id, user_id, state, wrapped_dek, size_bytes,
                                created_at, ready_at, expires_at)
         SELECT $1, $2, $3, 'ready', $4, $5, $6, $7, $8
         WHERE (SELECT COUNT(*) FROM downloads WHERE state = 'ready') < $9
           AND NOT EXISTS (SELECT 1 FROM downloads WHERE state = 'queued')
         RETURNING {COLUMNS}"
    ))
    .bind(new_id()?)
    .bind(new.video.to_string())
    .bind(new.user_id)
    .bind(new.wrapped_dek)
    .bind(i64::try_from(new.size_bytes).unwrap_or(i64::MAX))
    .bind(now)
    .bind(now)
    .bind(expires_at)
    .bind(i64::from(slots))
    .fetch_optional(&mut *conn)
    .await?;
    Ok(row)
}

#[tracing::instrument(level = "debug", skip_all, fields(user = new.user_id, video = %new.video))]
pub async fn insert_queued(db: &Db, new: &NewDownload<'_>, now: i64) -> AppResult<DownloadRow> {
    let row = sqlx::query_as(&format!(
        "INSERT INTO downloads (id, video_id, user_id, state, wrapped_dek, size_bytes, created_at)
         VALUES ($1, $2, $3, 'queued', $4, $5, $6)
         RETURNING {COLUMNS}"
    ))
    .bind(new_id()?)
    .bind(new.video.to_string())
    .bind(new.user_id)
    .bind(new.wrapped_dek)
    .bind(i64::try_from(new.size_bytes).unwrap_or(i64::MAX))
    .bind(now)
    .fetch_one(db)
    .await?;
    Ok(row)
}

/// The member's queued or ready download of `video`, if any: asking twice gives the same one.
#[tracing::instrument(level = "debug", skip_all, fields(user = user_id, video = %video))]
pub async fn unfinished(db: &Db, user_id: i64, video: &VideoId) -> AppResult<Option<DownloadRow>> {
    Ok(sqlx::query_as(&format!(
        "SELECT {COLUMNS} FROM downloads
         WHERE user_id = $1 AND video_id = $2 AND state IN ('queued', 'ready')
         ORDER BY created_at DESC LIMIT 1"
    ))
    .bind(user_id)
    .bind(video.to_string())
    .fetch_optional(db)
    .await?)
}

#[tracing::instrument(level = "debug", skip_all, fields(user = user_id))]
pub async fn unfinished_count(db: &Db, user_id: i64) -> AppResult<u64> {
    let n: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM downloads WHERE user_id = $1 AND state IN ('queued', 'ready')",
    )
    .bind(user_id)
    .fetch_one(db)
    .await?;
    Ok(u64::try_from(n).unwrap_or(0))
}

/// A download of `user_id`'s. Another member's id is "no such download", like a wrong one.
#[tracing::instrument(level = "debug", skip_all, fields(download = id, user = user_id))]
pub async fn one(db: &Db, id: &str, user_id: i64) -> AppResult<DownloadRow> {
    sqlx::query_as(&format!(
        "SELECT {COLUMNS} FROM downloads WHERE id = $1 AND user_id = $2"
    ))
    .bind(id)
    .bind(user_id)
    .fetch_optional(db)
    .await?
    .ok_or_else(|| AppError::NotFound("No such download.".to_owned()))
}

/// The member's unfinished downloads and those finished in the last day, newest first.
#[tracing::instrument(level = "debug", skip_all, fields(user = user_id))]
pub async fn list(db: &Db, user_id: i64, now: i64) -> AppResult<Vec<DownloadRow>> {
    Ok(sqlx::query_as(&format!(
        "SELECT {COLUMNS} FROM downloads
         WHERE user_id = $1 AND (state IN ('queued', 'ready') OR created_at > $2)
         ORDER BY created_at DESC, seq DESC LIMIT 100"
    ))
    .bind(user_id)
    .bind(now - KEEP_FINISHED_SECS)
    .fetch_all(db)
    .await?)
}

/// 1 = next to get a slot.
#[tracing::instrument(level = "debug", skip_all, fields(download = %row.id))]
pub async fn queue_position(db: &Db, row: &DownloadRow) -> AppResult<u64> {
    let ahead: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM downloads WHERE state = 'queued'
           AND (created_at, seq) < ($1, (SELECT seq FROM downloads WHERE id = $2))",
    )
    .bind(row.created_at)
    .bind(&row.id)
    .fetch_one(db)
    .await?;
    Ok(u64::try_from(ahead).unwrap_or(0) + 1)
}

/// Ends a queued or ready download in `to` (done, cancelled, expired) and forgets its key.
/// False if it had already ended.
async fn end(db: &Db, id: &str, to: DownloadState, extra: &str, now: i64) -> AppResult<bool> {
    let done = sqlx::query(&format!(
        "UPDATE downloads SET state = $1, wrapped_dek = NULL, finished_at = $2, expires_at = NULL
         WHERE id = $3 AND {extra}"
    ))
    .bind(to.as_str())
    .bind(now)
    .bind(id)
    .execute(db)
    .await?;
    Ok(done.rows_affected() == 1)
}

#[tracing::instrument(level = "debug", skip_all, fields(download = id))]
pub async fn cancel(db: &Db, id: &str, now: i64) -> AppResult<bool> {
    end(
        db,
        id,
        DownloadState::Cancelled,
        "state IN ('queued', 'ready')",
        now,
    )
    .await
}

/// The whole file went out once: the link is used up.
#[tracing::instrument(level = "debug", skip_all, fields(download = id))]
pub async fn finish(db: &Db, id: &str, now: i64) -> AppResult<bool> {
    end(db, id, DownloadState::Done, "state = 'ready'", now).await
}

/// A transfer stopped short: the link keeps working until `until`, so the rest can be resumed.
#[tracing::instrument(level = "debug", skip_all, fields(download = id))]
pub async fn extend(db: &Db, id: &str, until: i64) -> AppResult<()> {
    sqlx::query(
        "UPDATE downloads
         SET expires_at = CASE WHEN COALESCE(expires_at, 0) > $1 THEN expires_at ELSE $1 END
         WHERE id = $2 AND state = 'ready'",
    )
    .bind(until)
    .bind(id)
    .execute(db)
    .await?;
    Ok(())
}

/// Expires ready links past their time that no transfer is using, and downloads queued for
/// longer than `QUEUED_FOR_SECS`, erasing their keys; returns them as they were (key included,
/// to name them to their owners).
#[tracing::instrument(level = "debug", skip_all)]
pub async fn expire_stale(
    db: &Db,
    now: i64,
    in_use: impl Fn(&str) -> bool,
) -> AppResult<Vec<DownloadRow>> {
    let queued_before = now - QUEUED_FOR_SECS;
    let stale: Vec<DownloadRow> = sqlx::query_as(&format!(
        "SELECT {COLUMNS} FROM downloads
         WHERE (state = 'ready' AND expires_at <= $1) OR (state = 'queued' AND created_at <= $2)"
    ))
    .bind(now)
    .bind(queued_before)
    .fetch_all(db)
    .await?;
    let mut expired = Vec::new();
    for row in stale {
        if in_use(&row.id) {
            continue;
        }
        // Only if nothing moved it on meanwhile (a transfer that just stopped extends it; a
        // queued one may just have been given a slot).
        let done = sqlx::query(
            "UPDATE downloads
             SET state = 'expired', wrapped_dek = NULL, finished_at = $1, expires_at = NULL
             WHERE id = $2 AND ((state = 'ready' AND expires_at <= $3)
                               OR (state = 'queued' AND created_at <= $4))",
        )
        .bind(now)
        .bind(&row.id)
        .bind(now)
        .bind(queued_before)
        .execute(db)
        .await?;
        if done.rows_affected() == 1 {
            expired.push(row);
        }
    }
    Ok(expired)
}

/// Whether any download waits for a slot.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn any_queued(db: &Db) -> AppResult<bool> {
    let queued: Option<i64> =
        sqlx::query_scalar("SELECT 1 FROM downloads WHERE state = 'queued' LIMIT 1")
            .fetch_optional(db)
            .await?;
    Ok(queued.is_some())
}

/// The sealed original as recorded: its stream header and plaintext size.
#[tracing::instrument(level = "debug", skip_all, fields(video = %video))]
pub async fn original_record(db: &Db, video: &VideoId) -> AppResult<(Vec<u8>, u64)> {
    let (header, size): (Vec<u8>, i64) =
        sqlx::query_as("SELECT stream_header, size_bytes FROM videos WHERE id = $1")
            .bind(video.to_string())
            .fetch_one(db)
            .await?;
    Ok((header, u64::try_from(size).unwrap_or(0)))
}

/// The video's name and title, sealed under its DEK: the server reads them only while it holds
/// the key for a download.
#[tracing::instrument(level = "debug", skip_all, fields(video = %video))]
pub async fn sealed_names(db: &Db, video: &VideoId) -> AppResult<SealedNames> {
    let (file_name, title): (Option<Vec<u8>>, Vec<u8>) =
        sqlx::query_as("SELECT file_name_sealed, title_sealed FROM videos WHERE id = $1")
            .bind(video.to_string())
            .fetch_one(db)
            .await?;
    Ok(SealedNames { file_name, title })
}

pub struct SealedNames {
    /// `Purpose::FileName`; absent for videos uploaded before it was recorded.
    pub file_name: Option<Vec<u8>>,
    /// `Purpose::Title`.
    pub title: Vec<u8>,
}

/// Gives the longest-queued download a slot if one is free; returns it, now ready.
#[tracing::instrument(level = "debug", skip_all, fields(slots = slots))]
pub async fn promote_next(
    db: &Db,
    now: i64,
    expires_at: i64,
    slots: u32,
) -> AppResult<Option<DownloadRow>> {
    let mut tx = db.begin().await?;
    lock_slots(&mut tx).await?;
    let row = sqlx::query_as(&format!(
        "UPDATE downloads SET state = 'ready', ready_at = $1, expires_at = $2
         WHERE id = (SELECT id FROM downloads WHERE state = 'queued'
                     ORDER BY created_at, seq LIMIT 1)
           AND (SELECT COUNT(*) FROM downloads WHERE state = 'ready') < $3
         RETURNING {COLUMNS}"
    ))
    .bind(now)
    .bind(expires_at)
    .bind(i64::from(slots))
    .fetch_optional(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(row)
}

/// Forgets downloads that ended more than a day ago.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn sweep_finished(db: &Db, now: i64) -> AppResult<u64> {
    let done = sqlx::query(
        "DELETE FROM downloads WHERE state NOT IN ('queued', 'ready') AND finished_at < $1",
    )
    .bind(now - KEEP_FINISHED_SECS)
    .execute(db)
    .await?;
    Ok(done.rows_affected())
}
