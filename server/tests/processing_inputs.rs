//! Every kind of input the issue names, through the whole job system: upload, the worker, real
//! ffmpeg, sealing. A playable input ends `ready`, and its decrypted init + segments join into a
//! file ffprobe reads with the source's duration; anything else ends `failed` with a clear reason
//! after the retries it deserves, the original kept, and nothing left in `tmp/`.

mod common;
#[path = "common/fixtures.rs"]
mod fixtures;

use std::path::{Path, PathBuf};
use std::time::Duration;

use cloister_shared::api::Role;
use cloister_shared::manifest::Preparation;
use common::processing::{probe_duration, spawn_processing_app};
use fixtures::Fixture;

fn fixture(kind: Fixture) -> PathBuf {
    // Shared with tests/media.rs: each fixture is generated once per build directory.
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("media-fixtures-v1");
    std::fs::create_dir_all(&dir).expect("fixture dir");
    fixtures::make(kind, &dir)
}

enum Expect {
    Ready {
        preparation: Preparation,
        portrait: bool,
    },
    Failed {
        /// The start of the reason (the rest may name sizes).
        reason: &'static str,
        attempts: u32,
    },
}

async fn process(kind: Fixture, expect: Expect) {
    let source = fixture(kind);
    let (app, _) = spawn_processing_app().await;
    let cookie = app.signed_in("ann", Role::Member).await;
    let (workers, _) = app.start_workers(1);
    let (file, job) = app
        .upload_video(&cookie, std::fs::read(&source).expect("fixture"))
        .await;
    let end = app
        .wait_for_job(&cookie, job, Duration::from_secs(180), |j| {
            matches!(j["status"].as_str(), Some("done" | "failed"))
        })
        .await;
    workers.cancel();
    assert!(
        app.tmp_entries().is_empty(),
        "{kind:?}: tmp/ holds {:?}",
        app.tmp_entries()
    );
    match expect {
        Expect::Ready {
            preparation,
            portrait,
        } => {
            assert_eq!(end["status"], "done", "{kind:?}: {end}");
            let manifest = app.manifest(&file);
            assert_eq!(manifest.preparation, preparation, "{kind:?}");
            assert!(
                manifest.mime_codec.starts_with("video/mp4; codecs=\"avc1."),
                "{}",
                manifest.mime_codec
            );
            assert!(manifest.width.max(manifest.height) <= 1920);
            if preparation == Preparation::Transcoded {
                assert!(
                    manifest.width <= 1280 && manifest.height <= 720 || portrait,
                    "{kind:?} {}x{}",
                    manifest.width,
                    manifest.height
                );
            }
            assert_eq!(
                manifest.height > manifest.width,
                portrait,
                "{kind:?} orientation"
            );
            assert!(manifest.thumb.is_some(), "{kind:?} has a thumbnail");
            let joined = app.decrypted_rendition(&file, &manifest);
            let dir = tempfile::tempdir().expect("tempdir");
            let path = dir.path().join("joined.mp4");
            std::fs::write(&path, joined).expect("write");
            let expected = probe_duration(&source);
            let got = probe_duration(&path);
            assert!(
                (got - expected).abs() < 0.5,
                "{kind:?}: {got} s, source {expected} s"
            );
            let listed: u64 = manifest.segments.iter().map(|s| s.duration_ms).sum();
            assert!(
                (listed as f64 / 1000.0 - expected).abs() < 0.5,
                "{kind:?}: segments sum to {listed} ms"
            );
        }
        Expect::Failed { reason, attempts } => {
            assert_eq!(end["status"], "failed", "{kind:?}: {end}");
            let error = end["error"].as_str().unwrap_or_default();
            assert!(error.starts_with(reason), "{kind:?}: {error}");
            assert_eq!(end["attempts"], attempts, "{kind:?}: {end}");
            let len = app
                .state
                .storage
                .original_len(&file.id)
                .expect("the original is kept");
            assert!(len > 0);
            let (status, _, body) = app
                .call(
                    axum::http::Method::GET,
                    &format!("/api/videos/{}", file.id),
                    Some(&cookie),
                    None,
                )
                .await;
            assert_eq!(status, axum::http::StatusCode::OK);
            assert_eq!(body["status"], "failed");
        }
    }
}

