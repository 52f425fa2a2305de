//! ffprobe: what streams the input holds. The JSON is read leniently (numbers may come as strings,
//! any field may be missing) and never trusted to be well-formed.

use std::ffi::OsString;
use std::path::Path;
use std::time::Duration;

use serde_json::Value;
use tokio_util::sync::CancellationToken;

use super::run::Output;
use super::run::{self, Run, Stdout};
use super::{admit, input_arg, input_guards, sanitize, MediaError, MediaTools};

/// Probing reads headers only; a probe taking longer than this is stuck.
const PROBE_TIME_LIMIT: Duration = Duration::from_secs(120);

/// What ffprobe found.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Probe {
    /// e.g. `mov,mp4,m4a,3gp,3g2,mj2`, `matroska,webm`, `png_pipe`.
    pub format_name: String,
    /// Seconds; the container's, else the longest stream's.
    pub duration: Option<f64>,
    pub video: Option<VideoStream>,
    pub audio: Option<AudioStream>,
    /// When the video was recorded: the container's `creation_time` tag.
    pub recorded_at: Option<RecordedAt>,
}

/// A recording time, Unix seconds. Its `Debug` does not print it: the probe is logged, and the
/// recording time is sealed for the browser only (docs/format.md, "Sealed metadata").
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct RecordedAt(pub i64);

impl std::fmt::Debug for RecordedAt {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("RecordedAt(…)")
    }
}

/// Reads ffprobe's `creation_time` tag: RFC 3339 (`2024-05-01T10:00:00.000000Z`), or the older
/// `2024-05-01 10:00:00` without a zone, taken as UTC. A time before 1971 is a camera that never
/// had its clock set (MP4's zero is 1904, some write 1970) and counts as none.
pub(crate) fn parse_creation_time(raw: &str) -> Option<RecordedAt> {
    use time::format_description::well_known::Rfc3339;
    let raw = raw.trim();
    let with_t = raw.replacen(' ', "T", 1);
    let has_zone = with_t
        .get(19..)
        .is_some_and(|rest| rest.contains(['Z', 'z', '+', '-']));
    let candidate = if has_zone {
        with_t
    } else {
        format!("{with_t}Z")
    };
    let at = time::OffsetDateTime::parse(&candidate, &Rfc3339).ok()?;
    let seconds = at.unix_timestamp();
    (seconds >= 31_536_000).then_some(RecordedAt(seconds))
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) struct VideoStream {
    pub index: u32,
    pub codec: String,
    pub profile: String,
    pub pix_fmt: String,
    /// Coded (stored) size, before the sample aspect ratio and rotation.
    pub width: u32,
    pub height: u32,
    /// Sample aspect ratio; (1, 1) when absent or unknown.
    pub sar: (u32, u32),
    /// Degrees from the display matrix or the `rotate` tag; 0 when there is none.
    pub rotation: f64,
    pub bits_per_raw_sample: Option<u32>,
    pub duration: Option<f64>,
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) struct AudioStream {
    pub index: u32,
    pub codec: String,
    pub profile: String,
    pub sample_rate: Option<u32>,
    pub channels: Option<u32>,
}

impl VideoStream {
    /// True when the picture is turned by a quarter turn (90° or 270°) for display.
    pub fn quarter_turned(&self) -> bool {
        let quarters = (self.rotation / 90.0).round() as i64;
        quarters.rem_euclid(2) == 1
    }

    /// True when any rotation is asked for (also odd angles, which are not multiples of 90°).
    pub fn rotated(&self) -> bool {
        let r = self.rotation.rem_euclid(360.0);
        r.is_finite() && r.abs() > 0.5 && (r - 360.0).abs() > 0.5
    }

    /// The size a player shows: the sample aspect ratio applied to the width, then the rotation.
    pub fn display_size(&self) -> (u32, u32) {
        let (num, den) = self.sar;
        let width = if num > 0 && den > 0 && num != den {
            let w = (f64::from(self.width) * f64::from(num) / f64::from(den)).round();
            if w.is_finite() && w >= 1.0 && w <= f64::from(u32::MAX) {
                w as u32
            } else {
                self.width
            }
        } else {
            self.width
        };
        if self.quarter_turned() {
            (self.height, width)
        } else {
            (width, self.height)
        }
    }
}

