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

/// Prefixes a seed message with the video it is about, when the title is known.
pub fn about_video(title: Option<&str>, message: &str) -> String {
    match title {
        Some(title) if !title.is_empty() => format!("“{title}”: {message}"),
        _ => message.to_owned(),
    }
}

/// The server-busy banner: why the gate is closed, and what still works.
pub fn server_busy(reasons: &[String]) -> String {
    let mut line = "The server is busy".to_owned();
    if !reasons.is_empty() {
        line.push_str(": ");
        line.push_str(&reasons.join("; "));
    }
    line.push_str(
        ". New processing and server-side downloads wait until it has room; watching and saving \
         (decrypted in this browser) still work.",
    );
    line
}

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
        assert_eq!(about_video(Some("Beach"), "Failed."), "“Beach”: Failed.");
        assert_eq!(about_video(None, "Failed."), "Failed.");
    }

    #[test]
    fn the_busy_banner_gives_the_reasons() {
        let reasons = vec![
            "only 100 MB of RAM available".to_owned(),
            "RAM in use 90 %".to_owned(),
        ];
        assert!(server_busy(&reasons)
            .starts_with("The server is busy: only 100 MB of RAM available; RAM in use 90 %."));
        assert!(server_busy(&[]).starts_with("The server is busy. "));
    }

    #[test]
    fn segments_are_counted_from_one() {
        assert_eq!(
            original_undecryptable(0),
            "Unable to decrypt segment 1 of the original. Check passphrase."
        );
    }
}
