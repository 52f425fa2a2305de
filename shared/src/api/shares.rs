//! Share links (docs/api.md, "Share links"): a member creates one for one ready video; anyone
//! holding the whole link `/s/<share id>#<secret>` may watch it (and save it, when allowed) until
//! it expires or is withdrawn. The key wrapping is in `crypto::share` (docs/format.md).

use serde::{Deserialize, Serialize};

use crate::crypto::keys::WrappedKey;
pub use crate::crypto::share::ShareId;
use crate::ids::VideoId;

/// What a link that expired, was withdrawn, or never existed answers (410), everywhere.
pub const SHARE_GONE_MESSAGE: &str = "This link has expired or was withdrawn.";
/// What the share page says when the fragment does not open the key.
pub const SHARE_UNDECRYPTABLE_MESSAGE: &str =
    "Unable to decrypt this video. Check that the whole link was copied.";

/// How long a share link works.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
pub enum ShareExpiry {
    #[serde(rename = "1d")]
    OneDay,
    #[default]
    #[serde(rename = "7d")]
    SevenDays,
    #[serde(rename = "30d")]
    ThirtyDays,
    #[serde(rename = "never")]
    Never,
}

impl ShareExpiry {
    pub const ALL: [Self; 4] = [Self::OneDay, Self::SevenDays, Self::ThirtyDays, Self::Never];

    /// Seconds from creation, or `None` for a link that never expires.
    pub const fn seconds(self) -> Option<i64> {
        match self {
            Self::OneDay => Some(86_400),
            Self::SevenDays => Some(7 * 86_400),
            Self::ThirtyDays => Some(30 * 86_400),
            Self::Never => None,
        }
    }

    /// The wire spelling (`1d`, `7d`, `30d`, `never`).
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::OneDay => "1d",
            Self::SevenDays => "7d",
            Self::ThirtyDays => "30d",
            Self::Never => "never",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|e| e.as_str() == s)
    }

    /// For people: "1 day", "7 days", "30 days", "Never".
    pub const fn label(self) -> &'static str {
        match self {
            Self::OneDay => "1 day",
            Self::SevenDays => "7 days",
            Self::ThirtyDays => "30 days",
            Self::Never => "Never",
        }
    }
}

/// `POST /api/videos/{id}/shares`. The browser made the id and the secret and wrapped the video's
/// DEK for them (`crypto::share::wrap_dek_for_share`); the secret is not here.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CreateShareRequest {
    pub share_id: ShareId,
    pub wrapped_key: WrappedKey,
    #[serde(default)]
    pub expiry: ShareExpiry,
    #[serde(default)]
    pub allow_download: bool,
}

/// A share as its creator, the video's owner or an admin sees it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ShareInfo {
    pub share_id: ShareId,
    pub video_id: VideoId,
    /// Username of the member who made the link.
    pub created_by: String,
    /// Unix seconds.
    pub created_at: i64,
    /// Unix seconds; `None` never expires.
    pub expires_at: Option<i64>,
    pub allow_download: bool,
    /// Times the share page was opened.
    pub view_count: u64,
    /// Unix seconds, once withdrawn.
    pub revoked_at: Option<i64>,
    /// The video's title, sealed as in the library listing (open with `wrapped_dek` under the
    /// library key), so a list of shares can say which video each is for.
    pub title_sealed: String,
    /// The video's DEK wrapped under the library key (not the share's wrapping).
    pub wrapped_dek: WrappedKey,
}

impl ShareInfo {
    /// Works now: not withdrawn and not past its expiry.
    pub fn is_live(&self, now: i64) -> bool {
        self.revoked_at.is_none() && self.expires_at.is_none_or(|at| now < at)
    }
}

impl ShareInfo {
    /// The video's title, when it opens under the library `key` (trimmed; possibly empty).
    pub fn open_title(
        &self,
        key: &(impl crate::crypto::keys::OpensVideoKeys + ?Sized),
    ) -> Option<String> {
        let dek = key.open_video_key(&self.video_id, &self.wrapped_dek).ok()?;
        let sealed = hex::decode(&self.title_sealed).ok()?;
        let plain =
            crate::crypto::stream::open_all(&dek, &self.video_id, &crate::Purpose::Title, &sealed)
                .ok()?;
        Some(String::from_utf8_lossy(&plain).trim().to_owned())
    }

    /// One line for people: "Works until 2026-12-14 (UTC) · 3 views · can be saved",
    /// "Withdrawn on 2026-12-08 · 1 view", "Expired on …", "Never expires · …".
    pub fn status_line(&self, now: i64) -> String {
        let state = match (self.revoked_at, self.expires_at) {
            (Some(at), _) => format!("Withdrawn on {}", crate::api::utc_date(at)),
            (None, Some(at)) if now >= at => format!("Expired on {}", crate::api::utc_date(at)),
            (None, Some(at)) => format!("Works until {} (UTC)", crate::api::utc_date(at)),
            (None, None) => "Never expires".to_owned(),
        };
        let views = match self.view_count {
            1 => "1 view".to_owned(),
            n => format!("{n} views"),
        };
        let saving = if self.allow_download {
            "can be saved"
        } else {
            "watch only"
        };
        format!("{state} · {views} · {saving}")
    }
}

