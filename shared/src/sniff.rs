//! Is this file a video? A look at its first bytes, before anything is sent (docs/uploads.md,
//! "Before sending"). It only warns: the member may upload anyway, and processing (ffmpeg) has
//! the last word. The browser and `cloister upload` both ask this.

/// How many leading bytes [`sniff`] looks at (more are ignored; fewer are fine).
pub const SNIFF_LEN: usize = 1024;

/// What the first bytes say.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sniffed {
    /// A container Cloister's processing reads: "MP4", "QuickTime", "Matroska or WebM", …
    Video(&'static str),
    /// Clearly something else, named for people: "a JPEG picture", "a PDF document", …
    NotVideo(&'static str),
    /// No signature known either way (a rare container, or a file of another kind).
    Unknown,
}

impl Sniffed {
    /// The warning to show, or `None` when the file looks like a video.
    pub fn warning(&self) -> Option<String> {
        match self {
            Sniffed::Video(_) => None,
            Sniffed::NotVideo(what) => Some(format!(
                "This does not look like a video: it starts like {what}."
            )),
            Sniffed::Unknown => Some(
                "This does not look like a video: it is not in a format Cloister knows (MP4, MOV, MKV, WebM, AVI, MPEG)."
                    .to_owned(),
            ),
        }
    }
}

/// ISO base-media brands that are pictures or sound, not video (a HEIC photo is an `ftyp` file).
const STILL_OR_AUDIO_BRANDS: [(&[u8; 4], &str); 7] = [
    (b"heic", "a HEIC picture"),
    (b"heix", "a HEIC picture"),
    (b"mif1", "a HEIF picture"),
    (b"msf1", "a HEIF picture sequence"),
    (b"avif", "an AVIF picture"),
    (b"M4A ", "an M4A sound file"),
    (b"M4B ", "an audiobook"),
];

/// QuickTime files from before `ftyp` start straight with one of these atoms.
const QUICKTIME_ATOMS: [&[u8; 4]; 6] = [b"moov", b"mdat", b"wide", b"free", b"skip", b"pnot"];

/// Looks at the first bytes of a file (up to [`SNIFF_LEN`]).
pub fn sniff(head: &[u8]) -> Sniffed {
    let head = head.get(..SNIFF_LEN).unwrap_or(head);
    let at = |offset: usize, magic: &[u8]| head.get(offset..offset + magic.len()) == Some(magic);
    if head.is_empty() {
        return Sniffed::NotVideo("an empty file");
    }
    if at(4, b"ftyp") {
        let brand = head.get(8..12).unwrap_or_default();
        if let Some((_, what)) = STILL_OR_AUDIO_BRANDS.iter().find(|(b, _)| &b[..] == brand) {
            return Sniffed::NotVideo(what);
        }
        return Sniffed::Video(if brand == b"qt  " { "QuickTime" } else { "MP4" });
    }
    if QUICKTIME_ATOMS.iter().any(|atom| at(4, &atom[..])) {
        return Sniffed::Video("QuickTime");
    }
    if at(0, &[0x1A, 0x45, 0xDF, 0xA3]) {
        return Sniffed::Video("Matroska or WebM");
    }
    if at(0, b"RIFF") {
        return match head.get(8..12) {
            Some(b"AVI ") => Sniffed::Video("AVI"),
            Some(b"WAVE") => Sniffed::NotVideo("a WAV sound file"),
            Some(b"WEBP") => Sniffed::NotVideo("a WebP picture"),
            _ => Sniffed::Unknown,
        };
    }
    // MPEG transport stream: a sync byte every 188 bytes (192 for M2TS/AVCHD, 4 bytes in).
    if is_transport_stream(head, 0, 188) || is_transport_stream(head, 4, 192) {
        return Sniffed::Video("MPEG transport stream");
    }
    if at(0, &[0x00, 0x00, 0x01, 0xBA]) {
        return Sniffed::Video("MPEG program stream");
    }
    if at(0, b"FLV") {
        return Sniffed::Video("Flash video");
    }
    if at(0, &[0x30, 0x26, 0xB2, 0x75, 0x8E, 0x66, 0xCF, 0x11]) {
        return Sniffed::Video("Windows Media");
    }
    if at(0, b"OggS") {
        // Ogg holds Theora video, but far more often Vorbis or Opus sound: let ffmpeg decide.
        return Sniffed::Video("Ogg");
    }
    not_video(head, &at)
}

fn is_transport_stream(head: &[u8], offset: usize, packet: usize) -> bool {
    (0..3).all(|n| head.get(offset + n * packet) == Some(&0x47))
}

fn not_video(head: &[u8], at: &dyn Fn(usize, &[u8]) -> bool) -> Sniffed {
    const KNOWN: [(usize, &[u8], &str); 12] = [
        (0, &[0xFF, 0xD8, 0xFF], "a JPEG picture"),
        (0, b"\x89PNG\r\n\x1a\n", "a PNG picture"),
        (0, b"GIF8", "a GIF picture"),
        (0, b"%PDF", "a PDF document"),
        (0, b"PK\x03\x04", "a ZIP archive (or an office document)"),
        (0, b"ID3", "an MP3 sound file"),
        (0, b"fLaC", "a FLAC sound file"),
        (0, &[0x1F, 0x8B], "a compressed (gzip) file"),
        (0, b"7z\xBC\xAF\x27\x1C", "a 7-Zip archive"),
        (0, b"Rar!", "a RAR archive"),
        (0, b"\x7fELF", "a program"),
        (0, b"MZ", "a Windows program"),
    ];
    if let Some((_, _, what)) = KNOWN.iter().find(|(offset, magic, _)| at(*offset, magic)) {
        return Sniffed::NotVideo(what);
    }
    if looks_like_text(head) {
        return Sniffed::NotVideo("a text file");
    }
    Sniffed::Unknown
}

/// UTF-8 with no control characters other than tab, newline and carriage return. A cut at
/// `SNIFF_LEN` may split the last character: that tail is forgiven.
fn looks_like_text(head: &[u8]) -> bool {
    let text = match std::str::from_utf8(head) {
        Ok(text) => text,
        Err(err) if err.error_len().is_none() => {
            std::str::from_utf8(&head[..err.valid_up_to()]).unwrap_or_default()
        }
        Err(_) => return false,
    };
    !text.is_empty()
        && text
            .chars()
            .all(|c| !c.is_control() || matches!(c, '\t' | '\n' | '\r'))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ftyp(brand: &[u8; 4]) -> Vec<u8> {
        let mut head = vec![0, 0, 0, 0x20];
        head.extend_from_slice(b"ftyp");
        head.extend_from_slice(brand);
        head.extend_from_slice(&[0; 20]);
        head
    }

    #[test]
    fn video_containers_are_recognised() {
        assert_eq!(sniff(&ftyp(b"isom")), Sniffed::Video("MP4"));
        assert_eq!(sniff(&ftyp(b"qt  ")), Sniffed::Video("QuickTime"));
        assert_eq!(
            sniff(b"\0\0\0\x08wide\0\0\0\x10mdat"),
            Sniffed::Video("QuickTime")
        );
        assert_eq!(
            sniff(&[0x1A, 0x45, 0xDF, 0xA3, 0x9F, 0x42, 0x86, 0x81]),
            Sniffed::Video("Matroska or WebM")
        );
        assert_eq!(sniff(b"RIFF\x10\0\0\0AVI LIST"), Sniffed::Video("AVI"));
        let mut ts = vec![0u8; 600];
        for n in 0..3 {
            ts[n * 188] = 0x47;
        }
        assert_eq!(sniff(&ts), Sniffed::Video("MPEG transport stream"));
        let mut m2ts = vec![0u8; 600];
        for n in 0..3 {
            m2ts[4 + n * 192] = 0x47;
        }
        assert_eq!(sniff(&m2ts), Sniffed::Video("MPEG transport stream"));
        assert_eq!(
            sniff(&[0, 0, 1, 0xBA, 0x44]),
            Sniffed::Video("MPEG program stream")
        );
        assert!(sniff(&ftyp(b"mp42")).warning().is_none());
    }

    #[test]
    fn pictures_sound_documents_and_text_are_not_videos() {
        assert_eq!(sniff(&ftyp(b"heic")), Sniffed::NotVideo("a HEIC picture"));
        assert_eq!(
            sniff(&ftyp(b"M4A ")),
            Sniffed::NotVideo("an M4A sound file")
        );
        assert_eq!(
            sniff(b"\xFF\xD8\xFF\xE0\0\x10JFIF"),
            Sniffed::NotVideo("a JPEG picture")
        );
        assert_eq!(
            sniff(b"\x89PNG\r\n\x1a\n\0\0"),
            Sniffed::NotVideo("a PNG picture")
        );
        assert_eq!(sniff(b"%PDF-1.7\n"), Sniffed::NotVideo("a PDF document"));
        assert_eq!(
            sniff(b"RIFF\x10\0\0\0WAVEfmt "),
            Sniffed::NotVideo("a WAV sound file")
        );
        assert_eq!(
            sniff(b"Hello, this is my shopping list.\n"),
            Sniffed::NotVideo("a text file")
        );
        assert_eq!(
            sniff("Grüße — 日本".as_bytes()),
            Sniffed::NotVideo("a text file")
        );
        assert_eq!(sniff(b""), Sniffed::NotVideo("an empty file"));
        assert_eq!(
            sniff(b"%PDF-1.7").warning().as_deref(),
            Some("This does not look like a video: it starts like a PDF document.")
        );
    }

    #[test]
    fn text_cut_mid_character_is_still_text_but_binary_is_unknown() {
        let mut text = "é".repeat(SNIFF_LEN).into_bytes();
        text.truncate(SNIFF_LEN + 1);
        assert_eq!(sniff(&text), Sniffed::NotVideo("a text file"));
        let binary: Vec<u8> = (0..=255u8).cycle().skip(3).take(900).collect();
        assert_eq!(sniff(&binary), Sniffed::Unknown);
        assert!(Sniffed::Unknown.warning().is_some());
    }
}
