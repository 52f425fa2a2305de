//! The gallery's list: merging a fresh first page into what is shown, and opening titles (dates are
//! `cloister_shared::api::utc_date`, tested there).
//! Pure, so it is tested natively.

use cloister_shared::api::VideoSummary;
use cloister_shared::LibraryKey;

/// The videos shown, newest first, and where the next page starts.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Listing {
    pub videos: Vec<VideoSummary>,
    pub next_cursor: Option<String>,
    /// More than the first page was loaded ("Load more").
    pub extended: bool,
}

fn newest_first(a: &VideoSummary, b: &VideoSummary) -> std::cmp::Ordering {
    (b.created_at, b.video_id).cmp(&(a.created_at, a.video_id))
}

impl Listing {
    /// Takes a freshly fetched first page. Videos older than the page's end that "Load more"
    /// brought in are kept, with the cursor that follows them; everything the page covers is
    /// replaced, so an aborted upload disappears.
    pub fn replace_first_page(&mut self, videos: Vec<VideoSummary>, next_cursor: Option<String>) {
        if !self.extended || next_cursor.is_none() {
            *self = Self {
                videos,
                next_cursor,
                extended: false,
            };
            return;
        }
        let Some(oldest) = videos.last().map(|v| (v.created_at, v.video_id)) else {
            return;
        };
        let older: Vec<VideoSummary> = self
            .videos
            .drain(..)
            .filter(|v| (v.created_at, v.video_id) < oldest)
            .collect();
        self.videos = videos;
        self.videos.extend(older);
        self.videos.sort_by(newest_first);
    }

    /// Appends the page after the last one shown.
    pub fn append_page(&mut self, videos: Vec<VideoSummary>, next_cursor: Option<String>) {
        for video in videos {
            if !self.videos.iter().any(|v| v.video_id == video.video_id) {
                self.videos.push(video);
            }
        }
        self.videos.sort_by(newest_first);
        self.next_cursor = next_cursor;
        self.extended = true;
    }
}

/// What a tile shows as the title.
pub fn title_text(key: &LibraryKey, video: &VideoSummary) -> Result<String, &'static str> {
    match video.open_title(key) {
        Some(title) => Ok(if title.is_empty() {
            "Untitled".to_owned()
        } else {
            title
        }),
        None => Err("Cannot decrypt title"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use cloister_shared::api::VideoStatus;
    use cloister_shared::crypto::stream::{seal_all, DEFAULT_CHUNK_SIZE};
    use cloister_shared::{wrap_dek, Dek, Purpose, VideoId};

    fn summary(n: u8, created_at: i64) -> VideoSummary {
        let key = LibraryKey::from_bytes([7; 32]);
        let video_id = VideoId::from_bytes([n; 16]);
        let dek = Dek::generate().expect("dek");
        let title = seal_all(
            &dek,
            &video_id,
            &Purpose::Title,
            DEFAULT_CHUNK_SIZE,
            format!("Video {n}").as_bytes(),
        )
        .expect("seal");
        VideoSummary {
            video_id,
            status: VideoStatus::Ready,
            size_bytes: 1,
            created_at,
            title_sealed: hex::encode(title),
            wrapped_dek: wrap_dek(&key, &video_id, &dek).expect("wrap"),
            owner: "ann".to_owned(),
            duration_ms: None,
            has_thumb: false,
            rendition: None,
            description_sealed: None,
            file_name_sealed: None,
        }
    }

    fn ids(listing: &Listing) -> Vec<u8> {
        listing
            .videos
            .iter()
            .map(|v| v.video_id.as_bytes()[0])
            .collect()
    }

    #[test]
    fn a_fresh_first_page_replaces_a_single_page() {
        let mut listing = Listing::default();
        listing.replace_first_page(vec![summary(2, 20), summary(1, 10)], None);
        listing.replace_first_page(vec![summary(3, 30), summary(1, 10)], None);
        assert_eq!(ids(&listing), [3, 1], "video 2 was removed");
    }

    #[test]
    fn loaded_older_pages_survive_a_refresh_of_the_first() {
        let mut listing = Listing::default();
        listing.replace_first_page(vec![summary(4, 40), summary(3, 30)], Some("c1".into()));
        listing.append_page(vec![summary(2, 20), summary(1, 10)], Some("c2".into()));
        assert_eq!(ids(&listing), [4, 3, 2, 1]);
        // A new upload pushes video 3 off the first page.
        listing.replace_first_page(vec![summary(5, 50), summary(4, 40)], Some("c0".into()));
        assert_eq!(ids(&listing), [5, 4, 3, 2, 1]);
        assert_eq!(listing.next_cursor.as_deref(), Some("c2"));
    }

    #[test]
    fn titles_open_with_the_library_key_or_say_they_cannot() {
        let video = summary(1, 1);
        assert_eq!(
            title_text(&LibraryKey::from_bytes([7; 32]), &video).as_deref(),
            Ok("Video 1")
        );
        assert_eq!(
            title_text(&LibraryKey::from_bytes([8; 32]), &video),
            Err("Cannot decrypt title")
        );
    }
}
