//! Encrypted streaming playback (docs/architecture.md, "Gallery and playback"). The server sends sealed
//! files as stored; this tab opens them with the video's DEK and feeds a `MediaSource` (or Safari's
//! `ManagedMediaSource`): the init segment, then media segments in order, about 30 s ahead of the
//! playhead, letting go of what is far behind it so memory stays flat however long the video is.
//! Where the browser has neither, a short video is opened whole and played natively (`whole`).
//!
//! The planning (what to fetch, what to let go) and the checks on sealed files are pure and tested
//! natively; the MSE plumbing and the fetch loop run only in the browser.

#[cfg(feature = "hydrate")]
mod engine;
pub mod init_length;
#[cfg(feature = "hydrate")]
mod media;
pub mod plan;
pub mod retry;
pub mod sealed;
#[cfg(feature = "hydrate")]
mod support;
mod view;
pub mod whole;
#[cfg(feature = "hydrate")]
mod whole_feed;

use cloister_shared::api::shares::{self, ShareId};
use cloister_shared::api::videos::paths;
use cloister_shared::manifest::Manifest;
use cloister_shared::{Dek, VideoId};

pub use view::Player;

/// A video opened in this tab: what playing it takes.
pub struct Source {
    pub video: VideoId,
    pub dek: Dek,
    pub manifest: Manifest,
    /// Which routes serve its sealed files.
    pub files: Files,
}

/// Where a video's sealed files are fetched from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Files {
    /// A member's: `/api/videos/{id}/…` with the session.
    Library,
    /// A share link's holder: `/api/s/{share}/…`, authorised by the share id alone.
    Share(ShareId),
}

impl Source {
    /// The init segment's URL.
    pub fn init_url(&self) -> String {
        match &self.files {
            Files::Library => paths::init(&self.video, &self.manifest.rendition),
            Files::Share(share) => shares::paths::init(share, &self.manifest.rendition),
        }
    }

    /// Media segment `index`'s URL.
    pub fn segment_url(&self, index: u32) -> String {
        match &self.files {
            Files::Library => paths::segment(&self.video, &self.manifest.rendition, index),
            Files::Share(share) => shares::paths::segment(share, &self.manifest.rendition, index),
        }
    }
}

/// docs/architecture.md: what a manifest that does not open says. Exactly these words.
pub const MANIFEST_UNDECRYPTABLE: &str = "Unable to decrypt manifest. Check passphrase.";
/// docs/architecture.md: what a segment that does not open says. Exactly these words.
pub const SEGMENT_UNDECRYPTABLE: &str = "Unable to decrypt segment. Check passphrase.";
/// After the retries a lost connection gets.
pub const NETWORK_STOPPED: &str =
    "Playback paused: the server could not be reached, even after several tries. Check your connection, then press Try again.";

/// Why playback stopped.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Failure {
    /// A segment (or the init segment) did not open, or was not the file the manifest names.
    Undecryptable,
    /// The server could not be reached after the retries; Try again carries on.
    Unreachable,
    /// The server refused (e.g. the video was processed again): its words.
    Refused(String),
    /// The browser cannot play it.
    Unplayable(String),
    /// The browser cannot stream, and the video is too large to play whole: saving it is the way.
    TooLarge { size: u64, limit: u64 },
}

impl Failure {
    pub fn message(&self) -> String {
        match self {
            Self::Undecryptable => SEGMENT_UNDECRYPTABLE.to_owned(),
            Self::Unreachable => NETWORK_STOPPED.to_owned(),
            Self::Refused(words) => {
                format!("Playback stopped: {words} Close the video and open it again.")
            }
            Self::Unplayable(words) => words.clone(),
            Self::TooLarge { size, limit } => whole::too_large_message(*size, *limit),
        }
    }
}
