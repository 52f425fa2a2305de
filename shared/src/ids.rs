//! Identifiers. `VideoId` is the only value the server ever builds a file
//! path from, so its textual form is parsed strictly.

use std::fmt;
use std::str::FromStr;

use serde::{de, Deserialize, Deserializer, Serialize, Serializer};
use thiserror::Error;

use crate::crypto::{random, CryptoError};

/// Why a string is not a valid id.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Error)]
pub enum IdError {
    #[error("id must be exactly 32 characters")]
    Length,
    #[error("id must contain only lowercase hex digits (0-9, a-f)")]
    Character,
}

/// 16 random bytes; written as 32 lowercase hex characters.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct VideoId([u8; 16]);

impl VideoId {
    pub const LEN: usize = 16;

    pub fn random() -> Result<Self, CryptoError> {
        random::array().map(Self)
    }

    pub const fn from_bytes(bytes: [u8; 16]) -> Self {
        Self(bytes)
    }

    pub const fn as_bytes(&self) -> &[u8; 16] {
        &self.0
    }

    /// Accepts exactly 32 lowercase hex characters, nothing else (no
    /// uppercase, no whitespace, no prefix), so each id has one spelling.
    pub fn parse(s: &str) -> Result<Self, IdError> {
        if s.len() != 2 * Self::LEN {
            return Err(IdError::Length);
        }
        if !s.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')) {
            return Err(IdError::Character);
        }
        let mut out = [0u8; 16];
        hex::decode_to_slice(s, &mut out).map_err(|_| IdError::Character)?;
        Ok(Self(out))
    }
}

impl fmt::Display for VideoId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut buf = [0u8; 32];
        // Cannot fail: the buffer is exactly twice the input length.
        hex::encode_to_slice(self.0, &mut buf).map_err(|_| fmt::Error)?;
        f.write_str(std::str::from_utf8(&buf).map_err(|_| fmt::Error)?)
    }
}

impl fmt::Debug for VideoId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "VideoId({self})")
    }
}

impl FromStr for VideoId {
    type Err = IdError;
    fn from_str(s: &str) -> Result<Self, IdError> {
        Self::parse(s)
    }
}

impl Serialize for VideoId {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for VideoId {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl de::Visitor<'_> for V {
            type Value = VideoId;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("32 lowercase hex characters")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<VideoId, E> {
                VideoId::parse(v).map_err(E::custom)
            }
        }
        d.deserialize_str(V)
    }
}

/// An id of 16 random bytes written like a `VideoId` (32 lowercase hex digits, one spelling), for
/// things the client names before the server sees them.
macro_rules! random_hex_id {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(VideoId);

        impl $name {
            pub fn random() -> Result<Self, CryptoError> {
                VideoId::random().map(Self)
            }

            pub const fn from_bytes(bytes: [u8; 16]) -> Self {
                Self(VideoId::from_bytes(bytes))
            }

            /// Exactly 32 lowercase hex digits, so each id has one spelling.
            pub fn parse(s: &str) -> Result<Self, IdError> {
                VideoId::parse(s).map(Self)
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                fmt::Display::fmt(&self.0, f)
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, concat!(stringify!($name), "({})"), self.0)
            }
        }

        impl FromStr for $name {
            type Err = IdError;
            fn from_str(s: &str) -> Result<Self, IdError> {
                Self::parse(s)
            }
        }
    };
}

random_hex_id!(
    /// A comment's id: made by the client before it seals the comment (the purpose
    /// `comment/<id>` binds the sealed body to it).
    CommentId
);

random_hex_id!(
    /// A share link's id (128 bits): in the link's path, so it is all the server needs to serve the
    /// share's sealed files (docs/format.md, "Share links").
    ShareId
);
