//! Opening a listed video's title as a tile or the video view shows it.
//! Pure, so it is tested natively.

use cloister_shared::api::VideoSummary;
use cloister_shared::crypto::keys::OpensVideoKeys;

/// What a tile shows as the title.
pub fn title_text(
    key: &(impl OpensVideoKeys + ?Sized),
    video: &VideoSummary,
) -> Result<String, &'static str> {
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
    use cloister_shared::{wrap_dek, Dek, LibraryKey, Purpose, VideoId};

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
