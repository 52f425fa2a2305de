//! Small test videos made with the real ffmpeg from lavfi sources (testsrc2 + sine), a few seconds
//! each so tests stay fast on two cores. `make` writes one into a directory (reusing it when it
//! is already there) and returns its path.

#![allow(dead_code)] // Each test binary uses a different part of this helper.

use std::path::{Path, PathBuf};
use std::process::Command;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Fixture {
    /// H.264 (yuv420p, keyframe every 2 s) + AAC in MP4, 640×360, 5 s: the remux path.
    H264AacMp4,
    /// HEVC + AAC in Matroska, 640×360, 5 s: transcoded.
    HevcMkv,
    /// VP9 + Opus in WebM, 640×360, 4 s: transcoded, Opus → AAC.
    Vp9OpusWebm,
    /// H.264 + 16-bit PCM in QuickTime, as cameras write it, 640×360, 4 s: the video is kept,
    /// the audio becomes AAC.
    QuickTimeMov,
    /// H.264 without audio in MP4, 640×360, 4 s: remuxed, no audio.
    NoAudio,
    /// H.264 4:4:4 at 321×241 without audio, 3 s: transcoded to even sides.
    OddDimensions,
    /// H.264 + AAC stored 640×360 with a 90° display rotation, 4 s: a phone's portrait video,
    /// shown 360×640.
    PortraitRotated,
    /// One H.264 frame, no audio.
    OneFrame,
    /// H.264 + AAC at 1920×1080, 3 s: still remuxed (≤ 1080p).
    FullHd1080p,
    /// 64 KiB of pseudo-random bytes.
    NotAVideo,
    /// A text file.
    Text,
    /// AAC in an M4A, 3 s: audio only, no video.
    AudioOnly,
    /// The first 40 % of an MP4 whose index (moov) is at the end: no index at all.
    Truncated,
    /// The first 40 % of a fast-start MP4: an index promising 5 s, media for 2.
    TruncatedFaststart,
    /// H.264 at 320×180 with a single keyframe in 16 s: a remux would make one 16-s segment.
    SparseKeyframes,
    /// MPEG-4 Part 2 at 1280×720, 12 s, no audio: a transcode that takes several seconds.
    LongMpeg4,
    /// H.264 in Matroska with irregular frame timing: 80 frames, 40 at 25 a second then 40 at
    /// 0.108 s each (5.92 s), a keyframe every 10 frames. ffmpeg's playlist calls it 3.2 s.
    VariableFrameRate,
    /// An HLS playlist naming a local MPEG-TS file by its absolute path (made beside it).
    HlsPlaylist,
    /// An ffconcat list naming `concat-target.ts` beside it.
    ConcatList,
    /// Two H.264 frames in Matroska, the second at 100 000 s: a few KB claiming 28 hours.
    HugeDuration,
    /// [`Fixture::HugeDuration`] with its Matroska `Duration` rewritten to 2 s: a 1.3 KB file whose
    /// claim is plausible but whose frames run for 28 hours.
    FramesOutrunTheClaim,
    /// One H.264 frame at 7680×4320.
    HugeDimensions,
    /// HEVC at 3840×2160, 1 s, no audio: a 4K transcode, whose encoder needs more than 384 MiB
    /// of address space.
    UhdHevc,
}

impl Fixture {
    pub const ALL: [Fixture; 23] = [
        Fixture::H264AacMp4,
        Fixture::HevcMkv,
        Fixture::Vp9OpusWebm,
        Fixture::QuickTimeMov,
        Fixture::NoAudio,
        Fixture::OddDimensions,
        Fixture::PortraitRotated,
        Fixture::OneFrame,
        Fixture::FullHd1080p,
        Fixture::NotAVideo,
        Fixture::Text,
        Fixture::AudioOnly,
        Fixture::Truncated,
        Fixture::TruncatedFaststart,
        Fixture::SparseKeyframes,
        Fixture::LongMpeg4,
        Fixture::VariableFrameRate,
        Fixture::HlsPlaylist,
        Fixture::ConcatList,
        Fixture::HugeDuration,
        Fixture::FramesOutrunTheClaim,
        Fixture::HugeDimensions,
        Fixture::UhdHevc,
    ];

