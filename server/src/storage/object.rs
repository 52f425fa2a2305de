//! The sealed files processing makes, named by type rather than by path: a rendition id is parsed
//! before it becomes part of a name, so no name is ever built from unchecked input.

use std::fmt;

use cloister_shared::crypto::random;
use cloister_shared::manifest::{is_rendition_id, RENDITION_ID_LEN};

/// 16 lowercase hex digits, fresh for every processing attempt (docs/format.md: a retried job
/// writes new streams under a new rendition id).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct RenditionId(String);

impl RenditionId {
    pub fn generate() -> Result<Self, cloister_shared::CryptoError> {
        let bytes: [u8; RENDITION_ID_LEN / 2] = random::array()?;
        Ok(Self(hex::encode(bytes)))
    }

    pub fn parse(s: &str) -> Option<Self> {
        is_rendition_id(s).then(|| Self(s.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The directory name: `r<id>`.
    pub fn dir_name(&self) -> String {
        format!("r{}", self.0)
    }

    /// Parses a directory name made by `dir_name`.
    pub fn from_dir_name(name: &str) -> Option<Self> {
        name.strip_prefix('r').and_then(Self::parse)
    }
}

impl fmt::Display for RenditionId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// One sealed file of a processed video.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StoredObject {
    Manifest,
    Thumb,
    Init { rendition: RenditionId },
    Segment { rendition: RenditionId, index: u32 },
}

impl StoredObject {
    /// The path below `videos/<id>/`: `manifest.sealed`, `thumb.sealed`,
    /// `r<rendition>/init.sealed`, `r<rendition>/<n>.sealed`.
    pub fn relative_path(&self) -> String {
        match self {
            Self::Manifest => "manifest.sealed".to_owned(),
            Self::Thumb => "thumb.sealed".to_owned(),
            Self::Init { rendition } => format!("{}/init.sealed", rendition.dir_name()),
            Self::Segment { rendition, index } => {
                format!("{}/{index}.sealed", rendition.dir_name())
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rendition_ids_are_checked_before_they_name_anything() {
        let id = RenditionId::generate().expect("random");
        assert_eq!(RenditionId::parse(id.as_str()), Some(id.clone()));
        assert_eq!(RenditionId::from_dir_name(&id.dir_name()), Some(id.clone()));
        assert_eq!(RenditionId::parse("../etc/passwd00"), None);
        assert_eq!(RenditionId::parse("0123456789ABCDEF"), None);
        assert_eq!(
            StoredObject::Segment {
                rendition: id.clone(),
                index: 7
            }
            .relative_path(),
            format!("r{id}/7.sealed")
        );
    }
}
