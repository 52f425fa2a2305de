//! Opening a video: its summary (title, uploader, date, size) and its manifest, decrypted here.
//! Nothing else: segments wait for Play.

use std::sync::Arc;

use cloister_shared::api::{utc_date, VideoStatus, VideoSummary};
use cloister_shared::Dek;
use leptos::prelude::*;

use crate::player::Source;
use crate::upload::progress::human_bytes;

/// An opened video as the view shows it.
pub struct Opened {
    pub summary: VideoSummary,
    /// The video's key, for its comments.
    pub dek: Dek,
    /// `Err`: the title does not open with this library's key.
    pub title: Result<String, &'static str>,
    /// The uploader's description, when there is one (and it opens).
    #[cfg_attr(not(feature = "hydrate"), allow(dead_code))]
    pub description: Option<String>,
    /// The name the file had when it was uploaded, when recorded.
    pub file_name: Option<String>,
    /// What Play needs, or why it cannot be played (yet).
    pub playable: Result<Arc<Source>, String>,
}

/// The open view's title and description as they are now: set when the video opens, after an
/// edit here, and when another tab's edit arrives (`VideoEdited`). Provided by the dialog as a
/// context; the edit action reads and sets it.
#[derive(Clone, Copy)]
pub struct LiveTexts {
    /// `None` until the video has opened.
    pub title: RwSignal<Option<Result<String, &'static str>>>,
    pub description: RwSignal<Option<String>>,
}

impl LiveTexts {
    pub fn new() -> Self {
        Self {
            title: RwSignal::new(None),
            description: RwSignal::new(None),
        }
    }

    pub fn show(&self, title: Result<String, &'static str>, description: Option<String>) {
        self.title.try_set(Some(title));
        self.description.try_set(description);
    }
}

impl Default for LiveTexts {
    fn default() -> Self {
        Self::new()
    }
}

/// "0:17", "4:05", "1:02:03".
pub fn clock(ms: u64) -> String {
    let seconds = (ms + 500) / 1000;
    let (h, m, s) = (seconds / 3600, seconds / 60 % 60, seconds % 60);
    if h > 0 {
        format!("{h}:{m:02}:{s:02}")
    } else {
        format!("{m}:{s:02}")
    }
}

/// Why a video that is not ready cannot be played, in the server's words (docs/api.md).
#[cfg_attr(not(feature = "hydrate"), allow(dead_code))]
pub fn not_ready(status: VideoStatus) -> String {
    let why = match status {
        VideoStatus::Uploading => "it is still being uploaded",
        VideoStatus::Uploaded => "it is waiting to be processed",
        VideoStatus::Processing | VideoStatus::Ready => "it is being processed",
        VideoStatus::Failed => "processing it failed",
    };
    format!("This video is not ready to play yet: {why}.")
}

/// Length, size, uploader, date and picture size.
#[component]
pub fn Facts(opened: Arc<Opened>) -> impl IntoView {
    let summary = &opened.summary;
    let length = opened
        .playable
        .as_ref()
        .ok()
        .map(|source| source.manifest.duration_ms)
        .or(summary.duration_ms)
        .map(clock);
    let picture = opened
        .playable
        .as_ref()
        .ok()
        .map(|source| format!("{} × {}", source.manifest.width, source.manifest.height));
    let fact = |label: &'static str, testid: &'static str, value: Option<String>| {
        value.map(|value| {
            view! {
                <div><dt>{label}</dt><dd data-testid=testid>{value}</dd></div>
            }
        })
    };
    view! {
        <dl class="video-facts">
            {fact("Length", "video-length", length)}
            {fact("Size", "video-size", Some(human_bytes(summary.size_bytes)))}
            {fact("Uploaded by", "video-owner", Some(summary.owner.clone()))}
            {fact("Date", "video-date", Some(utc_date(summary.created_at)))}
            {fact("Picture", "video-picture", picture)}
            {fact("File", "video-file-name", opened.file_name.clone())}
        </dl>
    }
}

