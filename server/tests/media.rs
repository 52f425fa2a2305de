//! `media::prepare` against the real ffmpeg (docs/architecture.md, "Processing"): every kind of input
//! ends as init + ~4-s fMP4 segments that ffprobe reads back whole, or as the right error.

#[path = "common/fixtures.rs"]
mod fixtures;

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use cloister::media::{prepare, MediaError, MediaTools, PreparedMedia};
use cloister_shared::api::jobs::JobPhase;
use cloister_shared::manifest::Preparation;
use fixtures::Fixture;
use serde_json::Value;
use tokio_util::sync::CancellationToken;

/// Fixtures are made once per build directory and shared by every test (and later runs).
fn fixture(kind: Fixture) -> PathBuf {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    static MAKING: OnceLock<Mutex<HashMap<Fixture, PathBuf>>> = OnceLock::new();
    let dir = DIR.get_or_init(|| {
        let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("media-fixtures-v1");
        std::fs::create_dir_all(&dir).expect("fixture dir");
        dir
    });
    let mut made = MAKING
        .get_or_init(Default::default)
        .lock()
        .unwrap_or_else(|e| e.into_inner());
    made.entry(kind)
        .or_insert_with(|| fixtures::make(kind, dir))
        .clone()
}

fn tools() -> MediaTools {
    MediaTools::from_path()
}

fn no_progress(_: JobPhase, _: f32) {}

/// ffprobe's JSON for a file.
fn ffprobe(path: &Path) -> Value {
    let out = Command::new("ffprobe")
        .args([
            "-v",
            "error",
            "-of",
            "json",
            "-show_format",
            "-show_streams",
        ])
        .arg(path)
        .output()
        .expect("ffprobe runs");
    assert!(
        out.status.success(),
        "ffprobe {}: {}",
        path.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("ffprobe json")
}

fn duration_of(probe: &Value) -> f64 {
    probe["format"]["duration"]
        .as_str()
        .and_then(|d| d.parse().ok())
        .expect("a duration")
}

fn streams<'a>(probe: &'a Value, kind: &str) -> Vec<&'a Value> {
    probe["streams"]
        .as_array()
        .expect("streams")
        .iter()
        .filter(|s| s["codec_type"] == kind)
        .collect()
}

/// Top-level box types of an MP4 file, e.g. ["ftyp", "moov"].
fn top_boxes(data: &[u8]) -> Vec<String> {
    let mut kinds = Vec::new();
    let mut at = 0usize;
    while at + 8 <= data.len() {
        let size = u32::from_be_bytes(data[at..at + 4].try_into().unwrap()) as usize;
        kinds.push(String::from_utf8_lossy(&data[at + 4..at + 8]).into_owned());
        if size < 8 {
            break;
        }
        at += size;
    }
    kinds
}

