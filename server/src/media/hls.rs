//! Reading the VOD playlist ffmpeg's HLS muxer wrote: the init segment's name and each media
//! segment's name and `#EXTINF` duration. The durations are checked but not used: they are the
//! muxer's guess; `fragments` reads the real ones.

/// The playlist's content.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Playlist {
    /// `#EXT-X-MAP:URI="…"`.
    pub init: Option<String>,
    /// (file name, duration in seconds), in order.
    pub segments: Vec<(String, f64)>,
}

/// Parses the playlist. Every name must be a plain file name (no directories), every duration a
/// finite number ≥ 0; anything else is an error naming the line.
pub(crate) fn parse(text: &str) -> Result<Playlist, String> {
    let mut init = None;
    let mut segments = Vec::new();
    let mut pending: Option<f64> = None;
    for (n, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() {
            continue;
        }
        if let Some(rest) = line.strip_prefix("#EXTINF:") {
            let value = rest.split(',').next().unwrap_or_default().trim();
            let seconds: f64 = value
                .parse()
                .map_err(|_| format!("line {}: bad EXTINF duration", n + 1))?;
            if !seconds.is_finite() || seconds < 0.0 {
                return Err(format!("line {}: bad EXTINF duration", n + 1));
            }
            pending = Some(seconds);
        } else if let Some(rest) = line.strip_prefix("#EXT-X-MAP:") {
            let uri = attribute(rest, "URI")
                .ok_or_else(|| format!("line {}: EXT-X-MAP without URI", n + 1))?;
            init = Some(plain_name(uri).ok_or_else(|| format!("line {}: bad init name", n + 1))?);
        } else if line.starts_with('#') {
            // Other tags (#EXTM3U, #EXT-X-VERSION, #EXT-X-ENDLIST, …) say nothing we need.
        } else {
            let seconds = pending
                .take()
                .ok_or_else(|| format!("line {}: a segment without EXTINF", n + 1))?;
            let name =
                plain_name(line).ok_or_else(|| format!("line {}: bad segment name", n + 1))?;
            segments.push((name, seconds));
        }
    }
    Ok(Playlist { init, segments })
}

/// The value of `KEY="value"` or `KEY=value` in an attribute list.
fn attribute<'a>(list: &'a str, key: &str) -> Option<&'a str> {
    let mut rest = list;
    while !rest.is_empty() {
        let (name, after) = rest.split_once('=')?;
        let (value, next) = if let Some(quoted) = after.strip_prefix('"') {
            let (value, tail) = quoted.split_once('"')?;
            (value, tail.strip_prefix(',').unwrap_or(tail))
        } else {
            match after.split_once(',') {
                Some((value, tail)) => (value, tail),
                None => (after, ""),
            }
        };
        if name.trim() == key {
            return Some(value);
        }
        rest = next;
    }
    None
}

/// A name ffmpeg wrote into the work directory: letters, digits, `.`, `_`, `-`; not hidden.
fn plain_name(name: &str) -> Option<String> {
    let ok = !name.is_empty()
        && name.len() <= 255
        && !name.starts_with('.')
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'));
    ok.then(|| name.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    const PLAYLIST: &str = "#EXTM3U\n#EXT-X-VERSION:7\n#EXT-X-TARGETDURATION:4\n\
        #EXT-X-MEDIA-SEQUENCE:0\n#EXT-X-PLAYLIST-TYPE:VOD\n#EXT-X-MAP:URI=\"init.mp4\"\n\
        #EXTINF:4.000000,\nseg00000.m4s\n#EXTINF:1.040000,\nseg00001.m4s\n#EXT-X-ENDLIST\n";

    #[test]
    fn ffmpegs_playlist_is_read() {
        let p = parse(PLAYLIST).unwrap();
        assert_eq!(p.init.as_deref(), Some("init.mp4"));
        assert_eq!(
            p.segments,
            vec![
                ("seg00000.m4s".to_owned(), 4.0),
                ("seg00001.m4s".to_owned(), 1.04)
            ]
        );
    }

    #[test]
    fn paths_and_bad_durations_are_refused() {
        assert!(parse("#EXTINF:4,\n../etc/passwd\n").is_err());
        assert!(parse("#EXTINF:4,\n/abs.m4s\n").is_err());
        assert!(parse("#EXTINF:-1,\na.m4s\n").is_err());
        assert!(parse("#EXTINF:nan,\na.m4s\n").is_err());
        assert!(parse("#EXTINF:inf,\na.m4s\n").is_err());
        assert!(parse("a.m4s\n").is_err());
        assert!(parse("#EXT-X-MAP:URI=\"../x\"\n").is_err());
        assert!(parse("#EXT-X-MAP:BYTERANGE=\"1@0\"\n").is_err());
        assert!(parse("#EXTINF:\u{fffd}\n").is_err());
    }

    #[test]
    fn attributes_are_found_in_any_order() {
        assert_eq!(
            attribute("BYTERANGE=\"10@0\",URI=\"i.mp4\"", "URI"),
            Some("i.mp4")
        );
        assert_eq!(attribute("URI=i.mp4", "URI"), Some("i.mp4"));
        assert_eq!(attribute("URI=\"unterminated", "URI"), None);
    }
}
