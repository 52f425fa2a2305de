//! From a plaintext video file to fragmented-MP4 segments for MSE playback (docs/architecture.md,
//! "Processing"; docs/processing.md, "From original to segments").
//!
//! This module knows nothing of encryption, the database or HTTP. The job worker decrypts an
//! original into a private temp directory, calls [`prepare`], then seals each output file and
//! writes the manifest.
//!
//! - `probe`: ffprobe's JSON → streams, duration, rotation;
//! - `admit`: refusing hostile files (playlists, huge pictures, lying durations) and bounding
//!   the runs over the rest;
//! - `plan`: remux or transcode, and the ffmpeg arguments;
//! - `run`: spawning ffmpeg/ffprobe with progress, a time limit, memory and output bounds, and
//!   cancellation;
//! - `hls`: the playlist ffmpeg's HLS muxer writes → segment names;
//! - `fragments`: the segments' `moof` boxes → their real start times and durations;
//! - `codec`: the init segment's boxes → the MSE codec string;
//! - `thumb`: the JPEG thumbnail.

mod admit;
mod codec;
mod fragments;
mod hls;
mod plan;
mod probe;
pub use probe::RecordedAt;
mod run;
mod thumb;

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use cloister_shared::api::jobs::JobPhase;
use cloister_shared::manifest::Preparation;
use tokio_util::sync::CancellationToken;
use tracing::{info_span, Instrument};

use plan::{Plan, VideoPlan};
use run::{Output, Run, Stdout};

/// A remux whose keyframes are further apart than this gives segments too long to fetch, decrypt
/// and buffer one at a time; such a video is transcoded instead.
const MAX_REMUX_SEGMENT_SECS: f64 = 12.0;
/// The longest time limit ever set, whatever the duration and factor say: a 4K hour transcoded
/// at a fifth of real time on one slow core still fits.
const MAX_TIME_LIMIT: Duration = Duration::from_secs(12 * 3600);
/// ffmpeg's playlist and init segment are a few KB; more than this is not theirs.
const MAX_SMALL_OUTPUT: u64 = 16 << 20;

/// The ffmpeg and ffprobe programs and how they are run.
#[derive(Debug, Clone, PartialEq)]
pub struct MediaTools {
    pub ffmpeg: PathBuf,
    pub ffprobe: PathBuf,
    /// Run ffmpeg under `nice -n 10` when true, so the web server stays responsive.
    pub nice: bool,
    /// Time limit of one ffmpeg run = `time_limit_base` + `time_limit_factor` × video duration.
    pub time_limit_base: Duration,
    pub time_limit_factor: f64,
    /// Address space (RLIMIT_AS) each ffmpeg and ffprobe may map; None for no limit.
    pub memory_limit: Option<u64>,
    /// Output of one segmenting run = `output_base` + `output_per_input_byte` × the input's
    /// size + `output_per_sec` × the video's (bounded) duration; ffmpeg is stopped past it.
    pub output_base: u64,
    pub output_per_input_byte: u64,
    pub output_per_sec: u64,
}

impl MediaTools {
    /// `ffmpeg` and `ffprobe` from `PATH`, under `nice -n 10`, with a time limit of 10 minutes
    /// plus 10 × the video's duration per ffmpeg run (a 5-minute video may take up to an hour:
    /// ample for a 720p `veryfast` encode on one slow core, yet a stuck ffmpeg is stopped).
    /// Each run may map 1 GiB (a 4K HEVC transcode needs about 512 MiB, most of it shared
    /// libraries) and write 64 MiB + 2 × the input + 1 MiB (8 Mbit/s) a second of video.
    pub fn from_path() -> Self {
        Self {
            ffmpeg: "ffmpeg".into(),
            ffprobe: "ffprobe".into(),
            nice: true,
            time_limit_base: Duration::from_secs(10 * 60),
            time_limit_factor: 10.0,
            memory_limit: Some(1 << 30),
            output_base: 64 << 20,
            output_per_input_byte: 2,
            output_per_sec: 1 << 20,
        }
    }