#[cfg(feature = "hydrate")]
pub use browser::{open, reread_texts};

#[cfg(feature = "hydrate")]
mod browser {
    use cloister_shared::crypto::webcrypto;
    use cloister_shared::{Purpose, VideoId};

    use super::*;
    use crate::api;
    use crate::gallery::listing::title_text;
    use crate::keyring::Unlocked;
    use crate::player::retry::{with_retries, FetchError};
    use crate::player::sealed::{read_manifest, ManifestProblem};
    use crate::player::MANIFEST_UNDECRYPTABLE;

    const UNREACHABLE: &str = "The video could not be opened: the server could not be reached, even after several tries. Check your connection, then close the video and open it again.";

    fn fetch_failed(err: FetchError) -> String {
        match err {
            FetchError::Refused(message) => message,
            FetchError::Unreachable | FetchError::Abandoned => UNREACHABLE.to_owned(),
        }
    }

    /// The title and description as the server has them now, opened here (after an edit).
    pub async fn reread_texts(
        id: VideoId,
        key: &Unlocked,
    ) -> Result<(Result<String, &'static str>, Option<String>), String> {
        let summary = with_retries(|| api::video(&id), || false, |_| {})
            .await
            .map_err(fetch_failed)?;
        let description = summary
            .open_description(key)
            .filter(|text| !text.is_empty());
        Ok((title_text(key, &summary), description))
    }

    /// Fetches the summary and the manifest and opens them. `Err` is a message for the view.
    pub async fn open(id: VideoId, key: Unlocked) -> Result<Opened, String> {
        let summary = with_retries(|| api::video(&id), || false, |_| {})
            .await
            .map_err(fetch_failed)?;
        let title = title_text(&key, &summary);
        let description = summary
            .open_description(&key)
            .filter(|text| !text.is_empty());
        let file_name = summary.open_file_name(&key).filter(|name| !name.is_empty());
        let Ok(dek) = key.unwrap_dek(&id, &summary.wrapped_dek) else {
            return Err(MANIFEST_UNDECRYPTABLE.to_owned());
        };
        let (Some(url), Some(rendition), VideoStatus::Ready) = (
            summary.manifest_url(),
            summary.rendition.clone(),
            summary.status,
        ) else {
            let playable = Err(not_ready(summary.status));
            return Ok(Opened {
                summary,
                dek,
                title,
                description,
                file_name,
                playable,
            });
        };
        let sealed = with_retries(|| api::sealed_file(&url, None), || false, |_| {})
            .await
            .map_err(fetch_failed)?;
        let plain = webcrypto::open_all(&dek, &id, &Purpose::Manifest, &sealed)
            .await
            .map_err(|_| MANIFEST_UNDECRYPTABLE.to_owned())?;
        let manifest = read_manifest(&plain, &rendition).map_err(|problem| match problem {
            ManifestProblem::Unreadable => MANIFEST_UNDECRYPTABLE.to_owned(),
            ManifestProblem::NewerVersion => {
                "This video was prepared by a newer Cloister than this page. Reload the page."
                    .to_owned()
            }
        })?;
        let source = Source {
            video: id,
            dek: dek.clone(),
            manifest,
            files: crate::player::Files::Library,
        };
        Ok(Opened {
            summary,
            dek,
            title,
            description,
            file_name,
            playable: Ok(Arc::new(source)),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lengths_read_like_a_clock() {
        assert_eq!(clock(0), "0:00");
        assert_eq!(clock(17_040), "0:17");
        assert_eq!(clock(245_000), "4:05");
        assert_eq!(clock(3_723_000), "1:02:03");
    }

    #[test]
    fn a_video_not_ready_says_why() {
        assert_eq!(
            not_ready(VideoStatus::Processing),
            "This video is not ready to play yet: it is being processed."
        );
        assert_eq!(
            not_ready(VideoStatus::Failed),
            "This video is not ready to play yet: processing it failed."
        );
    }
}
