//! The words of the notifications, pure so they are tested natively. The seed's messages
//! (docs/architecture.md) come from `cloister_shared`; these are the ones the browser adds.

/// A queued download can be fetched now.
pub fn download_ready(file_name: &str) -> String {
    format!("Your download of {file_name} is ready.")
}

/// A download link lapsed unused.
pub fn download_expired(file_name: &str) -> String {
    format!(
        "Your download link for {file_name} expired before it was used. Open the video to download it again."
    )
}

/// The member's own video finished processing.
pub fn processing_done(title: Option<&str>) -> String {
    match title {
        Some(title) if !title.is_empty() => format!("Your video “{title}” is ready to watch."),
        _ => "Your video is ready to watch.".to_owned(),
    }
}

/// Several of the member's videos became ready while the first toast was still up.
pub fn videos_ready(count: usize) -> String {
    format!("{count} videos are ready.")
}

/// The member's own video could not be processed, for good (a retry is not news yet).
pub fn processing_failed(title: Option<&str>, reason: &str) -> String {
    let video = match title {
        Some(title) if !title.is_empty() => format!("“{title}”"),
        _ => "Your video".to_owned(),
    };
    if reason.is_empty() {
        format!("{video} could not be processed. The original is kept.")
    } else {
        format!("{video} could not be processed: {reason}. The original is kept.")
    }
}

/// Several of the member's videos failed while the first toast was still up.
pub fn videos_failed(count: usize) -> String {
    format!("{count} videos could not be processed. The originals are kept.")
}

/// The busy banner: one sentence, with an estimate only when the server gave one (it gives none
/// when it cannot say honestly; docs/decisions.md, "One place for each piece of news").
pub fn server_busy(estimate_seconds: Option<u64>) -> String {
    let when = estimate_seconds.map_or_else(
        || " when the server is less busy".to_owned(),
        |seconds| format!(", {}", probably_within(seconds)),
    );
    format!(
        "The server is busy right now; your videos are safe and will be processed \
         automatically{when}."
    )
}

/// "probably within 5 minutes": rounded up, never "0 minutes".
pub fn probably_within(seconds: u64) -> String {
    let minutes = seconds.div_ceil(60).max(1);
    match minutes {
        1 => "probably within a minute".to_owned(),
        2..=90 => format!("probably within {minutes} minutes"),
        _ => format!("probably within {} hours", minutes.div_ceil(60)),
    }
}

/// The banner's details, after the plain reasons: what still works meanwhile.
pub const SERVER_BUSY_STILL_WORKS: &str = "Uploading, watching and saving a video (decrypted in \
     this browser) still work. Downloads the server prepares wait, like processing.";

/// A queued download's line: the brief's words, with the position when known.
pub fn download_queued(position: Option<u64>) -> String {
    match position {
        Some(position) => {
            format!("Queued — position {position}. We'll tell you when it's ready.")
        }
        None => "Queued. We'll tell you when it's ready.".to_owned(),
    }
}

/// A chunk of the original that does not open ("segment" for people; counted from 1).
pub fn original_undecryptable(index: u64) -> String {
    format!(
        "Unable to decrypt segment {} of the original. Check passphrase.",
        index.saturating_add(1)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn download_words() {
        assert_eq!(
            download_ready("Holiday.mp4"),
            "Your download of Holiday.mp4 is ready."
        );
        assert!(download_expired("a.mkv").starts_with("Your download link for a.mkv expired"));
        assert_eq!(
            download_queued(Some(2)),
            "Queued — position 2. We'll tell you when it's ready."
        );
        assert_eq!(
            download_queued(None),
            "Queued. We'll tell you when it's ready."
        );
    }

    #[test]
    fn processing_words_name_the_video_when_known() {
        assert_eq!(
            processing_done(Some("Beach")),
            "Your video “Beach” is ready to watch."
        );
        assert_eq!(processing_done(None), "Your video is ready to watch.");
        assert_eq!(processing_done(Some("")), "Your video is ready to watch.");
        assert_eq!(videos_ready(3), "3 videos are ready.");
        assert_eq!(
            processing_failed(Some("Beach"), "the file is not a video"),
            "“Beach” could not be processed: the file is not a video. The original is kept."
        );
        assert_eq!(
            processing_failed(None, ""),
            "Your video could not be processed. The original is kept."
        );
        assert_eq!(
            videos_failed(2),
            "2 videos could not be processed. The originals are kept."
        );
    }

    #[test]
    fn the_busy_banner_gives_a_number_only_when_the_server_does() {
        assert_eq!(
            server_busy(Some(290)),
            "The server is busy right now; your videos are safe and will be processed \
             automatically, probably within 5 minutes."
        );
        assert_eq!(
            server_busy(None),
            "The server is busy right now; your videos are safe and will be processed \
             automatically when the server is less busy."
        );
        assert_eq!(probably_within(0), "probably within a minute");
        assert_eq!(probably_within(61), "probably within 2 minutes");
        assert_eq!(probably_within(90 * 60), "probably within 90 minutes");
        assert_eq!(probably_within(91 * 60), "probably within 2 hours");
    }

    #[test]
    fn segments_are_counted_from_one() {
        assert_eq!(
            original_undecryptable(0),
            "Unable to decrypt segment 1 of the original. Check passphrase."
        );
    }
}
