//! The sealed files a browser plays from, as stored (it decrypts them itself):
//!
//! - `GET /api/videos/{id}/manifest[?rendition=R]` and `GET /api/videos/{id}/thumb[?rendition=R]`
//! - `GET /api/videos/{id}/renditions/{R}/init` and `.../renditions/{R}/segments/{n}`
//!
//! Files under a rendition never change (each processing run writes a new rendition), so they are
//! cached for good, with the ETag `"<R>-init"` / `"<R>-<n>"`, known without touching storage.
//! The manifest and thumbnail keep their names across runs: with `?rendition=R` naming the current
//! rendition they are immutable too (the gallery knows R from the listing); without it they must
//! be revalidated. Their ETag comes from the salt in their stream header, so it changes exactly
//! when the bytes do.

use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::http::HeaderMap;
use axum::response::Response;
use cloister_shared::StreamHeader;
use serde::Deserialize;

use super::delivery::{blocking, respond, Caching, ETag, Source, StoredFile};
use super::published::{find_for, parse_rendition, parse_video_id, Viewer, VisibleVideo};
use crate::accounts::CurrentUser;
use crate::error::{AppError, AppResult};
use crate::state::AppState;
use crate::storage::{RenditionId, StoredObject};

#[derive(Deserialize)]
pub struct Pin {
    rendition: Option<String>,
}

pub async fn manifest(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    Path(raw_id): Path<String>,
    pin: Result<Query<Pin>, QueryRejection>,
    headers: HeaderMap,
) -> AppResult<Response> {
    let video = parse_video_id(&raw_id)?;
    top_level(
        &state,
        Viewer::Member(&user),
        video,
        pin,
        StoredObject::Manifest,
        &headers,
    )
    .await
}

pub async fn thumb(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    Path(raw_id): Path<String>,
    pin: Result<Query<Pin>, QueryRejection>,
    headers: HeaderMap,
) -> AppResult<Response> {
    let video = parse_video_id(&raw_id)?;
    top_level(
        &state,
        Viewer::Member(&user),
        video,
        pin,
        StoredObject::Thumb,
        &headers,
    )
    .await
}

pub async fn init(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    Path((raw_id, raw_rendition)): Path<(String, String)>,
    headers: HeaderMap,
) -> AppResult<Response> {
    let video = parse_video_id(&raw_id)?;
    init_of(
        &state,
        Viewer::Member(&user),
        video,
        &raw_rendition,
        &headers,
    )
    .await
}

/// The init segment of `video`'s current rendition, for `viewer` (the member and share routes).
pub(crate) async fn init_of(
    state: &AppState,
    viewer: Viewer<'_>,
    video: cloister_shared::VideoId,
    raw_rendition: &str,
    headers: &HeaderMap,
) -> AppResult<Response> {
    let rendition = parse_rendition(raw_rendition)?;
    let found = find_for(&state.db, viewer, video).await?;
    let rendition = found.current(&rendition)?;
    let etag = ETag::new(&format!("{rendition}-init"));
    rendition_file(
        state,
        &found,
        StoredObject::Init { rendition },
        etag,
        headers,
    )
    .await
}

pub async fn segment(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    Path((raw_id, raw_rendition, raw_index)): Path<(String, String, String)>,
    headers: HeaderMap,
) -> AppResult<Response> {
    let video = parse_video_id(&raw_id)?;
    segment_of(
        &state,
        Viewer::Member(&user),
        video,
        (&raw_rendition, &raw_index),
        &headers,
    )
    .await
}

/// Media segment `raw_index` of `video`'s current rendition `raw_rendition`, for `viewer`.
pub(crate) async fn segment_of(
    state: &AppState,
    viewer: Viewer<'_>,
    video: cloister_shared::VideoId,
    (raw_rendition, raw_index): (&str, &str),
    headers: &HeaderMap,
) -> AppResult<Response> {
    let rendition = parse_rendition(raw_rendition)?;
    let index = parse_segment_index(raw_index)?;
    let found = find_for(&state.db, viewer, video).await?;
    let rendition = found.current(&rendition)?;
    let etag = ETag::new(&format!("{rendition}-{index}"));
    let object = StoredObject::Segment { rendition, index };
    match rendition_file(state, &found, object, etag, headers).await {
        Err(AppError::Io(err)) if err.kind() == std::io::ErrorKind::NotFound => Err(
            AppError::NotFound(format!("This video has no segment {index}.")),
        ),
        other => other,
    }
}