fn even(n: u64) -> bool {
    n & 1 == 0
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

/// Processes the fixture into a fresh work dir (kept alive by the returned guard).
async fn prepare_fixture(kind: Fixture) -> (Result<PreparedMedia, MediaError>, tempfile::TempDir) {
    let work = tempfile::tempdir().expect("work dir");
    let input = fixture(kind);
    let cancel = CancellationToken::new();
    let result = prepare(&tools(), &input, work.path(), &cancel, &no_progress).await;
    (result, work)
}

struct Expect {
    preparation: Preparation,
    audio: bool,
    /// Exact output size, when the test knows it.
    size: Option<(u32, u32)>,
}

/// Everything a player relies on: the files, the timeline, the codec string, the thumbnail, and
/// that init + segments read back as the whole video.
fn check(kind: Fixture, prepared: &PreparedMedia, work: &Path, expect: Expect) {
    let source = ffprobe(&fixture(kind));
    let source_secs = duration_of(&source);
    assert_eq!(prepared.preparation, expect.preparation, "{kind:?}");
    assert_eq!(prepared.has_audio, expect.audio, "{kind:?}");
    if let Some(size) = expect.size {
        assert_eq!((prepared.width, prepared.height), size, "{kind:?}");
    }
    if prepared.preparation == Preparation::Transcoded {
        assert!(
            even(prepared.width.into()) && even(prepared.height.into()),
            "{kind:?}: {prepared:?}"
        );
        let (long, short) = (
            prepared.width.max(prepared.height),
            prepared.width.min(prepared.height),
        );
        assert!(long <= 1280 && short <= 720, "{kind:?}: {prepared:?}");
    }

    // Codec string.
    let mime = &prepared.mime_codec;
    assert!(mime.starts_with("video/mp4; codecs=\"avc1."), "{mime}");
    let avc = mime
        .trim_start_matches("video/mp4; codecs=\"avc1.")
        .chars()
        .take(6)
        .collect::<String>();
    assert!(
        avc.len() == 6 && avc.chars().all(|c| c.is_ascii_hexdigit()),
        "{mime}"
    );
    if expect.audio {
        assert!(mime.ends_with(",mp4a.40.2\""), "{mime}");
    } else {
        assert!(!mime.contains("mp4a") && mime.ends_with('"'), "{mime}");
    }

    // Files are in the work dir; init has moov (with mvex), segments are moof + mdat.
    assert!(prepared.init.starts_with(work));
    let init = std::fs::read(&prepared.init).unwrap();
    assert_eq!(top_boxes(&init), ["ftyp", "moov"], "{kind:?} init");
    assert!(contains(&init, b"mvex"), "{kind:?}: init without mvex");
    assert!(!prepared.segments.is_empty());
    let mut all = init.clone();
    let mut expected_start = 0;
    for (i, seg) in prepared.segments.iter().enumerate() {
        assert!(seg.path.starts_with(work));
        assert_eq!(seg.start_ms, expected_start, "{kind:?} segment {i}");
        expected_start += seg.duration_ms;
        let data = std::fs::read(&seg.path).unwrap();
        let boxes = top_boxes(&data);
        assert!(
            boxes.contains(&"moof".to_owned()) && boxes.last().map(String::as_str) == Some("mdat"),
            "{kind:?} segment {i}: {boxes:?}"
        );
        assert!(!boxes.contains(&"moov".to_owned()));
        all.extend_from_slice(&data);
        // Segments are about 4 s; transcoded ones end at forced keyframes.
        let last = i + 1 == prepared.segments.len();
        if !last {
            assert!(seg.duration_ms <= 12_000, "{kind:?} segment {i}: {seg:?}");
            if prepared.preparation == Preparation::Transcoded {
                assert!(
                    (3_500..=4_600).contains(&seg.duration_ms),
                    "{kind:?} segment {i}: {seg:?}"
                );
            }
        }
    }
    assert_eq!(prepared.duration_ms, expected_start, "the segments add up");
    assert!(
        (prepared.duration_ms as f64 / 1000.0 - source_secs).abs() < 0.5,
        "{kind:?}: {} ms vs source {source_secs} s",
        prepared.duration_ms
    );

    // init + segments, concatenated, is one playable file of the whole length.
    let joined = work.join("joined-for-test.mp4");
    std::fs::write(&joined, &all).unwrap();
    let back = ffprobe(&joined);
    let back_secs = duration_of(&back);
    assert!(
        (back_secs - source_secs).abs() < 0.5,
        "{kind:?}: joined {back_secs} s vs source {source_secs} s"
    );
    let videos = streams(&back, "video");
    assert_eq!(videos.len(), 1, "{kind:?}");
    assert_eq!(videos[0]["codec_name"], "h264");
    assert_eq!(videos[0]["pix_fmt"], "yuv420p");
    if prepared.preparation == Preparation::Transcoded {
        assert_eq!(videos[0]["width"], prepared.width);
        assert_eq!(videos[0]["height"], prepared.height);
        let rotation = videos[0]["side_data_list"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|sd| sd["rotation"].as_f64())
            .find(|r| *r != 0.0);
        assert_eq!(rotation, None, "{kind:?}: the output must be upright");
    }
    let audios = streams(&back, "audio");
    assert_eq!(audios.len(), usize::from(expect.audio), "{kind:?}");
    if expect.audio {
        assert_eq!(audios[0]["codec_name"], "aac");
    }
    std::fs::remove_file(&joined).unwrap();

    // The thumbnail: a JPEG fitting 320×180 with even sides.
    let thumb = prepared.thumb.as_ref().expect("a thumbnail");
    assert!(thumb.starts_with(work));
    let jpeg = std::fs::read(thumb).unwrap();
    assert_eq!(&jpeg[..2], &[0xff, 0xd8], "JPEG magic");
    let t = ffprobe(thumb);
    let tv = &streams(&t, "video")[0];
    let (tw, th) = (
        tv["width"].as_u64().unwrap(),
        tv["height"].as_u64().unwrap(),
    );
    assert!(tw <= 320 && th <= 180 && even(tw) && even(th), "{tw}×{th}");
    // The thumbnail has the video's orientation.
    assert_eq!(
        tw >= th,
        prepared.width >= prepared.height,
        "{kind:?}: thumb {tw}×{th}"
    );
}

/// Processes running with `needle` in their command line or as their working directory.
fn processes_using(needle: &Path) -> Vec<String> {
    let needle_s = needle.to_string_lossy().into_owned();
    let mut found = Vec::new();
    for entry in std::fs::read_dir("/proc").unwrap().flatten() {
        let pid = entry.file_name().to_string_lossy().into_owned();
        if !pid.bytes().all(|b| b.is_ascii_digit()) {
            continue;
        }
        let cwd = std::fs::read_link(entry.path().join("cwd")).ok();
        let cmdline = std::fs::read(entry.path().join("cmdline"))
            .map(|c| String::from_utf8_lossy(&c).replace('\0', " "))
            .unwrap_or_default();
        if cwd.as_deref() == Some(needle) || cmdline.contains(&needle_s) {
            found.push(format!("{pid}: {cmdline}"));
        }
    }
    found
}

#[tokio::test]
async fn h264_aac_mp4_is_remuxed() {
    let (result, work) = prepare_fixture(Fixture::H264AacMp4).await;
    let prepared = result.expect("prepared");
    check(
        Fixture::H264AacMp4,
        &prepared,
        work.path(),
        Expect {
            preparation: Preparation::Remuxed,
            audio: true,
            size: Some((640, 360)),
        },
    );
    // Keyframes every 2 s: cut at 4 s.
    assert_eq!(prepared.segments.len(), 2, "{:?}", prepared.segments);
    assert_eq!(prepared.segments[0].duration_ms, 4000);
}

#[tokio::test]
async fn full_hd_h264_is_remuxed_at_full_size() {
    let (result, work) = prepare_fixture(Fixture::FullHd1080p).await;
    let prepared = result.expect("prepared");
    check(
        Fixture::FullHd1080p,
        &prepared,
        work.path(),
        Expect {
            preparation: Preparation::Remuxed,
            audio: true,
            size: Some((1920, 1080)),
        },
    );
}

#[tokio::test]
async fn hevc_mkv_is_transcoded() {
    let (result, work) = prepare_fixture(Fixture::HevcMkv).await;
    let prepared = result.expect("prepared");
    check(
        Fixture::HevcMkv,
        &prepared,
        work.path(),
        Expect {
            preparation: Preparation::Transcoded,
            audio: true,
            size: Some((640, 360)),
        },
    );
    // 5 s with keyframes forced every 4 s.
    assert_eq!(prepared.segments.len(), 2, "{:?}", prepared.segments);
}

#[tokio::test]
async fn vp9_opus_webm_is_transcoded_with_aac_audio() {
    let (result, work) = prepare_fixture(Fixture::Vp9OpusWebm).await;
    let prepared = result.expect("prepared");
    check(
        Fixture::Vp9OpusWebm,
        &prepared,
        work.path(),
        Expect {
            preparation: Preparation::Transcoded,
            audio: true,
            size: Some((640, 360)),
        },
    );
}

#[tokio::test]
async fn a_camera_mov_keeps_its_h264_and_gets_aac_audio() {
    let (result, work) = prepare_fixture(Fixture::QuickTimeMov).await;
    let prepared = result.expect("prepared");
    // PCM audio must be re-encoded, so the result counts as transcoded, but the H.264 video is
    // copied as it is (same size; keyframes every 2 s give 4-s segments).
    check(
        Fixture::QuickTimeMov,
        &prepared,
        work.path(),
        Expect {
            preparation: Preparation::Transcoded,
            audio: true,
            size: Some((640, 360)),
        },
    );
    // The fixture's encoder settings (x264's SEI in the first frame) are still there.
    let first = std::fs::read(&prepared.segments[0].path).unwrap();
    assert!(
        contains(&first, b"keyint=50 "),
        "the source's H.264 is copied, not re-encoded"
    );
}

#[tokio::test]
async fn a_silent_video_stays_silent() {
    let (result, work) = prepare_fixture(Fixture::NoAudio).await;
    let prepared = result.expect("prepared");
    check(
        Fixture::NoAudio,
        &prepared,
        work.path(),
        Expect {
            preparation: Preparation::Remuxed,
            audio: false,
            size: Some((640, 360)),
        },
    );
}

#[tokio::test]
async fn odd_dimensions_come_out_even() {
    let (result, work) = prepare_fixture(Fixture::OddDimensions).await;
    let prepared = result.expect("prepared");
    check(
        Fixture::OddDimensions,
        &prepared,
        work.path(),
        Expect {
            preparation: Preparation::Transcoded,
            audio: false,
            size: Some((320, 240)),
        },
    );
}

#[tokio::test]
async fn a_rotated_phone_video_comes_out_upright_and_portrait() {
    let source = ffprobe(&fixture(Fixture::PortraitRotated));
    let rotation = streams(&source, "video")[0]["side_data_list"][0]["rotation"].as_f64();
    assert!(
        rotation.is_some_and(|r| r.abs() == 90.0),
        "the fixture is rotated: {source}"
    );
    let (result, work) = prepare_fixture(Fixture::PortraitRotated).await;
    let prepared = result.expect("prepared");
    check(
        Fixture::PortraitRotated,
        &prepared,
        work.path(),
        Expect {
            preparation: Preparation::Transcoded,
            audio: true,
            size: Some((360, 640)),
        },
    );
}

#[tokio::test]
async fn a_one_frame_video_still_gives_a_segment() {
    let (result, work) = prepare_fixture(Fixture::OneFrame).await;
    let prepared = result.expect("prepared");
    check(
        Fixture::OneFrame,
        &prepared,
        work.path(),
        Expect {
            preparation: Preparation::Remuxed,
            audio: false,
            size: Some((640, 360)),
        },
    );
    assert_eq!(prepared.segments.len(), 1);
    assert_eq!(prepared.duration_ms, 40);
}

#[tokio::test]
async fn keyframes_too_far_apart_are_transcoded_instead_of_remuxed() {
    let (result, work) = prepare_fixture(Fixture::SparseKeyframes).await;
    let prepared = result.expect("prepared");
    check(
        Fixture::SparseKeyframes,
        &prepared,
        work.path(),
        Expect {
            preparation: Preparation::Transcoded,
            audio: false,
            size: Some((320, 180)),
        },
    );
    assert_eq!(prepared.segments.len(), 4, "{:?}", prepared.segments);
    // Nothing of the abandoned remux is left beside the segments in use.
    let mut names: Vec<String> = std::fs::read_dir(work.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert_eq!(
        names,
        [
            "index.m3u8",
            "init.mp4",
            "seg00000.m4s",
            "seg00001.m4s",
            "seg00002.m4s",
            "seg00003.m4s",
            "thumb.jpg"
        ]
    );
}

/// The reason for anything ffprobe's format whitelist stops.
const UNSUPPORTED: &str = "the file is not a video in a format Cloister accepts \
    (MP4, MOV, MKV, WebM, AVI, MPEG-TS, FLV, Ogg, MPEG or WMV)";

#[tokio::test]
async fn what_is_not_a_video_is_refused_for_good() {
    for kind in [Fixture::NotAVideo, Fixture::Text, Fixture::AudioOnly] {
        let (result, work) = prepare_fixture(kind).await;
        let err = result.expect_err("not a video");
        assert!(!err.retryable());
        if kind == Fixture::Text {
            // Named `.txt`, ffprobe takes it for ANSI art (`tty`), which the whitelist stops;
            // as a job's `original` it is no format at all (tests/processing_inputs.rs).
            assert!(matches!(err, MediaError::Refused(_)), "{kind:?}: {err:?}");
            assert_eq!(err.short_reason(), UNSUPPORTED);
        } else {
            assert!(matches!(err, MediaError::NotAVideo), "{kind:?}: {err:?}");
            assert_eq!(err.short_reason(), "the file is not a video");
        }
        // Nothing was written for it.
        assert_eq!(
            std::fs::read_dir(work.path()).unwrap().count(),
            0,
            "{kind:?}"
        );
    }
}

#[tokio::test]
async fn a_truncated_file_is_an_error_not_a_shorter_video() {
    for kind in [Fixture::Truncated, Fixture::TruncatedFaststart] {
        let (result, _work) = prepare_fixture(kind).await;
        let err = result.expect_err("truncated");
        assert!(
            matches!(err, MediaError::Unreadable(_)),
            "{kind:?}: {err:?}"
        );
        assert_eq!(err.short_reason(), "the video is damaged or incomplete");
        assert!(
            !err.retryable(),
            "{kind:?}: the same bytes fail the same way"
        );
        let input = fixture(kind);
        assert!(
            !err.to_string().contains(&*input.to_string_lossy()),
            "{err}"
        );
    }
}

#[tokio::test]
async fn cancelling_kills_ffmpeg_at_once() {
    let input = fixture(Fixture::LongMpeg4);
    let work = tempfile::tempdir().unwrap();
    let cancel = CancellationToken::new();
    let cancelled_at: Arc<Mutex<Option<Instant>>> = Arc::default();
    let on_progress = {
        let (cancel, cancelled_at) = (cancel.clone(), cancelled_at.clone());
        move |phase: JobPhase, fraction: f32| {
            if phase == JobPhase::Transcoding && fraction > 0.0 && !cancel.is_cancelled() {
                *cancelled_at.lock().unwrap() = Some(Instant::now());
                cancel.cancel();
            }
        }
    };
    let tools = tools();
    let future = prepare(&tools, &input, work.path(), &cancel, &on_progress);
    fn assert_send<T: Send>(_: &T) {}
    assert_send(&future);
    let result = future.await;
    let returned = Instant::now();
    assert!(matches!(result, Err(MediaError::Cancelled)), "{result:?}");
    let at = cancelled_at
        .lock()
        .unwrap()
        .expect("cancelled from the progress callback");
    assert!(
        returned - at < Duration::from_secs(2),
        "took {:?}",
        returned - at
    );
    assert!(
        processes_using(work.path()).is_empty(),
        "{:?}",
        processes_using(work.path())
    );
    assert!(
        processes_using(&input).is_empty(),
        "{:?}",
        processes_using(&input)
    );
    // A cancelled token stops prepare before it starts anything.
    let again = prepare(&tools, &input, work.path(), &cancel, &no_progress).await;
    assert!(matches!(again, Err(MediaError::Cancelled)));
}

#[tokio::test]
async fn a_run_past_its_time_limit_is_killed() {
    let input = fixture(Fixture::LongMpeg4);
    let work = tempfile::tempdir().unwrap();
    let tools = MediaTools {
        time_limit_base: Duration::from_millis(200),
        time_limit_factor: 0.0,
        ..tools()
    };
    let started = Instant::now();
    let result = prepare(
        &tools,
        &input,
        work.path(),
        &CancellationToken::new(),
        &no_progress,
    )
    .await;
    let err = result.expect_err("timed out");
    assert!(
        matches!(err, MediaError::TimedOut(d) if d == Duration::from_millis(200)),
        "{err:?}"
    );
    assert!(err.retryable());
    assert!(started.elapsed() < Duration::from_secs(5));
    assert!(processes_using(work.path()).is_empty());
}

#[tokio::test]
async fn progress_grows_through_the_phases() {
    let input = fixture(Fixture::LongMpeg4);
    let work = tempfile::tempdir().unwrap();
    let seen: Arc<Mutex<Vec<(JobPhase, f32)>>> = Arc::default();
    let on_progress = {
        let seen = seen.clone();
        move |phase: JobPhase, fraction: f32| seen.lock().unwrap().push((phase, fraction))
    };
    let prepared = prepare(
        &tools(),
        &input,
        work.path(),
        &CancellationToken::new(),
        &on_progress,
    )
    .await
    .expect("prepared");
    check(
        Fixture::LongMpeg4,
        &prepared,
        work.path(),
        Expect {
            preparation: Preparation::Transcoded,
            audio: false,
            size: Some((1280, 720)),
        },
    );
    let seen = seen.lock().unwrap().clone();
    let phases: Vec<JobPhase> = seen.iter().fold(Vec::new(), |mut acc, (p, _)| {
        if acc.last() != Some(p) {
            acc.push(*p);
        }
        acc
    });
    assert_eq!(
        phases,
        [
            JobPhase::Probing,
            JobPhase::Transcoding,
            JobPhase::Thumbnail
        ],
        "{seen:?}"
    );
    let transcoding: Vec<f32> = seen
        .iter()
        .filter(|(p, _)| *p == JobPhase::Transcoding)
        .map(|(_, f)| *f)
        .collect();
    assert!(
        transcoding.windows(2).all(|w| w[0] <= w[1]),
        "{transcoding:?}"
    );
    assert!(transcoding.iter().all(|f| (0.0..=1.0).contains(f)));
    let between = transcoding
        .iter()
        .filter(|f| **f > 0.0 && **f < 1.0)
        .count();
    assert!(between >= 2, "fractions along the way: {transcoding:?}");
    assert_eq!(transcoding.last(), Some(&1.0));
}

#[tokio::test]
async fn a_missing_ffmpeg_is_a_tool_error() {
    let work = tempfile::tempdir().unwrap();
    for nice in [false, true] {
        let tools = MediaTools {
            ffmpeg: "/nonexistent/ffmpeg".into(),
            nice,
            ..tools()
        };
        let result = prepare(
            &tools,
            &fixture(Fixture::NoAudio),
            work.path(),
            &CancellationToken::new(),
            &no_progress,
        )
        .await;
        let err = result.expect_err("no ffmpeg");
        assert!(matches!(err, MediaError::Tool(_)), "nice {nice}: {err:?}");
        assert!(err.retryable());
    }
    let tools = MediaTools {
        ffprobe: "/nonexistent/ffprobe".into(),
        ..tools()
    };
    let err = prepare(
        &tools,
        &fixture(Fixture::NoAudio),
        work.path(),
        &CancellationToken::new(),
        &no_progress,
    )
    .await
    .expect_err("no ffprobe");
    assert!(matches!(err, MediaError::Tool(_)), "{err:?}");
}

/// Video packets of a file as (decode time, duration) in seconds, from ffprobe.
fn video_packets(path: &Path) -> Vec<(f64, f64)> {
    let out = Command::new("ffprobe")
        .args(["-v", "error", "-select_streams", "v:0", "-of", "csv=p=0"])
        .args(["-show_entries", "packet=dts_time,duration_time"])
        .arg(path)
        .output()
        .expect("ffprobe runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|line| {
            let (dts, duration) = line.split_once(',')?;
            Some((
                dts.parse().ok()?,
                duration.trim_end_matches(',').parse().ok()?,
            ))
        })
        .collect()
}

#[tokio::test]
async fn a_variable_frame_rate_video_is_timed_by_its_fragments() {
    let (result, work) = prepare_fixture(Fixture::VariableFrameRate).await;
    let prepared = result.expect("prepared");
    // The whole length (5.9 s, not the 3.2 s ffmpeg's playlist claims), the segments adding up.
    check(
        Fixture::VariableFrameRate,
        &prepared,
        work.path(),
        Expect {
            preparation: Preparation::Remuxed,
            audio: false,
            size: Some((320, 240)),
        },
    );
    assert!(prepared.segments.len() >= 2, "{prepared:?}");
    // Each segment's listed time is that of the frames it holds.
    let init = std::fs::read(&prepared.init).unwrap();
    let mut origin = None;
    let mut frames = 0;
    for (i, seg) in prepared.segments.iter().enumerate() {
        let joined = work.path().join(format!("alone-{i}.mp4"));
        let mut data = init.clone();
        data.extend(std::fs::read(&seg.path).unwrap());
        std::fs::write(&joined, data).unwrap();
        let packets = video_packets(&joined);
        frames += packets.len();
        let first = packets.first().expect("frames").0;
        let end = packets.iter().map(|(d, l)| d + l).fold(0.0, f64::max);
        let origin = *origin.get_or_insert(first);
        let (start, length) = (first - origin, end - first);
        assert!(
            (seg.start_ms as f64 / 1000.0 - start).abs() < 0.01,
            "segment {i} starts at {start} s: {seg:?}"
        );
        assert!(
            (seg.duration_ms as f64 / 1000.0 - length).abs() < 0.01,
            "segment {i} lasts {length} s: {seg:?}"
        );
    }
    assert_eq!(frames, 80);
    let source = video_packets(&fixture(Fixture::VariableFrameRate));
    let real = source.iter().map(|(d, l)| d + l).fold(0.0, f64::max) - source[0].0;
    assert!(
        (prepared.duration_ms as f64 / 1000.0 - real).abs() < 0.01,
        "{} ms, the frames span {real} s",
        prepared.duration_ms
    );
}

/// Whether anything opened `fifo` for reading while `during` ran: a writer blocks on it until a
/// reader comes.
async fn opened_while<T>(fifo: &Path, during: impl std::future::Future<Output = T>) -> (T, bool) {
    use std::os::unix::fs::OpenOptionsExt;
    let status = Command::new("mkfifo").arg(fifo).status().expect("mkfifo");
    assert!(status.success());
    let opened = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let writer = {
        let (fifo, opened) = (fifo.to_owned(), opened.clone());
        std::thread::spawn(move || {
            if let Ok(file) = std::fs::OpenOptions::new().write(true).open(&fifo) {
                opened.store(true, std::sync::atomic::Ordering::SeqCst);
                drop(file);
            }
        })
    };
    let out = tokio::time::timeout(Duration::from_secs(60), during)
        .await
        .expect("bounded");
    let was_opened = opened.load(std::sync::atomic::Ordering::SeqCst);
    // Release the writer: a non-blocking reader completes its open.
    let _reader = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NONBLOCK)
        .open(fifo)
        .expect("open the fifo");
    writer.join().unwrap();
    (out, was_opened)
}

