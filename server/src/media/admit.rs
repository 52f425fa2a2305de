//! What a file must be before ffmpeg decodes it, and the bounds of the run that does
//! (docs/processing.md, "Hostile files"): a real container format (never a playlist, a concat
//! list or a picture sequence, whose demuxers open other files), a picture of at most 4096×2304,
//! and a duration its size can hold. Everything here is decided from ffprobe's header reading
//! and the file's size, before any frame is decoded.

use super::probe::Probe;
use super::{MediaError, MediaTools};

/// The demuxers ffmpeg may use on an upload, by their first ffmpeg name: containers that hold
/// their media inside themselves. `mov` covers MP4/M4A/3GP, `matroska` WebM, `mpeg` MPEG-PS,
/// `asf` WMV.
pub(crate) const DEMUXERS: [&str; 8] = [
    "mov", "matroska", "avi", "mpegts", "flv", "ogg", "mpeg", "asf",
];

/// The largest picture decoded: DCI 4K and UHD fit; 8K would take most of the server's memory
/// in a few reference frames.
pub(crate) const MAX_PIXELS: u64 = 4096 * 2304;
/// The longest side: no real camera writes a 9000×16 picture.
pub(crate) const MAX_SIDE: u32 = 8192;
/// The lowest average rate a real video has, bytes a second: a 10-minute black 360p H.264 clip
/// is 650 B/s, five times more. A file claiming to last longer than its size allows at this
/// rate is lying, and a lie would set the time limit.
pub(crate) const MIN_BYTES_PER_SEC: f64 = 128.0;

/// Files a segmenting run may write beyond one per 2 s of video (segments are at least 4 s; the
/// init segment, playlist, thumbnail and ffmpeg's temporary names come on top).
const OUTPUT_FILES_BASE: u64 = 64;

/// ffmpeg's and ffprobe's `-format_whitelist`.
pub(crate) fn format_whitelist() -> String {
    DEMUXERS.join(",")
}

/// The demuxer to force (`-f`) for ffprobe's `format_name` (e.g. `mov,mp4,m4a,3gp,3g2,mj2` →
/// `mov`), or None when no name in it is allowed.
pub(crate) fn demuxer(format_name: &str) -> Option<&'static str> {
    format_name
        .split(',')
        .map(str::trim)
        .find_map(|name| DEMUXERS.iter().copied().find(|d| *d == name))
}

/// The bounds of the ffmpeg runs over an admitted file.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Bounds {
    /// `-f` for every run over the input.
    pub demuxer: &'static str,
    /// Seconds the time limit is computed from: the claimed duration, or, when there is none,
    /// the longest the file's size allows.
    pub duration: f64,
    /// The most all output files of a segmenting run may take together.
    pub output_bytes: u64,
    /// The most files it may write: a file whose frames run far past its claimed duration
    /// would otherwise fill the directory with tiny segments.
    pub output_files: u64,
}

/// Refuses what must not be decoded; otherwise the bounds for processing it.
pub(crate) fn admit(
    tools: &MediaTools,
    probe: &Probe,
    size_bytes: u64,
) -> Result<Bounds, MediaError> {
    let demuxer = demuxer(&probe.format_name).ok_or_else(unsupported_format)?;
    if let Some(video) = &probe.video {
        let pixels = u64::from(video.width) * u64::from(video.height);
        if pixels > MAX_PIXELS || video.width.max(video.height) > MAX_SIDE {
            return Err(MediaError::Refused(format!(
                "the picture is too large ({}×{}); at most 4096×2304 is accepted",
                video.width, video.height
            )));
        }
    }
    let most = size_bytes as f64 / MIN_BYTES_PER_SEC;
    let claimed = [
        probe.duration,
        probe.video.as_ref().and_then(|v| v.duration),
    ]
    .into_iter()
    .flatten()
    .fold(0.0_f64, f64::max);
    if claimed > most {
        return Err(MediaError::Refused(format!(
            "the file claims to last {}, more than a file of {} can hold",
            human_duration(claimed),
            human_size(size_bytes)
        )));
    }
    let duration = if claimed > 0.0 { claimed } else { most };
    Ok(Bounds {
        demuxer,
        duration,
        output_bytes: tools.output_limit(size_bytes, duration),
        output_files: OUTPUT_FILES_BASE.saturating_add((duration / 2.0).min(1e15) as u64),
    })
}

