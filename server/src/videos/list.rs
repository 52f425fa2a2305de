//! `GET /api/videos`: newest first by `(created_at, id)`, cursor-paged. Everyone in the group sees
//! every video except other members' unfinished uploads.
//!
//! Paging is stable while videos are added. The order is on a unique key that never changes, so
//! every video present throughout lands on exactly one page: no duplicates, no gaps. And a listing
//! is a snapshot: the first page notes the highest sequence number, and later pages leave out rows above it.
//! SQLite numbers a new row one above the highest, so a video added meanwhile stays out even when
//! it was created in the very second a page ended in, with an id that sorts below that page's
//! last one (a fresh listing shows it). Only if the newest row is deleted (a cancelled upload) can
//! the next one reuse its sequence number and show on a later page: once, still without a gap. Another
//! member's upload that completes meanwhile was there all along, unseen: it shows where its
//! creation time puts it.

use crate::db::Db;
use cloister_shared::api::videos::{DEFAULT_PAGE_LIMIT, MAX_PAGE_LIMIT};
use cloister_shared::api::{VideoPage, VideoStatus, VideoSummary};
use cloister_shared::{VideoId, WrappedKey};

use crate::error::{AppError, AppResult};

/// Where a page ends, and the listing's snapshot: the last video's `(created_at, id)` and the
/// highest sequence number when the first page was read, written `<created_at>.<id>.<snapshot>`. Opaque to
/// clients; parsed strictly here.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cursor {
    pub created_at: i64,
    pub id: VideoId,
    pub snapshot: i64,
}

impl Cursor {
    pub fn encode(&self) -> String {
        format!("{}.{}.{}", self.created_at, self.id, self.snapshot)
    }

    pub fn parse(raw: &str) -> AppResult<Self> {
        let bad =
            || AppError::BadRequest("That cursor is not one this server gave out.".to_owned());
        let mut parts = raw.split('.');
        let (Some(at), Some(id), snapshot, None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(bad());
        };
        Ok(Self {
            created_at: at.parse().map_err(|_| bad())?,
            id: VideoId::parse(id).map_err(|_| bad())?,
            // Cursors from before snapshots (two parts) still page, without one.
            snapshot: snapshot.map_or(Ok(i64::MAX), |s| s.parse().map_err(|_| bad()))?,
        })
    }
}

use super::store::ListRow as Row;

/// The columns every listing shares, checked: a bad value is a corrupt row (500), and what
/// describes the playable video (rendition, duration, thumbnail) is given only for a `ready` one.
pub(crate) struct CheckedRow {
    pub video_id: VideoId,
    pub status: VideoStatus,
    pub size_bytes: u64,
    pub wrapped_dek: WrappedKey,
    pub duration_ms: Option<u64>,
    pub rendition: Option<String>,
    pub has_thumb: bool,
}

/// Checks the shared columns of video `id`'s row (see [`CheckedRow`]).
pub(crate) struct RawRow<'a> {
    pub id: &'a str,
    pub status: &'a str,
    pub size_bytes: i64,
    pub wrapped_dek: &'a [u8],
    pub duration_ms: Option<i64>,
    pub rendition: Option<String>,
    pub has_thumb_file: bool,
}

impl RawRow<'_> {
    pub fn check(self) -> AppResult<CheckedRow> {
        let id = self.id;
        let corrupt = |what: &str| AppError::Internal(format!("video {id} has a bad {what}"));
        let status = VideoStatus::parse(self.status).ok_or_else(|| corrupt("status"))?;
        let ready = status == VideoStatus::Ready;
        let rendition = match self.rendition.filter(|_| ready) {
            Some(r) if cloister_shared::manifest::is_rendition_id(&r) => Some(r),
            Some(_) => return Err(corrupt("rendition")),
            None => None,
        };
        Ok(CheckedRow {
            video_id: VideoId::parse(id).map_err(|_| corrupt("id"))?,
            status,
            size_bytes: u64::try_from(self.size_bytes).map_err(|_| corrupt("size"))?,
            wrapped_dek: WrappedKey::from_bytes(self.wrapped_dek)
                .map_err(|_| corrupt("wrapped DEK"))?,
            duration_ms: self
                .duration_ms
                .filter(|_| ready)
                .map(|ms| u64::try_from(ms).map_err(|_| corrupt("duration")))
                .transpose()?,
            rendition,
            has_thumb: ready && self.has_thumb_file,
        })
    }
}