#[tokio::test]
async fn playlists_and_concat_lists_are_refused_without_reading_what_they_name() {
    let dir = tempfile::tempdir().unwrap();
    let target = dir.path().join("target.ts");
    let lists = [
        (
            "playlist",
            format!(
                "#EXTM3U\n#EXT-X-TARGETDURATION:2\n#EXTINF:2.0,\n{}\n#EXT-X-ENDLIST\n",
                target.display()
            ),
        ),
        (
            "concat",
            "ffconcat version 1.0\nfile target.ts\n".to_owned(),
        ),
    ];
    for (name, text) in lists {
        let input = dir.path().join(name);
        std::fs::write(&input, text).unwrap();
        let work = tempfile::tempdir().unwrap();
        let cancel = CancellationToken::new();
        let tools = tools();
        let (result, opened) = opened_while(
            &target,
            prepare(&tools, &input, work.path(), &cancel, &no_progress),
        )
        .await;
        assert!(!opened, "{name}: the file it names was opened");
        let err = result.expect_err(name);
        assert!(matches!(err, MediaError::Refused(_)), "{name}: {err:?}");
        assert_eq!(err.short_reason(), UNSUPPORTED);
        assert!(!err.retryable());
        assert_eq!(std::fs::read_dir(work.path()).unwrap().count(), 0);
        std::fs::remove_file(&target).unwrap();
    }
}

