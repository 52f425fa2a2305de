//! What a sealed stream is for. The purpose label goes into the subkey
//! derivation, so a stream only decrypts in the one place it was made for.

use std::fmt;

use super::CryptoError;

/// A validated rendition or comment id: 1..=64 lowercase ASCII letters or
/// digits. The private field means a `Purpose` label can never contain `/`
/// or other separators that would make two purposes collide.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct PurposeId(String);

impl PurposeId {
    pub const MAX_LEN: usize = 64;

    pub fn new(s: &str) -> Result<Self, CryptoError> {
        let ok = (1..=Self::MAX_LEN).contains(&s.len())
            && s.bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit());
        if ok {
            Ok(Self(s.to_owned()))
        } else {
            Err(CryptoError::BadPurpose)
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for PurposeId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&self.0, f)
    }
}

impl fmt::Display for PurposeId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Names the object a sealed stream holds, exactly (docs/format.md).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Purpose {
    Original,
    Manifest,
    Thumb,
    Title,
    Description,
    /// The name the uploaded file had (for the saved file of a download).
    FileName,
    /// What processing learnt of the video: recording time, duration, picture size
    /// (`cloister_shared::api::videos::VideoMetadata`, docs/format.md).
    Metadata,
    Init {
        rendition: PurposeId,
    },
    Segment {
        rendition: PurposeId,
        index: u32,
    },
    Comment {
        id: PurposeId,
    },
}

impl Purpose {
    pub fn init(rendition: &str) -> Result<Self, CryptoError> {
        Ok(Self::Init {
            rendition: PurposeId::new(rendition)?,
        })
    }

    pub fn segment(rendition: &str, index: u32) -> Result<Self, CryptoError> {
        Ok(Self::Segment {
            rendition: PurposeId::new(rendition)?,
            index,
        })
    }

    pub fn comment(id: &str) -> Result<Self, CryptoError> {
        Ok(Self::Comment {
            id: PurposeId::new(id)?,
        })
    }

    /// `original`, `manifest`, `thumb`, `title`, `description`, `file-name`, `metadata`,
    /// `init/<r>`, `segment/<r>/<n>` (decimal n) or `comment/<id>`.
    pub fn label(&self) -> String {
        match self {
            Self::Original => "original".into(),
            Self::Manifest => "manifest".into(),
            Self::Thumb => "thumb".into(),
            Self::Title => "title".into(),
            Self::Description => "description".into(),
            Self::FileName => "file-name".into(),
            Self::Metadata => "metadata".into(),
            Self::Init { rendition } => format!("init/{rendition}"),
            Self::Segment { rendition, index } => format!("segment/{rendition}/{index}"),
            Self::Comment { id } => format!("comment/{id}"),
        }
    }
}

impl fmt::Display for Purpose {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.label())
    }
}