    /// The most a segmenting run over `input_bytes` lasting `duration_secs` may write.
    pub fn output_limit(&self, input_bytes: u64, duration_secs: f64) -> u64 {
        let per_sec = (self.output_per_sec as f64 * duration_secs.max(0.0)).min(u64::MAX as f64);
        self.output_base
            .saturating_add(input_bytes.saturating_mul(self.output_per_input_byte))
            .saturating_add(per_sec as u64)
    }

    /// The time limit for an ffmpeg run over a video of `duration_secs` (at most 12 hours).
    pub fn time_limit(&self, duration_secs: f64) -> Duration {
        let extra = self.time_limit_factor * duration_secs;
        let extra = if extra.is_finite() && extra > 0.0 {
            Duration::try_from_secs_f64(extra).unwrap_or(MAX_TIME_LIMIT)
        } else {
            Duration::ZERO
        };
        self.time_limit_base
            .saturating_add(extra)
            .min(MAX_TIME_LIMIT)
    }
}

/// One media segment (`moof` + `mdat`), to be appended after the init segment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PreparedSegment {
    pub path: PathBuf,
    pub start_ms: u64,
    pub duration_ms: u64,
}

/// What [`prepare`] made, all inside the work directory.
#[derive(Debug, Clone, PartialEq)]
pub struct PreparedMedia {
    /// The sum of the segments' durations.
    pub duration_ms: u64,
    /// Display size of the output (after rotation and scaling).
    pub width: u32,
    pub height: u32,
    /// For `MediaSource.isTypeSupported`: `video/mp4; codecs="avc1.64001f,mp4a.40.2"`.
    pub mime_codec: String,
    pub has_audio: bool,
    pub preparation: Preparation,
    /// The init segment (`ftyp` + `moov` with `mvex`).
    pub init: PathBuf,
    pub segments: Vec<PreparedSegment>,
    /// A JPEG fitting 320×180; None when it could not be made (not fatal).
    pub thumb: Option<PathBuf>,
    /// When it was recorded (the container's creation time), Unix seconds; sealed by the worker.
    pub recorded_at: Option<RecordedAt>,
}

#[derive(Debug, thiserror::Error)]
pub enum MediaError {
    /// No moving picture: not a media file at all, audio only, or a still image.
    #[error("the file is not a video")]
    NotAVideo,
    /// ffprobe or ffmpeg could not read it, e.g. truncated. The detail has no paths.
    #[error("the video could not be read: {0}")]
    Unreadable(String),
    /// Refused before decoding (a playlist, a huge picture, a lying duration); the text is a
    /// plain sentence for people, with no paths.
    #[error("{0}")]
    Refused(String),
    /// ffmpeg wrote more than the run's output bound (`65 KB`, `69 files`) and was stopped.
    #[error("the output grew past its limit of {0}")]
    OutputTooLarge(String),
    /// ffmpeg could not allocate within its memory limit. The detail has no paths.
    #[error("ffmpeg ran out of the memory it may use: {0}")]
    OutOfMemory(String),
    /// ffmpeg died of a crash signal (SIGSEGV, SIGABRT…) on this input.
    #[error("ffmpeg crashed: {0}")]
    Crashed(String),
    /// ffmpeg ran longer than its limit and was killed.
    #[error("processing took longer than its limit of {} s", .0.as_secs())]
    TimedOut(Duration),
    #[error("processing was cancelled")]
    Cancelled,
    /// ffmpeg or ffprobe is missing, crashed or failed for a reason not in the input.
    #[error("ffmpeg failed: {0}")]
    Tool(String),
    #[error("I/O error: {0}")]
    Io(#[from] std::io::Error),
}

impl MediaError {
    /// A short reason for people, without paths: "the video is damaged or incomplete".
    pub fn short_reason(&self) -> String {
        match self {
            Self::NotAVideo => "the file is not a video".to_owned(),
            Self::Unreadable(_) => "the video is damaged or incomplete".to_owned(),
            Self::Refused(reason) => reason.clone(),
            Self::OutputTooLarge(limit) => {
                format!("the converted video grew past its limit of {limit}")
            }
            Self::OutOfMemory(_) => {
                "processing the video needs more memory than the server allows".to_owned()
            }
            Self::Crashed(_) => "the video converter (ffmpeg) crashed on this file".to_owned(),
            Self::TimedOut(limit) => {
                let secs = limit.as_secs();
                match secs {
                    0 => "processing took longer than its time limit".to_owned(),
                    1 => "processing took longer than 1 second".to_owned(),
                    2..=59 => format!("processing took longer than {secs} seconds"),
                    60..=119 => "processing took longer than 1 minute".to_owned(),
                    _ => format!("processing took longer than {} minutes", secs / 60),
                }
            }
            Self::Cancelled => "processing was cancelled".to_owned(),
            Self::Tool(_) => "the video converter (ffmpeg) failed on the server".to_owned(),
            Self::Io(_) => "the server could not read or write its temporary files".to_owned(),
        }
    }