fn summary(row: Row) -> AppResult<VideoSummary> {
    let checked = RawRow {
        id: &row.id,
        status: &row.status,
        size_bytes: row.size_bytes,
        wrapped_dek: &row.wrapped_dek,
        duration_ms: row.duration_ms,
        rendition: row.rendition,
        has_thumb_file: row.thumb_path.is_some(),
    }
    .check()?;
    Ok(VideoSummary {
        video_id: checked.video_id,
        status: checked.status,
        size_bytes: checked.size_bytes,
        created_at: row.created_at,
        title_sealed: hex::encode(&row.title_sealed),
        wrapped_dek: checked.wrapped_dek,
        owner: row.owner,
        duration_ms: checked.duration_ms,
        has_thumb: checked.has_thumb,
        rendition: checked.rendition,
        description_sealed: None,
        file_name_sealed: None,
    })
}

/// One page for `viewer_id`. `limit` defaults to 50 and is capped at 200.
pub async fn page(
    pool: &Db,
    viewer_id: i64,
    limit: Option<u32>,
    cursor: Option<&str>,
) -> AppResult<VideoPage> {
    let limit = limit.unwrap_or(DEFAULT_PAGE_LIMIT).clamp(1, MAX_PAGE_LIMIT);
    let cursor = cursor.map(Cursor::parse).transpose()?;
    let snapshot = match cursor {
        Some(c) => c.snapshot,
        None => super::store::last_seq(pool).await?,
    };
    // Without a cursor, start above every real row.
    let (after_at, after_id) = cursor.map_or((i64::MAX, "g".to_owned()), |c| {
        (c.created_at, c.id.to_string())
    });
    let rows = super::store::page_rows(
        pool,
        viewer_id,
        (after_at, &after_id),
        snapshot,
        i64::from(limit) + 1,
    )
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
            snapshot,
        }
        .encode()
    });
    Ok(VideoPage {
        videos,
        next_cursor,
    })
}

/// One video, as the listing shows it; the same visibility rule as `page`.
pub async fn one(pool: &Db, viewer_id: i64, video: &VideoId) -> AppResult<VideoSummary> {
    let row = super::store::list_row(pool, viewer_id, &video.to_string()).await?;
    let mut video_summary = row
        .map(summary)
        .unwrap_or_else(|| Err(AppError::NotFound("No such video.".to_owned())))?;
    // The details only the video's own view needs.
    let (description, file_name) = super::store::details(pool, &video.to_string()).await?;
    video_summary.description_sealed = description.map(hex::encode);
    video_summary.file_name_sealed = file_name.map(hex::encode);
    Ok(video_summary)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_round_trip_and_junk_is_refused() {
        let c = Cursor {
            created_at: 1_700_000_000,
            id: VideoId::from_bytes([0xab; 16]),
            snapshot: 42,
        };
        assert_eq!(Cursor::parse(&c.encode()).expect("parse"), c);
        let old = Cursor::parse(&format!("1700000000.{}", c.id)).expect("two parts");
        assert_eq!(old.snapshot, i64::MAX);
        for junk in [
            "",
            "1",
            "x.abab",
            "1.ABABABABABABABABABABABABABABABAB",
            "1.../etc",
            &format!("1.{}.x", c.id),
            &format!("1.{}.2.3", c.id),
        ] {
            assert!(Cursor::parse(junk).is_err(), "{junk}");
        }
    }
}