#[tokio::test]
async fn a_file_claiming_a_huge_duration_is_refused_before_decoding() {
    let size = std::fs::metadata(fixture(Fixture::HugeDuration))
        .unwrap()
        .len();
    let (result, work) = tokio::time::timeout(
        Duration::from_secs(60),
        prepare_fixture(Fixture::HugeDuration),
    )
    .await
    .expect("refused at once, not decoded for hours");
    let err = result.expect_err("refused");
    assert!(matches!(err, MediaError::Refused(_)), "{err:?}");
    assert!(!err.retryable());
    assert_eq!(
        err.short_reason(),
        format!("the file claims to last 27 hours, more than a file of {size} bytes can hold")
    );
    assert_eq!(std::fs::read_dir(work.path()).unwrap().count(), 0);
}

#[tokio::test]
async fn a_picture_beyond_4k_is_refused_before_decoding() {
    let (result, work) = prepare_fixture(Fixture::HugeDimensions).await;
    let err = result.expect_err("refused");
    assert!(matches!(err, MediaError::Refused(_)), "{err:?}");
    assert!(!err.retryable());
    assert_eq!(
        err.short_reason(),
        "the picture is too large (7680×4320); at most 4096×2304 is accepted"
    );
    assert_eq!(std::fs::read_dir(work.path()).unwrap().count(), 0);
}