const REMUXED: Expect = Expect::Ready {
    preparation: Preparation::Remuxed,
    portrait: false,
};
const TRANSCODED: Expect = Expect::Ready {
    preparation: Preparation::Transcoded,
    portrait: false,
};
const NOT_A_VIDEO: Expect = Expect::Failed {
    reason: "the file is not a video",
    attempts: 1,
};
/// The decrypted original is exactly what was uploaded: damage fails the same way every time,
/// so it is not retried.
const DAMAGED: Expect = Expect::Failed {
    reason: "the video is damaged or incomplete",
    attempts: 1,
};
/// Playlists, lists and other formats whose demuxers open other files.
const UNSUPPORTED: Expect = Expect::Failed {
    reason: "the file is not a video in a format Cloister accepts",
    attempts: 1,
};

macro_rules! input {
    ($name:ident, $kind:expr, $expect:expr) => {
        #[tokio::test]
        async fn $name() {
            process($kind, $expect).await;
        }
    };
}

input!(h264_aac_mp4_is_remuxed, Fixture::H264AacMp4, REMUXED);
input!(hevc_in_mkv_is_transcoded, Fixture::HevcMkv, TRANSCODED);
input!(
    vp9_opus_webm_is_transcoded,
    Fixture::Vp9OpusWebm,
    TRANSCODED
);
input!(
    a_quicktime_mov_is_made_playable,
    Fixture::QuickTimeMov,
    TRANSCODED
);
input!(video_without_audio_is_processed, Fixture::NoAudio, REMUXED);
input!(
    odd_dimensions_are_processed,
    Fixture::OddDimensions,
    TRANSCODED
);
input!(
    a_rotated_portrait_clip_comes_out_portrait,
    Fixture::PortraitRotated,
    Expect::Ready {
        preparation: Preparation::Transcoded,
        portrait: true
    }
);
input!(a_one_frame_video_is_processed, Fixture::OneFrame, REMUXED);
input!(
    a_1080p_h264_clip_is_kept_at_1080p,
    Fixture::FullHd1080p,
    REMUXED
);
input!(random_bytes_fail_for_good, Fixture::NotAVideo, NOT_A_VIDEO);
input!(a_text_file_fails_for_good, Fixture::Text, NOT_A_VIDEO);
input!(audio_alone_fails_for_good, Fixture::AudioOnly, NOT_A_VIDEO);
input!(
    a_truncated_video_fails_without_retries,
    Fixture::Truncated,
    DAMAGED
);
input!(
    a_truncated_faststart_video_fails_without_retries,
    Fixture::TruncatedFaststart,
    DAMAGED
);
input!(
    a_variable_frame_rate_video_keeps_its_length,
    Fixture::VariableFrameRate,
    REMUXED
);
input!(
    an_hls_playlist_naming_a_local_file_is_refused,
    Fixture::HlsPlaylist,
    UNSUPPORTED
);
input!(a_concat_list_is_refused, Fixture::ConcatList, UNSUPPORTED);
input!(
    a_file_claiming_28_hours_in_a_few_kb_is_refused,
    Fixture::HugeDuration,
    Expect::Failed {
        reason: "the file claims to last 27 hours, more than a file of ",
        attempts: 1
    }
);
input!(
    a_tiny_file_whose_frames_outrun_its_claim_is_stopped,
    Fixture::FramesOutrunTheClaim,
    Expect::Failed {
        reason: "the converted video grew past its limit of 65 files",
        attempts: 1
    }
);
input!(
    an_8k_picture_is_refused,
    Fixture::HugeDimensions,
    Expect::Failed {
        reason: "the picture is too large (7680×4320); at most 4096×2304 is accepted",
        attempts: 1
    }
);
