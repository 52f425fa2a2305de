//! `GET /api/videos`: newest first by `(created_at, id)`, cursor-paged. Everyone in the group sees
//! every video except other members' unfinished uploads.

use cloister_shared::api::videos::{DEFAULT_PAGE_LIMIT, MAX_PAGE_LIMIT};
use cloister_shared::api::{VideoPage, VideoStatus, VideoSummary};
use cloister_shared::{VideoId, WrappedKey};
use sqlx::SqlitePool;

use crate::error::{AppError, AppResult};

/// Where a page ends: the last video's `(created_at, id)`, written `<created_at>.<id>`. Opaque to
/// clients; parsed strictly here.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cursor {
    pub created_at: i64,
    pub id: VideoId,
}

impl Cursor {
    pub fn encode(&self) -> String {
        format!("{}.{}", self.created_at, self.id)
    }

    pub fn parse(raw: &str) -> AppResult<Self> {
        let bad =
            || AppError::BadRequest("That cursor is not one this server gave out.".to_owned());
        let (at, id) = raw.split_once('.').ok_or_else(bad)?;
        Ok(Self {
            created_at: at.parse().map_err(|_| bad())?,
            id: VideoId::parse(id).map_err(|_| bad())?,
        })
    }
}

type Row = (String, String, i64, i64, Vec<u8>, Vec<u8>, String);

fn summary((id, status, size, created_at, title, wrapped, owner): Row) -> AppResult<VideoSummary> {
    let corrupt = |what: &str| AppError::Internal(format!("video {id} has a bad {what}"));
    Ok(VideoSummary {
        video_id: VideoId::parse(&id).map_err(|_| corrupt("id"))?,
        status: VideoStatus::parse(&status).ok_or_else(|| corrupt("status"))?,
        size_bytes: u64::try_from(size).map_err(|_| corrupt("size"))?,
        created_at,
        title_sealed: hex::encode(&title),
        wrapped_dek: WrappedKey::from_bytes(&wrapped).map_err(|_| corrupt("wrapped DEK"))?,
        owner,
    })
}

/// One page for `viewer_id`. `limit` defaults to 50 and is capped at 200.
pub async fn page(
    pool: &SqlitePool,
    viewer_id: i64,
    limit: Option<u32>,
    cursor: Option<&str>,
) -> AppResult<VideoPage> {
    let limit = limit.unwrap_or(DEFAULT_PAGE_LIMIT).clamp(1, MAX_PAGE_LIMIT);
    let cursor = cursor.map(Cursor::parse).transpose()?;
    // Without a cursor, start above every real row.
    let (after_at, after_id) = cursor.map_or((i64::MAX, "g".to_owned()), |c| {
        (c.created_at, c.id.to_string())
    });
    let rows: Vec<Row> = sqlx::query_as(
        "SELECT v.id, v.status, v.size_bytes, v.created_at, v.title_sealed, v.wrapped_dek,
                u.username
         FROM videos v JOIN users u ON u.id = v.owner_id
         WHERE (v.status <> 'uploading' OR v.owner_id = ?)
           AND (v.created_at < ? OR (v.created_at = ? AND v.id < ?))
         ORDER BY v.created_at DESC, v.id DESC
         LIMIT ?",
    )
    .bind(viewer_id)
    .bind(after_at)
    .bind(after_at)
    .bind(after_id)
    .bind(i64::from(limit) + 1)
    .fetch_all(pool)
    .await?;
    let more = rows.len() > limit as usize;
    let videos = rows
        .into_iter()
        .take(limit as usize)
        .map(summary)
        .collect::<AppResult<Vec<_>>>()?;
    let next_cursor = more.then(|| videos.last()).flatten().map(|v| {
        Cursor {
            created_at: v.created_at,
            id: v.video_id,
        }
        .encode()
    });
    Ok(VideoPage {
        videos,
        next_cursor,
    })
}

/// One video, as the listing shows it; the same visibility rule as `page`.
pub async fn one(pool: &SqlitePool, viewer_id: i64, video: &VideoId) -> AppResult<VideoSummary> {
    let row: Option<Row> = sqlx::query_as(
        "SELECT v.id, v.status, v.size_bytes, v.created_at, v.title_sealed, v.wrapped_dek,
                u.username
         FROM videos v JOIN users u ON u.id = v.owner_id
         WHERE v.id = ? AND (v.status <> 'uploading' OR v.owner_id = ?)",
    )
    .bind(video.to_string())
    .bind(viewer_id)
    .fetch_optional(pool)
    .await?;
    row.map(summary)
        .unwrap_or_else(|| Err(AppError::NotFound("No such video.".to_owned())))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_round_trip_and_junk_is_refused() {
        let c = Cursor {
            created_at: 1_700_000_000,
            id: VideoId::from_bytes([0xab; 16]),
        };
        assert_eq!(Cursor::parse(&c.encode()).expect("parse"), c);
        for junk in [
            "",
            "1",
            "x.abab",
            "1.ABABABABABABABABABABABABABABABAB",
            "1.../etc",
        ] {
            assert!(Cursor::parse(junk).is_err(), "{junk}");
        }
    }
}