#[tokio::test]
async fn a_tiny_file_whose_frames_outrun_its_claim_is_stopped() {
    // 1.3 KB claiming 2 s, its second frame at 100 000 s: transcoded at a constant rate it would
    // become 28 hours of segments. Its bound: 64 + 1 files, 64 MiB + 2 MiB.
    let (result, work) = tokio::time::timeout(
        Duration::from_secs(120),
        prepare_fixture(Fixture::FramesOutrunTheClaim),
    )
    .await
    .expect("stopped in bounded time");
    let err = result.expect_err("stopped");
    assert!(
        matches!(&err, MediaError::OutputTooLarge(limit) if limit == "65 files"),
        "{err:?}"
    );
    assert!(!err.retryable());
    assert_eq!(
        err.short_reason(),
        "the converted video grew past its limit of 65 files"
    );
    let files = std::fs::read_dir(work.path()).unwrap().count();
    let bytes = dir_bytes(work.path());
    eprintln!("stopped with {files} files, {bytes} B written");
    assert!(files <= 1000, "{files} files");
    assert!(bytes <= 66 << 20, "{bytes} B");
    assert!(processes_using(work.path()).is_empty());
}

/// The total size of the files in `dir`.
fn dir_bytes(dir: &Path) -> u64 {
    std::fs::read_dir(dir)
        .unwrap()
        .flatten()
        .filter_map(|e| e.metadata().ok())
        .filter(|m| m.is_file())
        .map(|m| m.len())
        .sum()
}

