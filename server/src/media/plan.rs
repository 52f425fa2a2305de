//! Remux or transcode (docs/architecture.md): what to do with each stream, and the ffmpeg arguments that
//! do it.

use std::ffi::OsString;
use std::path::Path;

use cloister_shared::api::jobs::JobPhase;
use cloister_shared::manifest::Preparation;

use super::admit::Bounds;
use super::probe::{AudioStream, Probe, VideoStream};
use super::{input_args, MediaError};

/// Target segment length, seconds (`-hls_time`, and the forced keyframe interval on transcode).
pub(crate) const SEGMENT_SECS: u32 = 4;
/// The largest picture kept as it is: 1080p, in either orientation.
const REMUX_BOX: (u32, u32) = (1920, 1080);
/// Transcoded video fits 720p, in the picture's own orientation (1280×720 or 720×1280).
const TRANSCODE_BOX: (u32, u32) = (1280, 720);
/// The thumbnail fits this box (gallery tiles are landscape).
pub(crate) const THUMB_BOX: (u32, u32) = (320, 180);

/// The output file names, inside the work directory.
pub(crate) const PLAYLIST: &str = "index.m3u8";
pub(crate) const INIT: &str = "init.mp4";
pub(crate) const SEGMENT_PATTERN: &str = "seg%05d.m4s";
pub(crate) const THUMB: &str = "thumb.jpg";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum VideoPlan {
    /// `-c:v copy`.
    Copy,
    /// libx264 at this size (even, square pixels).
    Encode { width: u32, height: u32 },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum AudioPlan {
    /// `-c:a copy` (AAC already).
    Copy,
    /// AAC stereo 128 kbit/s, resampled to 48 kHz when the source rate is unusual.
    Encode { resample: bool },
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Plan {
    pub video_index: u32,
    pub video: VideoPlan,
    /// The audio stream and what to do with it; None for no audio.
    pub audio: Option<(u32, AudioPlan)>,
    /// The output's display size.
    pub width: u32,
    pub height: u32,
    /// The source's display size (after rotation), for the thumbnail.
    pub source_display: (u32, u32),
    /// Seconds, if known: for progress, the time limit and the length check.
    pub duration: Option<f64>,
    /// The video stream's own duration, if known (a longer audio track can stretch the file's).
    pub video_duration: Option<f64>,
    /// The demuxer, time and output bounds admission set.
    pub bounds: Bounds,
}

impl Plan {
    pub fn preparation(&self) -> Preparation {
        match (self.video, self.audio) {
            (VideoPlan::Copy, None | Some((_, AudioPlan::Copy))) => Preparation::Remuxed,
            _ => Preparation::Transcoded,
        }
    }

    pub fn phase(&self) -> JobPhase {
        match self.preparation() {
            Preparation::Remuxed => JobPhase::Remuxing,
            Preparation::Transcoded => JobPhase::Transcoding,
        }
    }

    /// The same plan with the video re-encoded (used when a remux gave overlong segments).
    pub fn with_video_encoded(&self) -> Self {
        let (width, height) = fit_even(self.source_display, TRANSCODE_BOX, true);
        Self {
            video: VideoPlan::Encode { width, height },
            width,
            height,
            ..self.clone()
        }
    }

    /// The ffmpeg arguments; outputs are named relative to the work directory (the cwd).
    pub fn ffmpeg_args(&self, input: &Path) -> Vec<OsString> {
        let mut a: Vec<OsString> = Vec::new();
        let mut push = |items: &[&str]| a.extend(items.iter().map(OsString::from));
        push(&[
            "-nostdin",
            "-hide_banner",
            "-loglevel",
            "error",
            "-nostats",
            "-progress",
            "pipe:1",
            "-y",
        ]);
        if matches!(self.video, VideoPlan::Encode { .. }) {
            // One thread everywhere: the box has 1–2 cores and other work to do.
            push(&["-filter_threads", "1", "-filter_complex_threads", "1"]);
            // Before -i: the decoder's threads.
            push(&["-threads", "1"]);
        }
        a.extend(input_args(input, self.bounds.demuxer));
        a.push("-map".into());
        a.push(format!("0:{}", self.video_index).into());
        if let Some((index, _)) = self.audio {
            a.push("-map".into());
            a.push(format!("0:{index}").into());
        }
        // No metadata (phone videos carry GPS positions) and no chapters in the output.
        let mut push = |items: &[&str]| a.extend(items.iter().map(OsString::from));
        push(&["-map_metadata", "-1", "-map_chapters", "-1"]);
        match self.video {
            VideoPlan::Copy => push(&["-c:v", "copy"]),
            VideoPlan::Encode { width, height } => {
                let scale = format!("scale={width}:{height}:flags=bicubic,setsar=1");
                let keyframes = format!("expr:gte(t,n_forced*{SEGMENT_SECS})");
                push(&["-vf", &scale]);
                push(&[
                    "-c:v",
                    "libx264",
                    "-preset",
                    "veryfast",
                    "-crf",
                    "23",
                    "-profile:v",
                    "high",
                    "-pix_fmt",
                    "yuv420p",
                    "-threads",
                    "1",
                    "-fpsmax",
                    "60",
                    "-force_key_frames",
                    &keyframes,
                ]);
            }
        }
        match self.audio {
            None => {}
            // ADTS AAC (e.g. from MPEG-TS) must become raw AAC for MP4; raw AAC passes as is.
            Some((_, AudioPlan::Copy)) => push(&["-c:a", "copy", "-bsf:a", "aac_adtstoasc"]),
            Some((_, AudioPlan::Encode { resample })) => {
                push(&["-c:a", "aac", "-b:a", "128k", "-ac", "2"]);
                if resample {
                    push(&["-ar", "48000"]);
                }
            }
        }
        let hls_time = SEGMENT_SECS.to_string();
        push(&[
            // Streams that start far apart must not stop the muxer.
            "-max_muxing_queue_size",
            "4096",
            "-f",
            "hls",
            "-hls_segment_type",
            "fmp4",
            "-hls_time",
            &hls_time,
            "-hls_playlist_type",
            "vod",
            "-hls_fmp4_init_filename",
            INIT,
            "-hls_segment_filename",
            SEGMENT_PATTERN,
            PLAYLIST,
        ]);
        a
    }
}

/// Decides from the probe of an admitted file. Errors: `NotAVideo` when there is no moving
/// picture.
pub(crate) fn decide(probe: &Probe, bounds: Bounds) -> Result<Plan, MediaError> {
    let video = probe.video.as_ref().ok_or(MediaError::NotAVideo)?;
    if is_still_image_format(&probe.format_name) {
        return Err(MediaError::NotAVideo);
    }
    if video.width == 0 || video.height == 0 {
        return Err(MediaError::Unreadable(
            "the video stream has no picture size".to_owned(),
        ));
    }
    let display = video.display_size();
    let copy_video = video_playable(video) && fits(display, REMUX_BOX);
    let (video_plan, width, height) = if copy_video {
        (VideoPlan::Copy, display.0, display.1)
    } else {
        let (w, h) = fit_even(display, TRANSCODE_BOX, true);
        (
            VideoPlan::Encode {
                width: w,
                height: h,
            },
            w,
            h,
        )
    };
    let audio = probe.audio.as_ref().map(|a| {
        let plan = if audio_playable(a) {
            AudioPlan::Copy
        } else {
            AudioPlan::Encode {
                resample: !matches!(a.sample_rate, Some(44_100 | 48_000)),
            }
        };
        (a.index, plan)
    });
    Ok(Plan {
        video_index: video.index,
        video: video_plan,
        audio,
        width,
        height,
        source_display: display,
        duration: probe.duration,
        video_duration: video.duration,
        bounds,
    })
}

/// Demuxers of single pictures (and ANSI art): not videos even though ffprobe shows a video
/// stream.
fn is_still_image_format(format_name: &str) -> bool {
    format_name
        .split(',')
        .any(|f| f.ends_with("_pipe") || matches!(f, "image2" | "tty" | "ico" | "bmp"))
}

/// H.264, 8-bit 4:2:0, a profile every browser decodes, and no rotation (MSE ignores it, so a
/// rotated picture must be re-encoded upright).
fn video_playable(v: &VideoStream) -> bool {
    let profile_ok = matches!(
        v.profile.to_ascii_lowercase().as_str(),
        "baseline" | "constrained baseline" | "main" | "high"
    );
    v.codec == "h264"
        && matches!(v.pix_fmt.as_str(), "yuv420p" | "yuvj420p")
        && v.bits_per_raw_sample.is_none_or(|b| b == 8)
        && profile_ok
        && !v.rotated()
}

/// AAC of a profile Chrome's MSE takes (LC, HE-AAC v1/v2).
fn audio_playable(a: &AudioStream) -> bool {
    a.codec == "aac"
        && matches!(
            a.profile.to_ascii_lowercase().as_str(),
            "lc" | "he-aac" | "he-aacv2"
        )
}

/// True when the size fits the box in the picture's own orientation.
fn fits((w, h): (u32, u32), (long, short): (u32, u32)) -> bool {
    w.max(h) <= long && w.min(h) <= short
}

/// Scales `(w, h)` down (never up) to fit the box — in the picture's orientation when
/// `orient` — keeping the aspect ratio, with even sides of at least 2.
pub(crate) fn fit_even((w, h): (u32, u32), (bw, bh): (u32, u32), orient: bool) -> (u32, u32) {
    let (bw, bh) = if orient && h > w { (bh, bw) } else { (bw, bh) };
    let (w, h) = (f64::from(w.max(1)), f64::from(h.max(1)));
    let scale = (f64::from(bw) / w).min(f64::from(bh) / h).min(1.0);
    let even = |x: f64, limit: u32| {
        // The epsilon keeps 180.0 from becoming 179 through rounding error.
        let x = ((x + 1e-6).floor() as u32).min(limit);
        (x - x % 2).max(2)
    };
    (even(w * scale, bw), even(h * scale, bh))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn video(codec: &str, w: u32, h: u32) -> VideoStream {
        VideoStream::example(codec, w, h)
    }

    fn plan_for(probe: &Probe) -> Result<Plan, MediaError> {
        let bounds = Bounds {
            demuxer: "mov",
            duration: 5.0,
            output_bytes: 1 << 30,
            output_files: 100,
        };
        decide(probe, bounds)
    }

    fn probe(v: VideoStream, audio: Option<&str>) -> Probe {
        Probe {
            format_name: "mov,mp4,m4a,3gp,3g2,mj2".into(),
            duration: Some(5.0),
            video: Some(v),
            audio: audio.map(|codec| AudioStream {
                index: 1,
                codec: codec.into(),
                profile: if codec == "aac" {
                    "LC".into()
                } else {
                    String::new()
                },
                sample_rate: Some(48_000),
                channels: Some(2),
            }),
            recorded_at: None,
        }
    }

    #[test]
    fn playable_streams_are_remuxed() {
        let plan = plan_for(&probe(video("h264", 1920, 1080), Some("aac"))).unwrap();
        assert_eq!(plan.preparation(), Preparation::Remuxed);
        assert_eq!((plan.width, plan.height), (1920, 1080));
        let portrait = plan_for(&probe(video("h264", 1080, 1920), None)).unwrap();
        assert_eq!(portrait.preparation(), Preparation::Remuxed);
    }

    #[test]
    fn everything_else_is_transcoded_to_fit_720p() {
        let plan = plan_for(&probe(video("hevc", 1920, 1080), Some("aac"))).unwrap();
        assert_eq!(
            plan.video,
            VideoPlan::Encode {
                width: 1280,
                height: 720
            }
        );
        assert_eq!(plan.audio, Some((1, AudioPlan::Copy)));
        assert_eq!(plan.preparation(), Preparation::Transcoded);

        let big = plan_for(&probe(video("h264", 2560, 1440), None)).unwrap();
        assert_eq!(
            big.video,
            VideoPlan::Encode {
                width: 1280,
                height: 720
            }
        );

        let mut rotated = video("h264", 1920, 1080);
        rotated.rotation = -90.0;
        let plan = plan_for(&probe(rotated, Some("aac"))).unwrap();
        assert_eq!(
            plan.video,
            VideoPlan::Encode {
                width: 720,
                height: 1280
            }
        );

        let mut ten_bit = video("h264", 640, 360);
        ten_bit.pix_fmt = "yuv420p10le".into();
        assert!(matches!(
            plan_for(&probe(ten_bit, None)).unwrap().video,
            VideoPlan::Encode { .. }
        ));
    }

    #[test]
    fn playable_video_with_other_audio_keeps_the_video() {
        let plan = plan_for(&probe(video("h264", 640, 360), Some("opus"))).unwrap();
        assert_eq!(plan.video, VideoPlan::Copy);
        assert_eq!(plan.audio, Some((1, AudioPlan::Encode { resample: false })));
        assert_eq!(plan.preparation(), Preparation::Transcoded);
    }

    #[test]
    fn odd_and_tiny_sizes_become_even() {
        assert_eq!(fit_even((321, 241), TRANSCODE_BOX, true), (320, 240));
        assert_eq!(fit_even((1, 1), TRANSCODE_BOX, true), (2, 2));
        assert_eq!(fit_even((3840, 1080), TRANSCODE_BOX, true), (1280, 360));
        assert_eq!(fit_even((1080, 1920), TRANSCODE_BOX, true), (720, 1280));
        assert_eq!(fit_even((1080, 1920), THUMB_BOX, false), (100, 180));
        assert_eq!(fit_even((641, 361), THUMB_BOX, false), (318, 180));
        assert_eq!(fit_even((u32::MAX, 1), TRANSCODE_BOX, true), (1280, 2));
    }

    #[test]
    fn no_moving_picture_is_not_a_video() {
        let mut p = probe(video("h264", 640, 360), Some("aac"));
        p.video = None;
        assert!(matches!(plan_for(&p), Err(MediaError::NotAVideo)));
        let mut png = probe(video("png", 640, 360), None);
        png.format_name = "png_pipe".into();
        assert!(matches!(plan_for(&png), Err(MediaError::NotAVideo)));
    }
}