    pub fn file_name(self) -> &'static str {
        match self {
            Fixture::H264AacMp4 => "h264-aac.mp4",
            Fixture::HevcMkv => "hevc-aac.mkv",
            Fixture::Vp9OpusWebm => "vp9-opus.webm",
            Fixture::QuickTimeMov => "h264-pcm.mov",
            Fixture::NoAudio => "h264-silent.mp4",
            Fixture::OddDimensions => "odd-321x241.mp4",
            Fixture::PortraitRotated => "portrait-rotated.mp4",
            Fixture::OneFrame => "one-frame.mp4",
            Fixture::FullHd1080p => "full-hd.mp4",
            Fixture::NotAVideo => "random.bin",
            Fixture::Text => "notes.txt",
            Fixture::AudioOnly => "audio-only.m4a",
            Fixture::Truncated => "truncated.mp4",
            Fixture::TruncatedFaststart => "truncated-faststart.mp4",
            Fixture::SparseKeyframes => "sparse-keyframes.mp4",
            Fixture::LongMpeg4 => "long-mpeg4.mkv",
            Fixture::VariableFrameRate => "vfr.mkv",
            Fixture::HlsPlaylist => "playlist.m3u8",
            Fixture::ConcatList => "list.ffconcat",
            Fixture::HugeDuration => "huge-duration.mkv",
            Fixture::FramesOutrunTheClaim => "claims-2s-runs-28h.mkv",
            Fixture::HugeDimensions => "huge-8k.mp4",
            Fixture::UhdHevc => "uhd-hevc.mkv",
        }
    }
}

/// Writes the fixture into `dir` (unless a previous call did) and returns its path. Generation
/// goes to a temporary name first, so a concurrent or interrupted run never leaves half a file
/// under the real name.
pub fn make(kind: Fixture, dir: &Path) -> PathBuf {
    let path = dir.join(kind.file_name());
    if path.is_file() {
        return path;
    }
    let partial = dir.join(format!(
        ".{}.{}.partial",
        kind.file_name(),
        std::process::id()
    ));
    generate(kind, dir, &partial);
    std::fs::rename(&partial, &path).expect("rename fixture");
    path
}