/// The reason for a format outside [`DEMUXERS`] (also when ffprobe's whitelist stopped it).
pub(crate) fn unsupported_format() -> MediaError {
    MediaError::Refused(
        "the file is not a video in a format Cloister accepts \
         (MP4, MOV, MKV, WebM, AVI, MPEG-TS, FLV, Ogg, MPEG or WMV)"
            .to_owned(),
    )
}

fn human_duration(secs: f64) -> String {
    let secs = secs.min(1e12) as u64;
    match secs {
        0..=119 => format!("{secs} seconds"),
        120..=7199 => format!("{} minutes", secs / 60),
        _ => format!("{} hours", secs / 3600),
    }
}

/// `1266 bytes`, `65 KB`, `70 MB`.
pub(crate) fn human_size(bytes: u64) -> String {
    match bytes {
        0..=9_999 => format!("{bytes} bytes"),
        10_000..=9_999_999 => format!("{} KB", bytes / 1000),
        _ => format!("{} MB", bytes / 1_000_000),
    }
}

#[cfg(test)]
mod tests {
    use super::super::probe::VideoStream;
    use super::*;

    fn probe(format: &str, w: u32, h: u32, duration: Option<f64>) -> Probe {
        Probe {
            format_name: format.into(),
            duration,
            video: Some(VideoStream {
                duration,
                ..VideoStream::example("h264", w, h)
            }),
            audio: None,
            recorded_at: None,
        }
    }

    #[test]
    fn only_real_containers_are_admitted() {
        assert_eq!(demuxer("mov,mp4,m4a,3gp,3g2,mj2"), Some("mov"));
        assert_eq!(demuxer("matroska,webm"), Some("matroska"));
        for hostile in ["hls", "concat", "image2", "png_pipe", "tty", "", "lavfi"] {
            assert_eq!(demuxer(hostile), None, "{hostile}");
            let refused = admit(
                &MediaTools::from_path(),
                &probe(hostile, 64, 64, None),
                1 << 20,
            );
            assert!(matches!(refused, Err(MediaError::Refused(_))), "{hostile}");
        }
    }

    #[test]
    fn pictures_and_claims_beyond_the_bounds_are_refused() {
        let tools = MediaTools::from_path();
        let mb = 1 << 20;
        let ok = admit(&tools, &probe("mov", 3840, 2160, Some(60.0)), 50 * mb).unwrap();
        assert_eq!(ok.demuxer, "mov");
        assert_eq!(ok.duration, 60.0);
        let eight_k = admit(&tools, &probe("mov", 7680, 4320, Some(60.0)), 50 * mb);
        let err = eight_k.unwrap_err();
        assert!(!err.retryable());
        assert_eq!(
            err.short_reason(),
            "the picture is too large (7680×4320); at most 4096×2304 is accepted"
        );
        assert!(admit(&tools, &probe("mov", 16, 9000, Some(1.0)), mb).is_err());
        // 10 KB claiming a week.
        let week = admit(
            &tools,
            &probe("matroska,webm", 64, 64, Some(7.0 * 86400.0)),
            10_000,
        );
        assert_eq!(
            week.unwrap_err().short_reason(),
            "the file claims to last 168 hours, more than a file of 10 KB can hold"
        );
        // No claim at all: the size bounds the time limit.
        let unknown = admit(&tools, &probe("mpegts", 64, 64, None), 12_800).unwrap();
        assert_eq!(unknown.duration, 100.0);
    }

    #[test]
    fn the_output_bound_follows_input_and_duration() {
        let tools = MediaTools::from_path();
        let small = admit(&tools, &probe("mov", 64, 64, Some(10.0)), 10_000).unwrap();
        assert!(small.output_bytes < 100 << 20, "{}", small.output_bytes);
        let big = admit(&tools, &probe("mov", 64, 64, Some(600.0)), 2 << 30).unwrap();
        assert!(big.output_bytes > 4 << 30, "{}", big.output_bytes);
        assert_eq!((small.output_files, big.output_files), (69, 364));
    }
}