#[cfg(test)]
impl VideoStream {
    /// An 8-bit High-profile 4:2:0 stream of 5 s, for tests.
    pub fn example(codec: &str, width: u32, height: u32) -> Self {
        Self {
            index: 0,
            codec: codec.into(),
            profile: "High".into(),
            pix_fmt: "yuv420p".into(),
            width,
            height,
            sar: (1, 1),
            rotation: 0.0,
            bits_per_raw_sample: Some(8),
            duration: Some(5.0),
        }
    }
}

/// Runs ffprobe on `input` (an absolute path).
pub(crate) async fn probe(
    tools: &MediaTools,
    input: &Path,
    cancel: &CancellationToken,
) -> Result<Probe, MediaError> {
    let mut args: Vec<OsString> = vec![
        "-v".into(),
        "error".into(),
        "-hide_banner".into(),
        "-of".into(),
        "json".into(),
        "-show_format".into(),
        "-show_streams".into(),
    ];
    // ffprobe picks the demuxer by probing; the whitelist stops it before a playlist's or a
    // concat list's demuxer opens the files they name.
    args.extend(input_guards());
    args.push(input_arg(input));
    let finished = run::run(Run {
        name: "ffprobe",
        program: &tools.ffprobe,
        args,
        cwd: None,
        nice: false,
        limit: PROBE_TIME_LIMIT,
        memory: tools.memory_limit,
        output: Output::File(0),
        cancel,
        stdout: Stdout::Collect,
    })
    .await?;
    if !finished.success() {
        return Err(classify_failure(&finished.stderr, input));
    }
    let json = String::from_utf8_lossy(&finished.stdout);
    parse(&json)
}

/// Why ffprobe could not read the input: a damaged file of a known kind, or no media at all.
fn classify_failure(stderr: &str, input: &Path) -> MediaError {
    let lower = stderr.to_ascii_lowercase();
    if lower.contains("format not on whitelist") {
        return admit::unsupported_format();
    }
    if super::out_of_memory(&lower) {
        return MediaError::OutOfMemory(sanitize(stderr, input));
    }
    let damaged = [
        "moov atom not found",
        "partial file",
        "end of file",
        "truncat",
        "could not find codec parameters",
    ];
    if damaged.iter().any(|m| lower.contains(m)) {
        MediaError::Unreadable(sanitize(stderr, input))
    } else if lower.contains("invalid data found when processing input") {
        MediaError::NotAVideo
    } else if stderr.trim().is_empty() {
        MediaError::Tool("ffprobe failed without a message".to_owned())
    } else {
        MediaError::Unreadable(sanitize(stderr, input))
    }
}