/// Canonical decimal only (no sign, no leading zeros), so one segment has one URL.
fn parse_segment_index(raw: &str) -> AppResult<u32> {
    raw.parse::<u32>()
        .ok()
        .filter(|index| index.to_string() == raw)
        .ok_or_else(|| {
            AppError::BadRequest(format!(
                "That is not a segment number: segments are numbered 0, 1, 2… (got {raw:?})."
            ))
        })
}

/// An init or media segment of the current rendition: immutable, streamed, rangeable.
async fn rendition_file(
    state: &AppState,
    video: &VisibleVideo,
    object: StoredObject,
    etag: ETag,
    headers: &HeaderMap,
) -> AppResult<Response> {
    let (storage, id, file) = (state.storage.clone(), video.id, StoredFile::Object(object));
    let stat = file.clone();
    let len = blocking(storage.clone(), move |s| stat.len(s, &id)).await?;
    let source = Source::Stored {
        storage,
        video: id,
        file,
        len,
    };
    respond(headers, &etag, Caching::Immutable, source)
}

/// The manifest or thumbnail: small, read whole so the ETag is taken from the very bytes sent.
/// For `viewer` (the member and share routes).
pub(crate) async fn top_level(
    state: &AppState,
    viewer: Viewer<'_>,
    video: cloister_shared::VideoId,
    pin: Result<Query<Pin>, QueryRejection>,
    object: StoredObject,
    headers: &HeaderMap,
) -> AppResult<Response> {
    let Query(pin) = pin.map_err(|_| {
        AppError::BadRequest("The only query this takes is ?rendition=<id>.".to_owned())
    })?;
    let pin = pin.rendition.as_deref().map(parse_rendition).transpose()?;
    let found = find_for(&state.db, viewer, video).await?;
    let rendition = match &pin {
        Some(asked) => found.current(asked)?,
        None => found.playable()?,
    };
    if object == StoredObject::Thumb && !found.has_thumb {
        return Err(AppError::NotFound(
            "This video has no thumbnail.".to_owned(),
        ));
    }
    let file = StoredFile::Object(object);
    let bytes = blocking(state.storage.clone(), move |s| {
        let len = file.len(s, &video)?;
        file.read(
            s,
            &video,
            0,
            usize::try_from(len).map_err(std::io::Error::other)?,
        )
    })
    .await?;
    still_published(state, viewer, video, &rendition).await?;
    let header = StreamHeader::parse(&bytes).map_err(|err| {
        AppError::Internal(format!(
            "a stored file of video {video} has no header: {err}"
        ))
    })?;
    let caching = if pin.is_some() {
        Caching::Immutable
    } else {
        Caching::Revalidate
    };
    respond(
        headers,
        &ETag::from_salt(&header.salt),
        caching,
        Source::Bytes(bytes),
    )
}

/// Reprocessing rewrites the manifest and thumbnail in place, after moving the video out of
/// `ready`, and publishes a new rendition. So if the video is still ready on the same rendition
/// after the read, what was read belongs to that rendition and may be cached under its URL.
async fn still_published(
    state: &AppState,
    viewer: Viewer<'_>,
    video: cloister_shared::VideoId,
    rendition: &RenditionId,
) -> AppResult<()> {
    let again = find_for(&state.db, viewer, video).await?;
    if &again.playable()? == rendition {
        Ok(())
    } else {
        Err(AppError::Conflict(
            "This video was processed again while it was being read; fetch it again.".to_owned(),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn segment_numbers_have_one_spelling() {
        assert_eq!(parse_segment_index("0").ok(), Some(0));
        assert_eq!(parse_segment_index("17").ok(), Some(17));
        for junk in ["", "+1", "01", "-1", "1.0", "4294967296", "x", "1/../2"] {
            assert!(parse_segment_index(junk).is_err(), "{junk}");
        }
    }
}
