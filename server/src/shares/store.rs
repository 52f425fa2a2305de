//! The `shares` table: every SQL statement about share links.

use crate::db::{Db, Flag};
use cloister_shared::api::shares::{ShareId, ShareInfo};
use cloister_shared::crypto::keys::WrappedKey;
use cloister_shared::VideoId;

use crate::error::{AppError, AppResult};

/// The video a share would be made for: who owns it and where it is in its life.
#[derive(Debug, sqlx::FromRow)]
pub struct VideoToShare {
    pub owner_id: i64,
    pub status: String,
}

#[tracing::instrument(level = "debug", skip_all, fields(video = %video))]
pub async fn video_to_share(db: &Db, video: &VideoId) -> AppResult<Option<VideoToShare>> {
    Ok(
        sqlx::query_as("SELECT owner_id, status FROM videos WHERE id = $1")
            .bind(video.to_string())
            .fetch_optional(db)
            .await?,
    )
}

/// A new share row.
pub struct NewShare<'a> {
    pub id: &'a ShareId,
    pub video: &'a VideoId,
    pub created_by: i64,
    pub wrapped_key: &'a WrappedKey,
    pub expires_at: Option<i64>,
    pub allow_download: bool,
    pub now: i64,
}

/// Inserts the share; `false` when a share with this id already exists.
#[tracing::instrument(level = "debug", skip_all, fields(share = %share.id, video = %share.video, by = share.created_by))]
pub async fn insert(db: &Db, share: &NewShare<'_>) -> AppResult<bool> {
    let done = sqlx::query(
        "INSERT INTO shares (id, video_id, created_by, wrapped_key, expires_at, allow_download,
                             created_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7)
         ON CONFLICT (id) DO NOTHING",
    )
    .bind(share.id.to_string())
    .bind(share.video.to_string())
    .bind(share.created_by)
    .bind(share.wrapped_key.to_bytes().to_vec())
    .bind(share.expires_at)
    .bind(i64::from(share.allow_download))
    .bind(share.now)
    .execute(db)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Which shares a listing holds.
#[derive(Debug, Clone, Copy)]
pub enum Listing<'a> {
    /// Every share (an admin).
    All,
    /// Shares the member made, or of videos the member owns.
    OfMember(i64),
    /// One video's shares.
    OfVideo(&'a VideoId),
}

#[derive(sqlx::FromRow)]
struct InfoRow {
    id: String,
    video_id: String,
    created_by: String,
    created_at: i64,
    expires_at: Option<i64>,
    allow_download: Flag,
    view_count: i64,
    revoked_at: Option<i64>,
    title_sealed: Vec<u8>,
    wrapped_dek: Vec<u8>,
}

const INFO_SELECT: &str = "SELECT s.id, s.video_id, u.username AS created_by, s.created_at,
        s.expires_at, s.allow_download, s.view_count, s.revoked_at, v.title_sealed, v.wrapped_dek
     FROM shares s JOIN users u ON u.id = s.created_by JOIN videos v ON v.id = s.video_id";

fn info(row: InfoRow) -> AppResult<ShareInfo> {
    let bad = |what: &str| AppError::Internal(format!("share {} has a bad {what}", row.id));
    Ok(ShareInfo {
        share_id: ShareId::parse(&row.id).map_err(|_| bad("id"))?,
        video_id: VideoId::parse(&row.video_id).map_err(|_| bad("video id"))?,
        created_at: row.created_at,
        expires_at: row.expires_at,
        allow_download: row.allow_download.0,
        view_count: u64::try_from(row.view_count).unwrap_or(0),
        revoked_at: row.revoked_at,
        title_sealed: hex::encode(&row.title_sealed),
        wrapped_dek: WrappedKey::from_bytes(&row.wrapped_dek).map_err(|_| bad("wrapped DEK"))?,
        created_by: row.created_by,
    })
}