/// Parses `ffprobe -of json -show_format -show_streams`.
pub(crate) fn parse(json: &str) -> Result<Probe, MediaError> {
    let root: Value = serde_json::from_str(json)
        .map_err(|err| MediaError::Tool(format!("ffprobe printed unreadable JSON: {err}")))?;
    let format = root.get("format");
    let format_name = format
        .and_then(|f| f.get("format_name"))
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_owned();
    let streams: &[Value] = root
        .get("streams")
        .and_then(Value::as_array)
        .map(Vec::as_slice)
        .unwrap_or_default();

    let videos: Vec<&Value> = streams
        .iter()
        .filter(|s| str_field(s, "codec_type") == "video")
        // Cover art in an audio file is a "video" stream of one picture.
        .filter(|s| disposition(s, "attached_pic") != 1)
        .collect();
    let audios: Vec<&Value> = streams
        .iter()
        .filter(|s| str_field(s, "codec_type") == "audio")
        .collect();
    let pick = |list: &[&Value]| -> Option<Value> {
        list.iter()
            .find(|s| disposition(s, "default") == 1)
            .or_else(|| list.first())
            .map(|s| (*s).clone())
    };

    let video = pick(&videos).and_then(|s| {
        Some(VideoStream {
            index: u32_field(&s, "index")?,
            codec: str_field(&s, "codec_name").to_owned(),
            profile: str_field(&s, "profile").to_owned(),
            pix_fmt: str_field(&s, "pix_fmt").to_owned(),
            width: u32_field(&s, "width").unwrap_or(0),
            height: u32_field(&s, "height").unwrap_or(0),
            sar: parse_ratio(str_field(&s, "sample_aspect_ratio")).unwrap_or((1, 1)),
            rotation: rotation(&s),
            bits_per_raw_sample: u32_field(&s, "bits_per_raw_sample"),
            duration: f64_field(&s, "duration").filter(|d| *d > 0.0),
        })
    });
    let audio = pick(&audios).and_then(|s| {
        Some(AudioStream {
            index: u32_field(&s, "index")?,
            codec: str_field(&s, "codec_name").to_owned(),
            profile: str_field(&s, "profile").to_owned(),
            sample_rate: u32_field(&s, "sample_rate"),
            channels: u32_field(&s, "channels"),
        })
    });

    let stream_duration = streams
        .iter()
        .filter_map(|s| f64_field(s, "duration"))
        .filter(|d| *d > 0.0)
        .fold(None, |acc: Option<f64>, d| {
            Some(acc.map_or(d, |a| a.max(d)))
        });
    let duration = format
        .and_then(|f| f64_field(f, "duration"))
        .filter(|d| *d > 0.0)
        .or(stream_duration);

    let recorded_at = format
        .and_then(|f| f.get("tags"))
        .and_then(|t| t.get("creation_time"))
        .and_then(Value::as_str)
        .and_then(parse_creation_time);

    Ok(Probe {
        format_name,
        duration,
        video,
        audio,
        recorded_at,
    })
}

fn str_field<'a>(v: &'a Value, key: &str) -> &'a str {
    v.get(key).and_then(Value::as_str).unwrap_or_default()
}

/// A number that ffprobe prints either as a JSON number or as a string.
fn f64_field(v: &Value, key: &str) -> Option<f64> {
    let value = v.get(key)?;
    let n = match value {
        Value::Number(n) => n.as_f64()?,
        Value::String(s) => s.trim().parse::<f64>().ok()?,
        _ => return None,
    };
    n.is_finite().then_some(n)
}

fn u32_field(v: &Value, key: &str) -> Option<u32> {
    let n = f64_field(v, key)?;
    (n >= 0.0 && n <= f64::from(u32::MAX) && n.fract() == 0.0).then_some(n as u32)
}

fn disposition(v: &Value, key: &str) -> i64 {
    v.get("disposition")
        .and_then(|d| d.get(key))
        .and_then(Value::as_i64)
        .unwrap_or(0)
}

/// `16:9` → (16, 9); `0:1`, `N/A` and the like → None.
fn parse_ratio(s: &str) -> Option<(u32, u32)> {
    let (n, d) = s.split_once(':')?;
    let (n, d) = (n.trim().parse::<u32>().ok()?, d.trim().parse::<u32>().ok()?);
    (n > 0 && d > 0).then_some((n, d))
}