#[tokio::test]
async fn a_transcode_past_its_output_bound_is_stopped() {
    // A 5-s 360p transcode writes about a MB; here its bound is 64 KiB. (Not LongMpeg4: the
    // cancelling test looks for any ffmpeg reading that file.)
    let bound = 64 << 10;
    let tools = MediaTools {
        output_base: bound,
        output_per_input_byte: 0,
        output_per_sec: 0,
        ..tools()
    };
    let work = tempfile::tempdir().unwrap();
    let result = prepare(
        &tools,
        &fixture(Fixture::HevcMkv),
        work.path(),
        &CancellationToken::new(),
        &no_progress,
    )
    .await;
    let err = result.expect_err("stopped");
    assert!(
        matches!(&err, MediaError::OutputTooLarge(limit) if limit == "65 KB"),
        "{err:?}"
    );
    assert!(!err.retryable());
    let written = dir_bytes(work.path());
    eprintln!("bound {bound} B, written when stopped {written} B");
    assert!(
        written <= 2 * bound,
        "wrote {written} B past a bound of {bound} B"
    );
    assert!(processes_using(work.path()).is_empty());
}

#[tokio::test]
async fn ffmpeg_runs_within_its_memory_limit() {
    // ffprobe and an ordinary run fit in 384 MiB; a 4K encoder does not (it needs ~512 MiB).
    let tools = MediaTools {
        memory_limit: Some(384 << 20),
        ..tools()
    };
    let work = tempfile::tempdir().unwrap();
    let cancel = CancellationToken::new();
    let big = prepare(
        &tools,
        &fixture(Fixture::UhdHevc),
        work.path(),
        &cancel,
        &no_progress,
    )
    .await
    .expect_err("out of memory");
    assert!(matches!(big, MediaError::OutOfMemory(_)), "{big:?}");
    assert!(!big.retryable());
    assert_eq!(
        big.short_reason(),
        "processing the video needs more memory than the server allows"
    );
    let small = tempfile::tempdir().unwrap();
    prepare(
        &tools,
        &fixture(Fixture::OddDimensions),
        small.path(),
        &cancel,
        &no_progress,
    )
    .await
    .expect("a small transcode fits");
}