/// Newest first.
#[tracing::instrument(level = "debug", skip_all, fields(listing = ?listing))]
pub async fn list(db: &Db, listing: Listing<'_>) -> AppResult<Vec<ShareInfo>> {
    const ORDER: &str = "ORDER BY s.created_at DESC, s.id DESC";
    let rows: Vec<InfoRow> = match listing {
        Listing::All => {
            sqlx::query_as(&format!("{INFO_SELECT} {ORDER}"))
                .fetch_all(db)
                .await?
        }
        Listing::OfMember(user) => {
            sqlx::query_as(&format!(
                "{INFO_SELECT} WHERE s.created_by = $1 OR v.owner_id = $2 {ORDER}"
            ))
            .bind(user)
            .bind(user)
            .fetch_all(db)
            .await?
        }
        Listing::OfVideo(video) => {
            sqlx::query_as(&format!("{INFO_SELECT} WHERE s.video_id = $1 {ORDER}"))
                .bind(video.to_string())
                .fetch_all(db)
                .await?
        }
    };
    rows.into_iter().map(info).collect()
}

/// One share, with who may manage it.
pub struct ManagedShare {
    pub info: ShareInfo,
    pub created_by_id: i64,
    pub video_owner_id: i64,
}

#[tracing::instrument(level = "debug", skip_all, fields(share = %share))]
pub async fn one(db: &Db, share: &ShareId) -> AppResult<Option<ManagedShare>> {
    let ids: Option<(i64, i64)> = sqlx::query_as(
        "SELECT s.created_by, v.owner_id FROM shares s JOIN videos v ON v.id = s.video_id
         WHERE s.id = $1",
    )
    .bind(share.to_string())
    .fetch_optional(db)
    .await?;
    let Some((created_by_id, video_owner_id)) = ids else {
        return Ok(None);
    };
    let row: Option<InfoRow> = sqlx::query_as(&format!("{INFO_SELECT} WHERE s.id = $1"))
        .bind(share.to_string())
        .fetch_optional(db)
        .await?;
    row.map(info).transpose().map(|found| {
        found.map(|info| ManagedShare {
            info,
            created_by_id,
            video_owner_id,
        })
    })
}

/// Withdraws the share at `now`; one already withdrawn keeps its first time.
#[tracing::instrument(level = "debug", skip_all, fields(share = %share))]
pub async fn revoke(db: &Db, share: &ShareId, now: i64) -> AppResult<()> {
    sqlx::query("UPDATE shares SET revoked_at = COALESCE(revoked_at, $1) WHERE id = $2")
        .bind(now)
        .bind(share.to_string())
        .execute(db)
        .await?;
    Ok(())
}

/// A share that works now, with what its page needs.
#[derive(Debug, sqlx::FromRow)]
pub struct LiveShare {
    pub video_id: String,
    pub wrapped_key: Vec<u8>,
    pub allow_download: Flag,
    pub title_sealed: Vec<u8>,
    pub duration_ms: Option<i64>,
    pub size_bytes: i64,
    pub file_name_sealed: Option<Vec<u8>>,
}

/// THE lookup behind every public share route (docs/api.md, "Share links"): the share exists, is
/// not withdrawn, has not expired, and its video is there to be seen. Any other answer is `None`,
/// which every route turns into the same 410, so ids cannot be probed.
#[tracing::instrument(level = "debug", skip_all, fields(share = %share))]
pub async fn live_share(db: &Db, share: &ShareId, now: i64) -> AppResult<Option<LiveShare>> {
    Ok(sqlx::query_as(
        "SELECT s.video_id, s.wrapped_key, s.allow_download, v.title_sealed, v.duration_ms,
                v.size_bytes, v.file_name_sealed
         FROM shares s JOIN videos v ON v.id = s.video_id
         WHERE s.id = $1 AND s.revoked_at IS NULL AND (s.expires_at IS NULL OR s.expires_at > $2)
           AND v.status <> 'uploading' AND v.trashed_at IS NULL",
    )
    .bind(share.to_string())
    .bind(now)
    .fetch_optional(db)
    .await?)
}

/// One more opening of the share page; `false` when the share does not work now.
#[tracing::instrument(level = "debug", skip_all, fields(share = %share))]
pub async fn count_view(db: &Db, share: &ShareId, now: i64) -> AppResult<bool> {
    let done = sqlx::query(
        "UPDATE shares SET view_count = view_count + 1
         WHERE id = $1 AND revoked_at IS NULL AND (expires_at IS NULL OR expires_at > $2)",
    )
    .bind(share.to_string())
    .bind(now)
    .execute(db)
    .await?;
    Ok(done.rows_affected() == 1)
}