/// Rotation from the display matrix side data (ffmpeg 5+) or the legacy `rotate` tag (older
/// ffmpeg and some files). The first non-zero one wins.
fn rotation(stream: &Value) -> f64 {
    let from_side_data = stream
        .get("side_data_list")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|sd| f64_field(sd, "rotation"))
        .find(|r| *r != 0.0);
    let from_tag = stream.get("tags").and_then(|t| f64_field(t, "rotate"));
    from_side_data
        .or(from_tag.filter(|r| *r != 0.0))
        .unwrap_or(0.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    const ROTATED: &str = r#"{
      "streams": [
        {"index": 0, "codec_name": "h264", "profile": "High", "codec_type": "video",
         "width": 640, "height": 360, "sample_aspect_ratio": "1:1", "pix_fmt": "yuv420p",
         "duration": "4.000000", "bits_per_raw_sample": "8",
         "disposition": {"default": 1, "attached_pic": 0},
         "side_data_list": [{"side_data_type": "Display Matrix", "rotation": -90}]},
        {"index": 1, "codec_name": "aac", "profile": "LC", "codec_type": "audio",
         "sample_rate": "44100", "channels": 1, "duration": "4.010000",
         "disposition": {"default": 1, "attached_pic": 0}}
      ],
      "format": {"format_name": "mov,mp4,m4a,3gp,3g2,mj2", "duration": "4.010000"}
    }"#;

    #[test]
    fn a_rotated_stream_displays_turned() {
        let p = parse(ROTATED).unwrap();
        let v = p.video.unwrap();
        assert_eq!(v.index, 0);
        assert!(v.rotated());
        assert!(v.quarter_turned());
        assert_eq!(v.display_size(), (360, 640));
        assert_eq!(v.bits_per_raw_sample, Some(8));
        let a = p.audio.unwrap();
        assert_eq!(
            (a.index, a.codec.as_str(), a.sample_rate),
            (1, "aac", Some(44100))
        );
        assert_eq!(p.duration, Some(4.01));
    }

    #[test]
    fn the_rotate_tag_counts_too() {
        let json = r#"{"streams": [{"index": 0, "codec_type": "video", "width": 10,
            "height": 20, "tags": {"rotate": "270"}}], "format": {}}"#;
        let v = parse(json).unwrap().video.unwrap();
        assert!(v.rotated());
        assert_eq!(v.display_size(), (20, 10));
        let upside_down = r#"{"streams": [{"index": 0, "codec_type": "video", "width": 10,
            "height": 20, "tags": {"rotate": "180"}}], "format": {}}"#;
        let v = parse(upside_down).unwrap().video.unwrap();
        assert!(v.rotated() && !v.quarter_turned());
    }

    #[test]
    fn cover_art_is_not_a_video_and_the_sample_aspect_ratio_widens() {
        let json = r#"{"streams": [
            {"index": 0, "codec_type": "audio", "codec_name": "mp3"},
            {"index": 1, "codec_type": "video", "codec_name": "mjpeg", "width": 500,
             "height": 500, "disposition": {"attached_pic": 1}}],
            "format": {"format_name": "mp3", "duration": "N/A"}}"#;
        let p = parse(json).unwrap();
        assert!(p.video.is_none());
        assert!(p.audio.is_some());
        assert_eq!(p.duration, None);

        let anamorphic = r#"{"streams": [{"index": 0, "codec_type": "video", "width": 1440,
            "height": 1080, "sample_aspect_ratio": "4:3"}]}"#;
        let v = parse(anamorphic).unwrap().video.unwrap();
        assert_eq!(v.display_size(), (1920, 1080));
        assert!(!v.rotated());
    }

    #[test]
    fn garbage_never_panics() {
        for json in [
            "",
            "null",
            "[]",
            r#"{"streams": 5}"#,
            r#"{"streams": [{"codec_type": "video"}]}"#,
            r#"{"streams": [{"codec_type": "video", "index": -1, "width": 1e300}]}"#,
            r#"{"streams": [{"codec_type": "video", "index": 0, "sample_aspect_ratio": "0:0",
                "side_data_list": [{"rotation": "NaN"}], "tags": {"rotate": []}}],
                "format": {"duration": "inf"}}"#,
        ] {
            let _ = parse(json);
        }
        assert!(parse("not json").is_err());
    }

    #[test]
    fn the_creation_time_is_the_recording_time_and_never_printed() {
        let json = r#"{"streams": [], "format": {"format_name": "mov,mp4",
            "tags": {"creation_time": "2021-06-15T08:30:00.000000Z"}}}"#;
        let probe = parse(json).expect("parse");
        assert_eq!(probe.recorded_at, Some(RecordedAt(1_623_745_800)));
        assert!(!format!("{probe:?}").contains("1623745800"));
    }

    #[test]
    fn creation_times_in_other_spellings_or_unset_clocks() {
        let at = |raw: &str| parse_creation_time(raw).map(|at| at.0);
        assert_eq!(at("2021-06-15 08:30:00"), Some(1_623_745_800));
        assert_eq!(at("2021-06-15T10:30:00+02:00"), Some(1_623_745_800));
        assert_eq!(at("1970-01-01T00:00:00.000000Z"), None);
        assert_eq!(at("1904-01-01T00:00:00Z"), None);
        assert_eq!(at("yesterday"), None);
        assert_eq!(at(""), None);
        let none = parse(r#"{"streams": [], "format": {"tags": {"creation_time": 5}}}"#);
        assert_eq!(none.expect("parse").recorded_at, None);
    }
}