fn generate(kind: Fixture, dir: &Path, out: &Path) {
    let out_s = out.to_str().expect("utf-8 fixture path");
    match kind {
        Fixture::H264AacMp4 => ffmpeg(&[
            &["-f", "lavfi", "-i", &video(640, 360, 5.0)],
            &["-f", "lavfi", "-i", &sine(5.0)],
            &[
                "-c:v",
                "libx264",
                "-preset",
                "ultrafast",
                "-pix_fmt",
                "yuv420p",
                "-g",
                "50",
            ],
            &[
                "-c:a",
                "aac",
                "-b:a",
                "96k",
                "-movflags",
                "+faststart",
                "-f",
                "mp4",
                out_s,
            ],
        ]),
        Fixture::HevcMkv => ffmpeg(&[
            &["-f", "lavfi", "-i", &video(640, 360, 5.0)],
            &["-f", "lavfi", "-i", &sine(5.0)],
            &[
                "-c:v",
                "libx265",
                "-preset",
                "ultrafast",
                "-x265-params",
                "log-level=error",
            ],
            &[
                "-pix_fmt", "yuv420p", "-c:a", "aac", "-f", "matroska", out_s,
            ],
        ]),
        Fixture::Vp9OpusWebm => ffmpeg(&[
            &["-f", "lavfi", "-i", &video(640, 360, 4.0)],
            &["-f", "lavfi", "-i", &sine(4.0)],
            &[
                "-c:v",
                "libvpx-vp9",
                "-deadline",
                "realtime",
                "-cpu-used",
                "8",
                "-b:v",
                "400k",
            ],
            &["-c:a", "libopus", "-b:a", "64k", "-f", "webm", out_s],
        ]),
        Fixture::QuickTimeMov => ffmpeg(&[
            &["-f", "lavfi", "-i", &video(640, 360, 4.0)],
            &["-f", "lavfi", "-i", &sine(4.0)],
            &[
                "-c:v",
                "libx264",
                "-preset",
                "ultrafast",
                "-pix_fmt",
                "yuv420p",
                "-g",
                "50",
            ],
            &["-c:a", "pcm_s16le", "-f", "mov", out_s],
        ]),
        Fixture::NoAudio => ffmpeg(&[
            &["-f", "lavfi", "-i", &video(640, 360, 4.0)],
            &[
                "-c:v",
                "libx264",
                "-preset",
                "ultrafast",
                "-pix_fmt",
                "yuv420p",
                "-g",
                "50",
            ],
            &["-an", "-f", "mp4", out_s],
        ]),
        Fixture::OddDimensions => ffmpeg(&[
            &["-f", "lavfi", "-i", &video(321, 241, 3.0)],
            &[
                "-c:v",
                "libx264",
                "-preset",
                "ultrafast",
                "-pix_fmt",
                "yuv444p",
            ],
            &["-an", "-f", "mp4", out_s],
        ]),
        Fixture::PortraitRotated => {
            // ffmpeg 5.1 drops `rotate` metadata on an encode (and has no -display_rotation), so
            // the display matrix is written by a second, stream-copying pass.
            let upright = dir.join(format!(".upright.{}.mp4", std::process::id()));
            let upright_s = upright.to_str().expect("utf-8 fixture path");
            ffmpeg(&[
                &["-f", "lavfi", "-i", &video(640, 360, 4.0)],
                &["-f", "lavfi", "-i", &sine(4.0)],
                &[
                    "-c:v",
                    "libx264",
                    "-preset",
                    "ultrafast",
                    "-pix_fmt",
                    "yuv420p",
                    "-g",
                    "50",
                ],
                &["-c:a", "aac", "-f", "mp4", upright_s],
            ]);
            ffmpeg(&[
                &["-i", upright_s, "-map", "0", "-c", "copy"],
                &["-metadata:s:v:0", "rotate=90", "-f", "mp4", out_s],
            ]);
            std::fs::remove_file(&upright).expect("remove the upright copy");
        }
        Fixture::OneFrame => ffmpeg(&[
            &["-f", "lavfi", "-i", "testsrc2=size=640x360:rate=25"],
            &["-frames:v", "1", "-c:v", "libx264", "-preset", "ultrafast"],
            &["-pix_fmt", "yuv420p", "-an", "-f", "mp4", out_s],
        ]),
        Fixture::FullHd1080p => ffmpeg(&[
            &["-f", "lavfi", "-i", &video(1920, 1080, 3.0)],
            &["-f", "lavfi", "-i", &sine(3.0)],
            &[
                "-c:v",
                "libx264",
                "-preset",
                "ultrafast",
                "-pix_fmt",
                "yuv420p",
                "-g",
                "50",
            ],
            &["-c:a", "aac", "-f", "mp4", out_s],
        ]),
        Fixture::NotAVideo => {
            // xorshift64: the same "random" bytes on every run.
            let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
            let bytes: Vec<u8> = (0..64 * 1024)
                .map(|_| {
                    x ^= x << 13;
                    x ^= x >> 7;
                    x ^= x << 17;
                    (x >> 24) as u8
                })
                .collect();
            std::fs::write(out, bytes).expect("write random bytes");
        }
        Fixture::Text => std::fs::write(
            out,
            "Shopping list\n- milk\n- bread\n\nThis is not a video, whatever its name says.\n"
                .repeat(50),
        )
        .expect("write text"),
        Fixture::AudioOnly => ffmpeg(&[
            &["-f", "lavfi", "-i", &sine(3.0)],
            &["-c:a", "aac", "-f", "ipod", out_s],
        ]),
        Fixture::Truncated | Fixture::TruncatedFaststart => {
            let whole = dir.join(format!(".whole.{}.mp4", std::process::id()));
            let whole_s = whole.to_str().expect("utf-8 fixture path");
            let faststart = if kind == Fixture::TruncatedFaststart {
                "+faststart"
            } else {
                // The default: mdat first, moov at the end.
                "-faststart"
            };
            ffmpeg(&[
                &["-f", "lavfi", "-i", &video(640, 360, 5.0)],
                &["-f", "lavfi", "-i", &sine(5.0)],
                &[
                    "-c:v",
                    "libx264",
                    "-preset",
                    "ultrafast",
                    "-pix_fmt",
                    "yuv420p",
                    "-g",
                    "50",
                ],
                &["-c:a", "aac", "-movflags", faststart, "-f", "mp4", whole_s],
            ]);
            let bytes = std::fs::read(&whole).expect("read the whole file");
            std::fs::write(out, &bytes[..bytes.len() * 40 / 100]).expect("write truncated");
            std::fs::remove_file(&whole).expect("remove the whole file");
        }
        Fixture::SparseKeyframes => ffmpeg(&[
            &["-f", "lavfi", "-i", &video(320, 180, 16.0)],
            X264_FAST,
            &["-x264-params", "keyint=1000:min-keyint=1000:scenecut=0"],
            &["-an", "-f", "mp4", out_s],
        ]),
        Fixture::LongMpeg4 => ffmpeg(&[
            &["-f", "lavfi", "-i", &video(1280, 720, 12.0)],
            &["-c:v", "mpeg4", "-q:v", "5", "-an", "-f", "matroska", out_s],
        ]),
        Fixture::VariableFrameRate => ffmpeg(&[
            &["-f", "lavfi", "-i", "testsrc2=size=320x240:rate=25"],
            &["-frames:v", "80", "-vf", VFR_TIMES, "-vsync", "passthrough"],
            X264_FAST,
            &["-g", "10", "-an", "-f", "matroska", out_s],
        ]),
        Fixture::HlsPlaylist => {
            let target = local_ts(dir, "hls-target.ts");
            let playlist = format!(
                "#EXTM3U\n#EXT-X-TARGETDURATION:2\n#EXTINF:2.0,\n{}\n#EXT-X-ENDLIST\n",
                target.display()
            );
            std::fs::write(out, playlist).expect("write the playlist");
        }
        Fixture::ConcatList => {
            local_ts(dir, "concat-target.ts");
            std::fs::write(out, "ffconcat version 1.0\nfile concat-target.ts\n")
                .expect("write the list");
        }
        Fixture::HugeDuration => ffmpeg(&[
            &["-f", "lavfi", "-i", "color=black:size=64x64:rate=25"],
            &[
                "-frames:v",
                "2",
                "-vf",
                "setpts='N*100000/TB'",
                "-vsync",
                "passthrough",
            ],
            X264_FAST,
            &["-an", "-f", "matroska", out_s],
        ]),
        Fixture::FramesOutrunTheClaim => {
            let mut bytes = std::fs::read(make(Fixture::HugeDuration, dir)).expect("read");
            // The Segment Info's Duration: ID 0x4489, size 8, a big-endian f64 in milliseconds.
            let at = bytes
                .windows(3)
                .position(|w| w == [0x44, 0x89, 0x88])
                .expect("a Duration element")
                + 3;
            bytes[at..at + 8].copy_from_slice(&2000.0f64.to_be_bytes());
            std::fs::write(out, bytes).expect("write the liar");
        }
        Fixture::HugeDimensions => ffmpeg(&[
            &["-f", "lavfi", "-i", "color=black:size=7680x4320:rate=25"],
            &["-frames:v", "1", "-c:v", "libx264", "-preset", "ultrafast"],
            &["-pix_fmt", "yuv420p", "-an", "-f", "mp4", out_s],
        ]),
        Fixture::UhdHevc => ffmpeg(&[
            &["-f", "lavfi", "-i", &video(3840, 2160, 1.0)],
            &["-c:v", "libx265", "-preset", "ultrafast"],
            &["-x265-params", "log-level=error", "-pix_fmt", "yuv420p"],
            &["-an", "-f", "matroska", out_s],
        ]),
    }
}

