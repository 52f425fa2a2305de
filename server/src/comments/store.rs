//! The `comments` table: page, add and delete, each for a viewer who must be able to see the
//! video (the rule of `videos::list`: everyone sees every video except other members' unfinished
//! uploads; a video they cannot see is "not found", its existence not revealed).
//!
//! Paging is oldest first on `(created_at, id)`, a unique key that never changes, so each comment
//! that exists throughout a listing lands on exactly one page: no duplicates, no gaps. A listing
//! is also a snapshot: the first page notes the newest sequence number and later pages leave out comments
//! added since. Without that, a comment posted in the same second as the end of a page, with an id
//! that sorts below it, would be missed while later ones were shown; with it, a client that shows
//! its own new comment at once never gets it a second time from a later page.

use crate::db::Db;
use cloister_shared::api::comments::{
    DEFAULT_COMMENT_PAGE, MAX_COMMENT_CHARS, MAX_COMMENT_PAGE, MAX_SEALED_COMMENT_BYTES,
};
use cloister_shared::api::{CommentInfo, CommentPage, NewComment, Role};
use cloister_shared::crypto::stream::{HEADER_LEN, TAG_LEN};
use cloister_shared::{CommentId, StreamHeader, VideoId};

use crate::accounts::{unix_now, User};
use crate::error::{AppError, AppResult};

/// Where a page ends, and the listing's snapshot: the last comment's `(created_at, id)` and the
/// highest sequence number when the first page was read, written `<created_at>.<id>.<snapshot>`. Opaque to
/// clients; only the exact spelling this server writes parses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cursor {
    pub created_at: i64,
    pub id: CommentId,
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
        let (Some(at), Some(id), Some(snapshot), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(bad());
        };
        let cursor = Self {
            created_at: at.parse().map_err(|_| bad())?,
            id: CommentId::parse(id).map_err(|_| bad())?,
            snapshot: snapshot.parse().map_err(|_| bad())?,
        };
        // One spelling per cursor: no sign, no leading zeros, nothing negative.
        if cursor.created_at < 0 || cursor.snapshot < 0 || cursor.encode() != raw {
            return Err(bad());
        }
        Ok(cursor)
    }
}

/// Checks what the server can see of a sealed comment without the key: lowercase hex, no longer
/// than the longest comment sealed, a sealed-stream header and at least one tag, and no final
/// piece too short to hold its tag. Answers the bytes to store.
pub fn check_body(raw: &str) -> AppResult<Vec<u8>> {
    if raw.len() > 2 * MAX_SEALED_COMMENT_BYTES {
        return Err(AppError::PayloadTooLarge(format!(
            "This comment is too long: a comment may have at most {MAX_COMMENT_CHARS} characters \
             (sealed, at most {MAX_SEALED_COMMENT_BYTES} bytes; this one is {} bytes).",
            raw.len() / 2
        )));
    }
    let not_hex = || AppError::BadRequest("body_sealed must be lowercase hex.".to_owned());
    if !raw.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')) {
        return Err(not_hex());
    }
    // Also refuses an odd number of digits.
    let bytes = hex::decode(raw).map_err(|_| not_hex())?;
    if bytes.len() < HEADER_LEN + TAG_LEN {
        return Err(AppError::BadRequest(format!(
            "body_sealed is too short to be a sealed comment: at least {} bytes (a {HEADER_LEN}-byte \
             header and a {TAG_LEN}-byte tag); this one is {} bytes.",
            HEADER_LEN + TAG_LEN,
            bytes.len()
        )));
    }
    let header = StreamHeader::parse(&bytes).map_err(|_| {
        AppError::BadRequest(
            "body_sealed is not a sealed stream: its header is not valid.".to_owned(),
        )
    })?;
    let piece = header.chunk_size as usize + TAG_LEN;
    let tail = (bytes.len() - HEADER_LEN) % piece;
    if tail != 0 && tail < TAG_LEN {
        return Err(AppError::BadRequest(
            "body_sealed is not a sealed stream: its last chunk is shorter than a tag.".to_owned(),
        ));
    }
    Ok(bytes)
}

fn no_such_video() -> AppError {
    AppError::NotFound("No such video.".to_owned())
}

fn no_such_comment() -> AppError {
    AppError::NotFound("No such comment on this video.".to_owned())
}

