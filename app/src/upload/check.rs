//! What the Upload page checks as soon as a file is chosen, before anything is sent
//! (docs/uploads.md, "Before sending"): an empty file is refused; a file whose first bytes are not
//! a video's, and a file whose content the library holds already, get a warning the member
//! answers (upload anyway, or skip it).

use cloister_shared::api::utc_date;

/// The words for an empty file.
pub const EMPTY_FILE: &str = "This file is empty (0 bytes): there is nothing to upload.";

/// What the checks found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Check {
    /// Reading the first bytes and asking the server about duplicates.
    Checking,
    /// Nothing to say, or the member chose "Upload anyway".
    Clear,
    /// Refused: nothing is sent.
    Empty,
    /// Warnings the member answers before this file is sent.
    Warn {
        not_video: Option<String>,
        duplicate: Option<String>,
    },
}

impl Check {
    /// Whether Upload sends this file.
    pub fn may_send(&self) -> bool {
        matches!(self, Check::Clear)
    }
}

/// "You already uploaded this on 2026-12-07 as “Sea”." — or the member who did.
pub fn duplicate_message(me: &str, owner: &str, created_at: i64, title: Option<&str>) -> String {
    let who = if owner == me {
        "You".to_owned()
    } else {
        owner.to_owned()
    };
    let date = utc_date(created_at);
    match title {
        Some(title) => format!("{who} already uploaded this on {date} as “{title}”."),
        None => format!("{who} already uploaded this on {date} (its title cannot be decrypted)."),
    }
}

#[cfg(feature = "hydrate")]
pub use browser::check_file;

#[cfg(feature = "hydrate")]
mod browser {
    use cloister_shared::api::uploads::DuplicateVideo;
    use cloister_shared::crypto::stream::open_all;
    use cloister_shared::sniff::sniff;
    use cloister_shared::{content_fingerprint, sample_ranges, ContentSample, Purpose};

    use super::*;
    use crate::keyring::Unlocked;
    use crate::upload::engine::read_bytes;

    /// Checks `file` for the member `me`. Reads at most three 64 KiB samples; sends only the
    /// keyed content fingerprint.
    pub async fn check_file(file: &web_sys::File, key: &Unlocked, me: &str) -> Check {
        let size = file.size() as u64;
        if size == 0 {
            return Check::Empty;
        }
        let [first, middle, last] = sample_ranges(size);
        let Some(first) = read_bytes(file, first.start, first.end).await else {
            return Check::Clear;
        };
        let not_video = sniff(&first).warning();
        let duplicate = match (
            read_bytes(file, middle.start, middle.end).await,
            read_bytes(file, last.start, last.end).await,
        ) {
            (Some(middle), Some(last)) => match ContentSample::of(size, [&first, &middle, &last]) {
                Ok(sample) => find_duplicate(key, &sample, me).await,
                Err(_) => None,
            },
            _ => None,
        };
        if not_video.is_none() && duplicate.is_none() {
            Check::Clear
        } else {
            Check::Warn {
                not_video,
                duplicate,
            }
        }
    }

    /// The message for the oldest video with this content, if the library has one. A server that
    /// cannot be asked makes no warning: the upload itself will say what is wrong.
    async fn find_duplicate(key: &Unlocked, sample: &ContentSample, me: &str) -> Option<String> {
        let fingerprint = hex::encode(content_fingerprint(&key.library_key, sample));
        let list = crate::api::duplicates_of(&fingerprint).await.ok()?;
        let found = list.videos.first()?;
        Some(duplicate_message(
            me,
            &found.owner,
            found.created_at,
            open_title(key, found).as_deref(),
        ))
    }

    fn open_title(key: &Unlocked, video: &DuplicateVideo) -> Option<String> {
        let dek = key.unwrap_dek(&video.video_id, &video.wrapped_dek).ok()?;
        let sealed = hex::decode(&video.title_sealed).ok()?;
        let plain = open_all(&dek, &video.video_id, &Purpose::Title, &sealed).ok()?;
        let title = String::from_utf8_lossy(&plain).trim().to_owned();
        Some(if title.is_empty() {
            "Untitled".to_owned()
        } else {
            title
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_duplicate_message_names_the_date_the_title_and_who() {
        assert_eq!(
            duplicate_message("ann", "ann", 1_796_601_600, Some("Sea")),
            "You already uploaded this on 2026-12-07 as “Sea”."
        );
        assert_eq!(
            duplicate_message("ann", "bob", 1_796_601_600, Some("Sea")),
            "bob already uploaded this on 2026-12-07 as “Sea”."
        );
        assert!(duplicate_message("ann", "ann", 0, None).contains("cannot be decrypted"));
        assert!(Check::Clear.may_send());
        assert!(!Check::Empty.may_send());
        assert!(!Check::Checking.may_send());
    }
}