/// H.264 quickly, in the 4:2:0 every player takes.
const X264_FAST: &[&str] = &[
    "-c:v",
    "libx264",
    "-preset",
    "ultrafast",
    "-pix_fmt",
    "yuv420p",
];

/// Frame times of [`Fixture::VariableFrameRate`]: 1.6 s at 25 a second, then 0.108 s apart.
const VFR_TIMES: &str = "setpts='if(lt(N,40),N/25,1.6+(N-40)*0.108)/TB'";

/// A 2-s H.264 MPEG-TS clip at `dir/name` (kept if already there), for playlists to name.
fn local_ts(dir: &Path, name: &str) -> PathBuf {
    let path = dir.join(name);
    if !path.is_file() {
        let partial = dir.join(format!(".{name}.{}.partial", std::process::id()));
        let partial_s = partial.to_str().expect("utf-8 fixture path");
        ffmpeg(&[
            &["-f", "lavfi", "-i", &video(320, 240, 2.0)],
            X264_FAST,
            &["-an", "-f", "mpegts", partial_s],
        ]);
        std::fs::rename(&partial, &path).expect("rename the target");
    }
    std::fs::canonicalize(path).expect("absolute target path")
}

/// testsrc2 at 25 frames a second.
fn video(width: u32, height: u32, seconds: f64) -> String {
    format!("testsrc2=size={width}x{height}:rate=25:duration={seconds}")
}

/// A 440 Hz tone at 48 kHz.
fn sine(seconds: f64) -> String {
    format!("sine=frequency=440:sample_rate=48000:duration={seconds}")
}

/// Runs ffmpeg with the argument groups; panics with its stderr when it fails.
fn ffmpeg(groups: &[&[&str]]) {
    let mut command = Command::new("ffmpeg");
    command.args(["-nostdin", "-hide_banner", "-loglevel", "error", "-y"]);
    for group in groups {
        command.args(*group);
    }
    let output = command.output().expect("ffmpeg runs");
    assert!(
        output.status.success(),
        "ffmpeg failed making a fixture: {}",
        String::from_utf8_lossy(&output.stderr)
    );
}