fn may_delete(viewer: &User, author_id: i64) -> bool {
    author_id == viewer.id || viewer.role == Role::Admin
}

/// 404 unless `viewer_id` may see `video` (a trashed video's comments are out of reach until it is
/// restored).
#[tracing::instrument(level = "debug", skip_all, fields(user = viewer_id, video = %video))]
pub async fn ensure_visible(pool: &Db, viewer_id: i64, video: &VideoId) -> AppResult<()> {
    let visible: Option<i64> = sqlx::query_scalar(
        "SELECT 1 FROM videos
         WHERE id = $1 AND (status <> 'uploading' OR owner_id = $2) AND trashed_at IS NULL",
    )
    .bind(video.to_string())
    .bind(viewer_id)
    .fetch_optional(pool)
    .await?;
    visible.map(|_| ()).ok_or_else(no_such_video)
}

type Row = (String, i64, String, i64, Vec<u8>);

fn info(video: &VideoId, viewer: &User, row: Row) -> AppResult<CommentInfo> {
    let (id, author_id, author, created_at, body) = row;
    Ok(CommentInfo {
        comment_id: CommentId::parse(&id)
            .map_err(|_| AppError::Internal(format!("comment {id} has a bad id")))?,
        video_id: *video,
        author,
        created_at,
        body_sealed: hex::encode(body),
        can_delete: may_delete(viewer, author_id),
    })
}

/// One page of `video`'s comments, oldest first, as `viewer` sees them. `limit` defaults to 20 and
/// is held to 1..=100.
#[tracing::instrument(level = "debug", skip_all, fields(user = viewer.id, video = %video, limit = limit))]
pub async fn page(
    pool: &Db,
    viewer: &User,
    video: &VideoId,
    limit: Option<u32>,
    cursor: Option<&str>,
) -> AppResult<CommentPage> {
    let limit = limit
        .unwrap_or(DEFAULT_COMMENT_PAGE)
        .clamp(1, MAX_COMMENT_PAGE);
    let cursor = cursor.map(Cursor::parse).transpose()?;
    ensure_visible(pool, viewer.id, video).await?;
    // The snapshot is read before the page, so every row the page can show is in it.
    let snapshot = match cursor {
        Some(c) => c.snapshot,
        None => {
            sqlx::query_scalar("SELECT COALESCE(MAX(seq), 0) FROM comments")
                .fetch_one(pool)
                .await?
        }
    };
    // Without a cursor, start below every real row ("" sorts before any id).
    let (after_at, after_id) = cursor.map_or((i64::MIN, String::new()), |c| {
        (c.created_at, c.id.to_string())
    });
    let rows: Vec<Row> = sqlx::query_as(
        "SELECT c.id, c.author_id, u.username, c.created_at, c.body_sealed
         FROM comments c JOIN users u ON u.id = c.author_id
         WHERE c.video_id = $1
           AND (c.created_at > $2 OR (c.created_at = $3 AND c.id > $4))
           AND c.seq <= $5
         ORDER BY c.created_at, c.id
         LIMIT $6",
    )
    .bind(video.to_string())
    .bind(after_at)
    .bind(after_at)
    .bind(after_id)
    .bind(snapshot)
    .bind(i64::from(limit) + 1)
    .fetch_all(pool)
    .await?;
    let more = rows.len() > limit as usize;
    let comments = rows
        .into_iter()
        .take(limit as usize)
        .map(|row| info(video, viewer, row))
        .collect::<AppResult<Vec<_>>>()?;
    let next_cursor = more.then(|| comments.last()).flatten().map(|c| {
        Cursor {
            created_at: c.created_at,
            id: c.comment_id,
            snapshot,
        }
        .encode()
    });
    Ok(CommentPage {
        comments,
        next_cursor,
    })
}

