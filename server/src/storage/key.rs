//! Object keys for the object storage interface (`backend`), built only from parsed types and fixed
//! names, so no key is ever made from unchecked input (docs/architecture.md, "Storage and
//! database"):
//!
//! ```text
//! videos/<id>/original/header          the sealed original's 41-byte stream header
//! videos/<id>/original/<n>.sealed      its sealed chunk n (chunk size + 16 bytes; the last shorter)
//! videos/<id>/manifest.sealed
//! videos/<id>/thumb.sealed
//! videos/<id>/r<rendition>/init.sealed
//! videos/<id>/r<rendition>/<n>.sealed
//! ```
//!
//! The header is an object of its own rather than folded into chunk 0: every chunk object then
//! has the same length, a byte of the original is found by offset arithmetic alone, and the
//! header can be written when the upload begins, before any chunk (as today).

use std::fmt;

use cloister_shared::VideoId;

use super::{RenditionId, StoredObject};

/// The top directory (local) or key prefix (S3) every video lives under.
pub const VIDEOS_DIR: &str = "videos";
const ORIGINAL_DIR: &str = "original";
const HEADER_NAME: &str = "header";
const SEALED_EXT: &str = ".sealed";

/// One object of one video.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ObjectKey {
    pub video: VideoId,
    pub object: VideoObject,
}

/// Which object of a video.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum VideoObject {
    /// The sealed original's stream header.
    OriginalHeader,
    /// Sealed chunk `n` of the original.
    OriginalChunk(u32),
    /// A file processing makes (manifest, thumbnail, a rendition's init or segment).
    Processed(StoredObject),
}

impl ObjectKey {
    pub fn new(video: VideoId, object: VideoObject) -> Self {
        Self { video, object }
    }

    pub fn original_header(video: VideoId) -> Self {
        Self::new(video, VideoObject::OriginalHeader)
    }

    pub fn original_chunk(video: VideoId, index: u32) -> Self {
        Self::new(video, VideoObject::OriginalChunk(index))
    }

    pub fn processed(video: VideoId, object: StoredObject) -> Self {
        Self::new(video, VideoObject::Processed(object))
    }

    /// The key relative to the storage root, `/`-separated.
    pub fn path(&self) -> String {
        let video = &self.video;
        match &self.object {
            VideoObject::OriginalHeader => {
                format!("{VIDEOS_DIR}/{video}/{ORIGINAL_DIR}/{HEADER_NAME}")
            }
            VideoObject::OriginalChunk(n) => {
                format!("{VIDEOS_DIR}/{video}/{ORIGINAL_DIR}/{n}{SEALED_EXT}")
            }
            VideoObject::Processed(object) => {
                format!("{VIDEOS_DIR}/{video}/{}", object.relative_path())
            }
        }
    }

    /// Parses a key made by `path` (e.g. one a listing returned); anything else is `None`, so
    /// stray names (a temp file, an old layout's file) are never mistaken for objects.
    pub fn parse(path: &str) -> Option<Self> {
        let mut parts = path.split('/');
        if parts.next()? != VIDEOS_DIR {
            return None;
        }
        let video = VideoId::parse(parts.next()?).ok()?;
        let first = parts.next()?;
        let second = parts.next();
        if parts.next().is_some() {
            return None;
        }
        let object = match (first, second) {
            ("manifest.sealed", None) => VideoObject::Processed(StoredObject::Manifest),
            ("thumb.sealed", None) => VideoObject::Processed(StoredObject::Thumb),
            (ORIGINAL_DIR, Some(HEADER_NAME)) => VideoObject::OriginalHeader,
            (ORIGINAL_DIR, Some(name)) => VideoObject::OriginalChunk(parse_index(name)?),
            (dir, Some(name)) => {
                let rendition = RenditionId::from_dir_name(dir)?;
                if name == "init.sealed" {
                    VideoObject::Processed(StoredObject::Init { rendition })
                } else {
                    VideoObject::Processed(StoredObject::Segment {
                        rendition,
                        index: parse_index(name)?,
                    })
                }
            }
            _ => return None,
        };
        Some(Self { video, object })
    }
}

/// `<n>.sealed` with n in its one canonical spelling (no sign, no leading zero).
fn parse_index(name: &str) -> Option<u32> {
    let digits = name.strip_suffix(SEALED_EXT)?;
    let n: u32 = digits.parse().ok()?;
    (n.to_string() == digits).then_some(n)
}

impl fmt::Display for ObjectKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.path())
    }
}

/// What a listing or a bulk delete covers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeyPrefix {
    /// Every object of a video.
    Video(VideoId),
    /// The sealed original's header and chunks.
    Original(VideoId),
    /// One rendition's init and segments.
    Rendition(VideoId, RenditionId),
}

impl KeyPrefix {
    pub fn video(&self) -> &VideoId {
        match self {
            Self::Video(video) | Self::Original(video) | Self::Rendition(video, _) => video,
        }
    }

    /// The directory (local) or key prefix (S3), without a trailing `/`.
    pub fn path(&self) -> String {
        match self {
            Self::Video(video) => format!("{VIDEOS_DIR}/{video}"),
            Self::Original(video) => format!("{VIDEOS_DIR}/{video}/{ORIGINAL_DIR}"),
            Self::Rendition(video, rendition) => {
                format!("{VIDEOS_DIR}/{video}/{}", rendition.dir_name())
            }
        }
    }
}

impl fmt::Display for KeyPrefix {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/", self.path())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_key_parses_back_and_stray_names_do_not() {
        let video = VideoId::from_bytes([7; 16]);
        let rendition = RenditionId::parse("0123456789abcdef").expect("rendition id");
        let keys = [
            ObjectKey::original_header(video),
            ObjectKey::original_chunk(video, 0),
            ObjectKey::original_chunk(video, u32::MAX),
            ObjectKey::processed(video, StoredObject::Manifest),
            ObjectKey::processed(video, StoredObject::Thumb),
            ObjectKey::processed(
                video,
                StoredObject::Init {
                    rendition: rendition.clone(),
                },
            ),
            ObjectKey::processed(
                video,
                StoredObject::Segment {
                    rendition: rendition.clone(),
                    index: 12,
                },
            ),
        ];
        for key in keys {
            assert_eq!(ObjectKey::parse(&key.path()), Some(key.clone()), "{key}");
        }
        assert_eq!(
            ObjectKey::original_chunk(video, 3).path(),
            format!("videos/{video}/original/3.sealed")
        );
        for stray in [
            format!("videos/{video}/original.sealed"),
            format!("videos/{video}/original/03.sealed"),
            format!("videos/{video}/original/+3.sealed"),
            format!("videos/{video}/original/.3.sealed.tmp-1"),
            format!("videos/{video}/r0123456789abcdef/init.sealed/x"),
            format!("videos/{video}/rXYZ/init.sealed"),
            format!("videos/{video}/../manifest.sealed"),
            "videos/NOTANID/manifest.sealed".to_owned(),
            format!("other/{video}/manifest.sealed"),
        ] {
            assert_eq!(ObjectKey::parse(&stray), None, "{stray}");
        }
    }
}