    /// Whether another attempt could succeed (docs/decisions.md): only a failure of the moment
    /// — ffmpeg missing or killed from outside (the OOM killer), a time limit hit while the
    /// server was loaded, an I/O error. What the input decides — not a video, damaged, refused,
    /// too much output or memory, a crash on it — fails the same way every time.
    pub fn retryable(&self) -> bool {
        matches!(self, Self::TimedOut(_) | Self::Tool(_) | Self::Io(_))
    }
}

/// Probes `input`, decides remux vs transcode, writes init + segments + thumbnail into `work_dir`
/// (an existing empty private directory), reporting progress as (phase, fraction 0.0..=1.0
/// within the phase).
///
/// Outputs are `init.mp4`, `seg00000.m4s`…, `index.m3u8` (the playlist, not needed afterwards)
/// and `thumb.jpg`; `input` must not be one of them. On error, files may be left in `work_dir`
/// (never outside it) for the caller to remove with the directory. Dropping the future kills any
/// running ffmpeg.
pub async fn prepare(
    tools: &MediaTools,
    input: &Path,
    work_dir: &Path,
    cancel: &CancellationToken,
    on_progress: &(dyn Fn(JobPhase, f32) + Send + Sync),
) -> Result<PreparedMedia, MediaError> {
    if cancel.is_cancelled() {
        return Err(MediaError::Cancelled);
    }
    let started = Instant::now();
    let input = std::path::absolute(input)?;
    let work_dir = std::path::absolute(work_dir)?;
    if !fs_err::tokio::metadata(&input).await?.is_file() {
        return Err(MediaError::Io(std::io::Error::new(
            std::io::ErrorKind::InvalidInput,
            format!("the input {} is not a regular file", input.display()),
        )));
    }
    if !fs_err::tokio::metadata(&work_dir).await?.is_dir() {
        return Err(MediaError::Io(std::io::Error::new(
            std::io::ErrorKind::InvalidInput,
            format!(
                "the work directory {} is not a directory",
                work_dir.display()
            ),
        )));
    }

    on_progress(JobPhase::Probing, 0.0);
    let probe = probe::probe(tools, &input, cancel)
        .instrument(info_span!("probe"))
        .await?;
    tracing::info!(input = %input.display(), ?probe, "probed");
    let size_bytes = fs_err::tokio::metadata(&input).await?.len();
    let bounds = admit::admit(tools, &probe, size_bytes).inspect_err(|err| {
        tracing::warn!(error = %err, size_bytes, "refused before decoding");
    })?;
    let mut plan = plan::decide(&probe, bounds)?;
    on_progress(JobPhase::Probing, 1.0);
    tracing::info!(?plan, "plan");

    // The thumbnail is one frame decoded beside the segmenting run rather than after it: on the
    // remux path it would otherwise add a quarter of the whole time (docs/benchmarks.md).
    let (out, thumb) = tokio::join!(
        segment(tools, &input, &work_dir, &plan, cancel, on_progress)
            .instrument(info_span!("segment", preparation = ?plan.preparation())),
        thumb::make(tools, &input, &work_dir, &plan, cancel).instrument(info_span!("thumbnail"))
    );
    let mut out = out?;
    let thumb = thumb?;
    if plan.video == VideoPlan::Copy && out.longest_secs > MAX_REMUX_SEGMENT_SECS {
        tracing::info!(
            longest_segment_secs = out.longest_secs,
            "keyframes too far apart for a remux; transcoding instead"
        );
        out.remove(&work_dir).await;
        plan = plan.with_video_encoded();
        out = segment(tools, &input, &work_dir, &plan, cancel, on_progress)
            .instrument(info_span!("segment", preparation = ?plan.preparation()))
            .await?;
    }

    let info = codec::parse_init(&read_small(&out.init).await?);
    let mime_codec = info.mime().ok_or_else(|| {
        MediaError::Tool("the init segment has no H.264 video track that can be read".to_owned())
    })?;
    let has_audio = info.audio.is_some();
    if has_audio != plan.audio.is_some() {
        tracing::warn!(
            planned = plan.audio.is_some(),
            has_audio,
            "the output's audio is not what was planned"
        );
    }

    if cancel.is_cancelled() {
        return Err(MediaError::Cancelled);
    }
    on_progress(JobPhase::Thumbnail, 1.0);

    let prepared = PreparedMedia {
        duration_ms: out.duration_ms,
        width: plan.width,
        height: plan.height,
        mime_codec,
        has_audio,
        preparation: plan.preparation(),
        init: out.init,
        segments: out.segments,
        thumb,
        recorded_at: probe.recorded_at,
    };
    tracing::info!(
        preparation = ?prepared.preparation,
        duration_ms = prepared.duration_ms,
        width = prepared.width,
        height = prepared.height,
        mime = %prepared.mime_codec,
        segments = prepared.segments.len(),
        thumb = prepared.thumb.is_some(),
        seconds = started.elapsed().as_secs_f64(),
        "prepared"
    );
    Ok(prepared)
}

/// What one segmenting run of ffmpeg wrote.
struct Segmented {
    playlist: PathBuf,
    init: PathBuf,
    segments: Vec<PreparedSegment>,
    duration_ms: u64,
    longest_secs: f64,
}

impl Segmented {
    /// Removes the run's files (before a second run writes its own).
    async fn remove(&self, work_dir: &Path) {
        let files = [&self.playlist, &self.init]
            .into_iter()
            .chain(self.segments.iter().map(|s| &s.path));
        for file in files {
            if file.starts_with(work_dir) {
                if let Err(err) = fs_err::tokio::remove_file(file).await {
                    tracing::warn!(file = %file.display(), error = %err, "could not remove");
                }
            }
        }
    }
}

/// Runs ffmpeg with the plan and reads the playlist it wrote.
async fn segment(
    tools: &MediaTools,
    input: &Path,
    work_dir: &Path,
    plan: &Plan,
    cancel: &CancellationToken,
    on_progress: &(dyn Fn(JobPhase, f32) + Send + Sync),
) -> Result<Segmented, MediaError> {
    let phase = plan.phase();
    on_progress(phase, 0.0);
    let report = move |fraction: f32| on_progress(phase, fraction);
    let finished = run::run(Run {
        name: "ffmpeg",
        program: &tools.ffmpeg,
        args: plan.ffmpeg_args(input),
        cwd: Some(work_dir),
        nice: tools.nice,
        limit: tools.time_limit(plan.bounds.duration),
        memory: tools.memory_limit,
        output: Output::Dir {
            bytes: plan.bounds.output_bytes,
            files: plan.bounds.output_files,
        },
        cancel,
        stdout: Stdout::Progress {
            duration: plan.duration,
            report: &report,
        },
    })
    .await?;
    if !finished.success() {
        return Err(classify_ffmpeg_failure(
            &finished,
            input,
            tools,
            plan.bounds.output_bytes,
        ));
    }

    let playlist_path = work_dir.join(plan::PLAYLIST);
    let text = String::from_utf8_lossy(&read_small(&playlist_path).await?).into_owned();
    let playlist = hls::parse(&text).map_err(|err| {
        MediaError::Tool(format!(
            "ffmpeg wrote a playlist that cannot be read: {err}"
        ))
    })?;
    let init = work_dir.join(playlist.init.as_deref().unwrap_or(plan::INIT));
    if !non_empty_file(&init).await {
        return Err(MediaError::Tool("ffmpeg wrote no init segment".to_owned()));
    }
    if playlist.segments.is_empty() {
        return Err(MediaError::Unreadable(
            "no frames could be read from the video".to_owned(),
        ));
    }
    // Times come from the fragments themselves: the playlist's are the muxer's guess from the
    // nominal frame rate, wrong for a variable one.
    let unreadable_times =
        |what: &str| MediaError::Tool(format!("ffmpeg wrote {what} whose times cannot be read"));
    let track = fragments::video_track(&read_small(&init).await?)
        .ok_or_else(|| unreadable_times("an init segment"))?;
    let mut paths = Vec::with_capacity(playlist.segments.len());
    let mut spans = Vec::with_capacity(playlist.segments.len());
    for (name, _) in &playlist.segments {
        let path = work_dir.join(name);
        if !non_empty_file(&path).await {
            return Err(MediaError::Tool(format!(
                "the playlist names a segment ffmpeg did not write ({name})"
            )));
        }
        let moofs = fragments::read_moofs(&path).await?;
        spans.push(fragments::span(&moofs, &track).ok_or_else(|| unreadable_times("a segment"))?);
        paths.push(path);
    }
    let times = fragments::timeline(&spans, track.timescale);
    let longest_secs = times.iter().map(|(_, d)| *d).max().unwrap_or(0) as f64 / 1000.0;
    let segments: Vec<PreparedSegment> = paths
        .into_iter()
        .zip(times)
        .map(|(path, (start_ms, duration_ms))| PreparedSegment {
            path,
            start_ms,
            duration_ms,
        })
        .collect();
    let duration_ms = segments
        .last()
        .map_or(0, |s| s.start_ms.saturating_add(s.duration_ms));

    // A damaged file (e.g. cut off after its index) may let ffmpeg finish "successfully" with
    // errors on stderr and only part of the video: that is not a video to publish.
    let expected = plan.video_duration.or(plan.duration);
    if let Some(expected) = expected {
        let got = duration_ms as f64 / 1000.0;
        if !finished.stderr.trim().is_empty() && got < expected * 0.9 - 0.5 {
            return Err(MediaError::Unreadable(format!(
                "only {got:.1} s of {expected:.1} s could be read ({})",
                sanitize(&finished.stderr, input)
            )));
        }
    }

    on_progress(phase, 1.0);
    Ok(Segmented {
        playlist: playlist_path,
        init,
        segments,
        duration_ms,
        longest_secs,
    })
}

/// Why ffmpeg exited non-zero: the input (damaged, undecodable, too big for its bounds) or the
/// tool itself.
fn classify_ffmpeg_failure(
    finished: &run::Finished,
    input: &Path,
    tools: &MediaTools,
    output_bound: u64,
) -> MediaError {
    use std::os::unix::process::ExitStatusExt;
    let status = finished.status;
    let detail = || sanitize(&finished.stderr, input);
    let lower = finished.stderr.to_ascii_lowercase();
    if let Some(signal) = status.signal() {
        return match signal {
            // The kernel's answer to a write past RLIMIT_FSIZE.
            libc::SIGXFSZ => MediaError::OutputTooLarge(admit::human_size(output_bound)),
            libc::SIGSEGV | libc::SIGABRT | libc::SIGBUS | libc::SIGILL | libc::SIGFPE => {
                MediaError::Crashed(format!("{status}; {}", detail()))
            }
            // SIGKILL from outside (the OOM killer), SIGTERM from an admin: of the moment.
            _ => MediaError::Tool(format!("ffmpeg was killed ({status})")),
        };
    }
    if tools.memory_limit.is_some() && out_of_memory(&lower) {
        return MediaError::OutOfMemory(detail());
    }
    let Some(code) = status.code() else {
        return MediaError::Tool(format!("ffmpeg ended without a code ({status})"));
    };
    if tools.nice && matches!(code, 126 | 127) && lower.contains("nice") {
        return MediaError::Tool(format!(
            "ffmpeg could not be started: {}",
            sanitize(&finished.stderr, input)
        ));
    }
    let input_markers = [
        "invalid data found",
        "moov atom not found",
        "partial file",
        "error while decoding",
        "decoder (codec",
        "could not find codec parameters",
        "corrupt",
        "end of file",
        "invalid nal",
    ];
    if input_markers.iter().any(|m| lower.contains(m)) {
        MediaError::Unreadable(sanitize(&finished.stderr, input))
    } else if finished.stderr.trim().is_empty() {
        MediaError::Tool(format!("ffmpeg exited with code {code}"))
    } else {
        MediaError::Tool(sanitize(&finished.stderr, input))
    }
}

/// Whether stderr says an allocation failed (under RLIMIT_AS: malloc, or mapping a library).
fn out_of_memory(lower_stderr: &str) -> bool {
    [
        "cannot allocate memory",
        "malloc of size",
        "failed to map segment",
        "out of memory",
    ]
    .iter()
    .any(|m| lower_stderr.contains(m))
}

/// The last lines of a tool's stderr, short, with the input's path replaced: fit for an error
/// message (short_reason never shows it; logs and admins may).
fn sanitize(stderr: &str, input: &Path) -> String {
    let path = input.display().to_string();
    let lines: Vec<&str> = stderr
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect();
    let tail = lines
        .get(lines.len().saturating_sub(3)..)
        .unwrap_or_default();
    let mut text = tail.join("; ").replace(&format!("file:{path}"), "input");
    if !path.is_empty() {
        text = text.replace(&path, "input");
    }
    if text.chars().count() > 300 {
        text = text.chars().take(300).collect::<String>() + "…";
    }
    text
}

/// `file:/abs/path`: ffmpeg takes the rest literally (no protocol or `-` parsing).
fn input_arg(input: &Path) -> OsString {
    let mut arg = OsString::from("file:");
    arg.push(input.as_os_str());
    arg
}

/// What comes before the input's name for ffmpeg and ffprobe: only the `file` protocol and only
/// real container formats (a playlist or concat list would open other local files).
fn input_guards() -> Vec<OsString> {
    vec![
        "-protocol_whitelist".into(),
        "file".into(),
        "-format_whitelist".into(),
        admit::format_whitelist().into(),
    ]
}

/// `-protocol_whitelist file -format_whitelist … -f <demuxer> -i file:/abs/path`.
fn input_args(input: &Path, demuxer: &str) -> Vec<OsString> {
    let mut args = input_guards();
    args.extend(["-f".into(), demuxer.into(), "-i".into(), input_arg(input)]);
    args
}

async fn non_empty_file(path: &Path) -> bool {
    fs_err::tokio::metadata(path)
        .await
        .is_ok_and(|m| m.is_file() && m.len() > 0)
}

/// Reads a small file ffmpeg wrote (playlist, init segment), refusing anything absurdly large.
async fn read_small(path: &Path) -> Result<Vec<u8>, MediaError> {
    let len = fs_err::tokio::metadata(path).await?.len();
    if len > MAX_SMALL_OUTPUT {
        return Err(MediaError::Tool(format!(
            "ffmpeg wrote an unexpectedly large file ({len} bytes)"
        )));
    }
    Ok(fs_err::tokio::read(path).await?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reasons_are_short_and_name_no_paths() {
        assert_eq!(
            MediaError::NotAVideo.short_reason(),
            "the file is not a video"
        );
        assert_eq!(
            MediaError::TimedOut(Duration::from_secs(12 * 60 + 30)).short_reason(),
            "processing took longer than 12 minutes"
        );
        assert_eq!(
            MediaError::TimedOut(Duration::from_secs(30)).short_reason(),
            "processing took longer than 30 seconds"
        );
        let unreadable = MediaError::Unreadable("/tmp/secret/original: moov atom".into());
        assert!(!unreadable.short_reason().contains('/'));
        assert!(!MediaError::NotAVideo.retryable());
        assert!(!MediaError::Cancelled.retryable());
        assert!(MediaError::TimedOut(Duration::ZERO).retryable());
        assert!(MediaError::Tool("x".into()).retryable());
        assert!(MediaError::Io(std::io::Error::other("x")).retryable());
        assert_eq!(
            MediaError::OutputTooLarge("200 MB".into()).short_reason(),
            "the converted video grew past its limit of 200 MB"
        );
    }

    #[test]
    fn exits_are_sorted_into_the_input_and_the_moment() {
        use std::os::unix::process::ExitStatusExt;
        let tools = MediaTools::from_path();
        let input = Path::new("/tmp/job-7/original");
        let ended = |raw: i32, stderr: &str| {
            let finished = run::Finished {
                status: std::process::ExitStatus::from_raw(raw),
                stdout: Vec::new(),
                stderr: stderr.to_owned(),
            };
            classify_ffmpeg_failure(&finished, input, &tools, 5)
        };
        // A raw wait status is the signal number, or the exit code shifted left by 8.
        let too_large = ended(libc::SIGXFSZ, "");
        assert!(
            matches!(&too_large, MediaError::OutputTooLarge(b) if b == "5 bytes"),
            "{too_large:?}"
        );
        assert!(matches!(ended(libc::SIGSEGV, ""), MediaError::Crashed(_)));
        let killed = ended(libc::SIGKILL, "");
        assert!(matches!(killed, MediaError::Tool(_)) && killed.retryable());
        let oom = ended(1 << 8, "x264 [error]: malloc of size 3418304 failed");
        assert!(matches!(oom, MediaError::OutOfMemory(_)), "{oom:?}");
        let damaged = ended(1 << 8, "input: Invalid data found when processing input");
        assert!(matches!(damaged, MediaError::Unreadable(_)), "{damaged:?}");
        let unlimited = MediaTools {
            memory_limit: None,
            ..MediaTools::from_path()
        };
        let finished = run::Finished {
            status: std::process::ExitStatus::from_raw(1 << 8),
            stdout: Vec::new(),
            stderr: "Cannot allocate memory".to_owned(),
        };
        let machine = classify_ffmpeg_failure(&finished, input, &unlimited, 5);
        assert!(
            machine.retryable(),
            "without our limit it is the machine's: {machine:?}"
        );
    }

    #[test]
    fn what_the_input_decides_is_not_retried() {
        for err in [
            MediaError::Unreadable("moov atom not found".into()),
            MediaError::Refused("the picture is too large".into()),
            MediaError::OutputTooLarge("1 bytes".into()),
            MediaError::OutOfMemory("malloc of size 1 failed".into()),
            MediaError::Crashed("signal 11".into()),
        ] {
            assert!(!err.retryable(), "{err:?}");
            assert!(!err.short_reason().contains('/'), "{err:?}");
        }
    }

    #[test]
    fn stderr_is_cut_down_and_loses_the_input_path() {
        let input = Path::new("/tmp/job-7/original");
        let stderr = "a\nb\n[mov @ 0x1] moov atom not found\nfile:/tmp/job-7/original: Invalid data found when processing input\n";
        let s = sanitize(stderr, input);
        assert_eq!(
            s,
            "b; [mov @ 0x1] moov atom not found; input: Invalid data found when processing input"
        );
        assert!(sanitize(&"x".repeat(1000), input).chars().count() <= 301);
    }

    #[test]
    fn time_limits_grow_with_the_duration_and_stay_finite() {
        let tools = MediaTools::from_path();
        assert_eq!(tools.time_limit(0.0), Duration::from_secs(600));
        assert_eq!(tools.time_limit(60.0), Duration::from_secs(1200));
        assert_eq!(tools.time_limit(f64::NAN), Duration::from_secs(600));
        assert_eq!(tools.time_limit(-5.0), Duration::from_secs(600));
        assert_eq!(tools.time_limit(1e300), MAX_TIME_LIMIT);
    }
}