/// Adds `author`'s comment to `video`: 404 if they cannot see the video, 409 if the comment id is
/// taken. The check of the video and the insert are one statement.
#[tracing::instrument(level = "debug", skip_all, fields(user = author.id, video = %video))]
pub async fn create(
    pool: &Db,
    author: &User,
    video: &VideoId,
    new: &NewComment,
) -> AppResult<CommentInfo> {
    let body = check_body(&new.body_sealed)?;
    let created_at = unix_now();
    let inserted = sqlx::query(
        "INSERT INTO comments (id, video_id, author_id, body_sealed, created_at)
         SELECT $1, id, $2, $3, $4 FROM videos
         WHERE id = $5 AND (status <> 'uploading' OR owner_id = $6) AND trashed_at IS NULL",
    )
    .bind(new.comment_id.to_string())
    .bind(author.id)
    .bind(&body)
    .bind(created_at)
    .bind(video.to_string())
    .bind(author.id)
    .execute(pool)
    .await;
    match inserted {
        Ok(done) if done.rows_affected() == 1 => Ok(CommentInfo {
            comment_id: new.comment_id,
            video_id: *video,
            author: author.username.clone(),
            created_at,
            body_sealed: hex::encode(&body),
            can_delete: true,
        }),
        Ok(_) => Err(no_such_video()),
        Err(sqlx::Error::Database(err)) if err.is_unique_violation() => {
            Err(AppError::Conflict(format!(
                "There is already a comment with the id {}; a new comment needs a new id.",
                new.comment_id
            )))
        }
        // The video was removed between the check and the insert.
        Err(sqlx::Error::Database(err)) if err.is_foreign_key_violation() => Err(no_such_video()),
        Err(err) => Err(err.into()),
    }
}

/// Deletes `comment` of `video` if `viewer` wrote it or is an admin (403 otherwise); 404 when the
/// video is not visible or the comment is not one of its comments.
#[tracing::instrument(level = "debug", skip_all, fields(user = viewer.id, video = %video, comment = %comment))]
pub async fn delete(
    pool: &Db,
    viewer: &User,
    video: &VideoId,
    comment: &CommentId,
) -> AppResult<()> {
    ensure_visible(pool, viewer.id, video).await?;
    let deleted = sqlx::query(
        "DELETE FROM comments WHERE id = $1 AND video_id = $2 AND (author_id = $3 OR $4)",
    )
    .bind(comment.to_string())
    .bind(video.to_string())
    .bind(viewer.id)
    .bind(viewer.role == Role::Admin)
    .execute(pool)
    .await?;
    if deleted.rows_affected() == 1 {
        return Ok(());
    }
    let author: Option<i64> =
        sqlx::query_scalar("SELECT author_id FROM comments WHERE id = $1 AND video_id = $2")
            .bind(comment.to_string())
            .bind(video.to_string())
            .fetch_optional(pool)
            .await?;
    match author {
        Some(author_id) if !may_delete(viewer, author_id) => Err(AppError::Forbidden(
            "Only the author or an admin can delete this comment.".to_owned(),
        )),
        // Gone (perhaps deleted by someone else a moment ago), or never on this video.
        _ => Err(no_such_comment()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_round_trip_and_anything_else_is_refused() {
        let c = Cursor {
            created_at: 1_700_000_000,
            id: CommentId::from_bytes([0xab; 16]),
            snapshot: 42,
        };
        assert_eq!(Cursor::parse(&c.encode()).expect("parse"), c);
        let id = c.id.to_string();
        for junk in [
            String::new(),
            "1".to_owned(),
            format!("1.{id}"),
            format!("+1.{id}.42"),
            format!("01.{id}.42"),
            format!("-1.{id}.42"),
            format!("1.{id}.-2"),
            format!("1.{id}.x"),
            format!("1.{id}.2.3"),
            format!("1.{}.2", id.to_uppercase()),
            "1.../etc".to_owned(),
        ] {
            assert!(Cursor::parse(&junk).is_err(), "{junk}");
        }
    }

    #[test]
    fn body_shape() {
        let header = StreamHeader {
            chunk_size: 4,
            salt: [1; 32],
        }
        .to_bytes();
        let with = |extra: usize| {
            let mut b = header.to_vec();
            b.extend(std::iter::repeat_n(0u8, extra));
            hex::encode(b)
        };
        assert!(check_body(&with(TAG_LEN)).is_ok());
        assert!(check_body(&with(TAG_LEN - 1)).is_err());
        // One full piece (4 + 16) then a tail too short for a tag.
        assert!(check_body(&with(20 + 5)).is_err());
        assert!(check_body(&with(20 + TAG_LEN)).is_ok());
        assert!(check_body(&with(TAG_LEN).to_uppercase()).is_err());
        assert!(check_body(&with(TAG_LEN)[1..]).is_err());
        assert!(matches!(
            check_body(&"00".repeat(MAX_SEALED_COMMENT_BYTES + 1)),
            Err(AppError::PayloadTooLarge(_))
        ));
    }
}