/// `GET /api/shares` and `GET /api/videos/{id}/shares`, newest first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ShareList {
    pub shares: Vec<ShareInfo>,
}

/// `GET /api/s/{share id}`: what the public share page needs, and nothing else of the library
/// (no owner, no other video, no comments).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SharedVideo {
    pub share_id: ShareId,
    /// Bound into every sealed stream of the video, so the page needs it to decrypt.
    pub video_id: VideoId,
    /// The DEK wrapped for this share (`crypto::share::unwrap_dek_for_share`).
    pub wrapped_key: WrappedKey,
    /// Hex of a sealed stream, `Purpose::Title`.
    pub title_sealed: String,
    pub duration_ms: Option<u64>,
    pub allow_download: bool,
    /// The published rendition (16 hex digits): it names the share's file URLs (see [`paths`]).
    pub rendition: String,
    pub has_thumb: bool,
    /// Plain size of the original, for the save (only when `allow_download`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub size_bytes: Option<u64>,
    /// Hex of a sealed stream, `Purpose::FileName`, for the saved file's name (only when
    /// `allow_download`, and when it was recorded).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub file_name_sealed: Option<String>,
}

/// The share-scoped URLs of a shared video's sealed files, authorised by the share id alone.
pub mod paths {
    use super::ShareId;

    /// `/api/s/{share}`: the share's facts.
    pub fn facts(share: &ShareId) -> String {
        format!("/api/s/{share}")
    }

    /// `POST /api/s/{share}/views`: one opening of the share page.
    pub fn views(share: &ShareId) -> String {
        format!("/api/s/{share}/views")
    }

    /// `/api/s/{share}/manifest?rendition={r}`.
    pub fn manifest(share: &ShareId, rendition: &str) -> String {
        format!("/api/s/{share}/manifest?rendition={rendition}")
    }

    /// `/api/s/{share}/thumb?rendition={r}`.
    pub fn thumb(share: &ShareId, rendition: &str) -> String {
        format!("/api/s/{share}/thumb?rendition={rendition}")
    }

    /// `/api/s/{share}/renditions/{r}/init`.
    pub fn init(share: &ShareId, rendition: &str) -> String {
        format!("/api/s/{share}/renditions/{rendition}/init")
    }

    /// `/api/s/{share}/renditions/{r}/segments/{n}`.
    pub fn segment(share: &ShareId, rendition: &str, index: u32) -> String {
        format!("/api/s/{share}/renditions/{rendition}/segments/{index}")
    }

    /// `/api/s/{share}/original`: the sealed original, only when the share allows saving.
    pub fn original(share: &ShareId) -> String {
        format!("/api/s/{share}/original")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn expiry_spellings_and_default() {
        assert_eq!(ShareExpiry::default(), ShareExpiry::SevenDays);
        for e in ShareExpiry::ALL {
            assert_eq!(ShareExpiry::parse(e.as_str()), Some(e));
            let json = serde_json::to_string(&e).unwrap();
            assert_eq!(json, format!("\"{}\"", e.as_str()));
        }
        assert_eq!(ShareExpiry::Never.seconds(), None);
        assert_eq!(ShareExpiry::OneDay.seconds(), Some(86_400));
        assert_eq!(ShareExpiry::parse("2d"), None);
    }

    #[test]
    fn a_status_line_says_whether_the_link_works() {
        let mut info = ShareInfo {
            share_id: ShareId::from_bytes([1; 16]),
            video_id: VideoId::from_bytes([2; 16]),
            created_by: "alice".into(),
            created_at: 1_795_996_800,
            expires_at: Some(1_795_996_800 + 86_400),
            allow_download: true,
            view_count: 1,
            revoked_at: None,
            title_sealed: String::new(),
            wrapped_dek: WrappedKey::from_bytes(&[0; WrappedKey::LEN]).unwrap(),
        };
        let now = 1_795_996_900;
        assert_eq!(
            info.status_line(now),
            "Works until 2026-12-01 (UTC) · 1 view · can be saved"
        );
        assert!(info.is_live(now));
        assert!(!info.is_live(now + 86_400));
        assert_eq!(
            info.status_line(now + 86_400),
            "Expired on 2026-12-01 · 1 view · can be saved"
        );
        info.revoked_at = Some(now);
        info.allow_download = false;
        info.view_count = 3;
        assert_eq!(
            info.status_line(now),
            "Withdrawn on 2026-11-30 · 3 views · watch only"
        );
        assert!(!info.is_live(now));
        info.revoked_at = None;
        info.expires_at = None;
        assert!(info.status_line(now).starts_with("Never expires"));
    }
}
