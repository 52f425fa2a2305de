//! The thumbnail: one JPEG frame at about 10 % of the video, fitting 320×180 with even sides.

use std::ffi::OsString;
use std::path::{Path, PathBuf};

use tokio_util::sync::CancellationToken;

use super::plan::{fit_even, Plan, THUMB, THUMB_BOX};
use super::run::{self, Output, Run, Stdout};
use super::{input_args, MediaError, MediaTools};

/// Clips shorter than this take their first frame.
const SHORT_CLIP_SECS: f64 = 1.0;
/// A 320×180 JPEG is a few KB; no file the thumbnail run writes may be larger than this.
const MAX_THUMB_BYTES: u64 = 16 << 20;

/// Makes `work_dir/thumb.jpg`. `Ok(None)` when no picture came out (a warning is logged); `Err`
/// only for cancellation, which the caller must not swallow.
pub(crate) async fn make(
    tools: &MediaTools,
    input: &Path,
    work_dir: &Path,
    plan: &Plan,
    cancel: &CancellationToken,
) -> Result<Option<PathBuf>, MediaError> {
    let at = match plan.duration {
        Some(d) if d >= SHORT_CLIP_SECS => d * 0.1,
        _ => 0.0,
    };
    let mut attempts = vec![at];
    if at > 0.0 {
        // Seeking can land past the last frame of a file whose duration is overstated.
        attempts.push(0.0);
    }
    let path = work_dir.join(THUMB);
    for seconds in attempts {
        match attempt(tools, input, work_dir, plan, seconds, cancel).await {
            Ok(()) => {
                if fs_err::tokio::metadata(&path)
                    .await
                    .is_ok_and(|m| m.is_file() && m.len() > 0)
                {
                    return Ok(Some(path));
                }
                tracing::warn!(at = seconds, "the thumbnail came out empty");
            }
            Err(MediaError::Cancelled) => return Err(MediaError::Cancelled),
            Err(err) => tracing::warn!(at = seconds, error = %err, "could not make the thumbnail"),
        }
    }
    // Leave no half-written file behind to be mistaken for a thumbnail.
    let _ = fs_err::tokio::remove_file(&path).await;
    Ok(None)
}

async fn attempt(
    tools: &MediaTools,
    input: &Path,
    work_dir: &Path,
    plan: &Plan,
    seconds: f64,
    cancel: &CancellationToken,
) -> Result<(), MediaError> {
    let (width, height) = fit_even(plan.source_display, THUMB_BOX, false);
    let mut args: Vec<OsString> = [
        "-nostdin",
        "-hide_banner",
        "-loglevel",
        "error",
        "-nostats",
        "-y",
        "-filter_threads",
        "1",
        "-threads",
        "1",
    ]
    .iter()
    .map(OsString::from)
    .collect();
    if seconds > 0.0 {
        args.push("-ss".into());
        args.push(format!("{seconds:.3}").into());
    }
    args.extend(input_args(input, plan.bounds.demuxer));
    let scale = format!("scale={width}:{height}:flags=bicubic,setsar=1");
    let map = format!("0:{}", plan.video_index);
    args.extend(
        [
            "-map",
            &map,
            "-an",
            "-sn",
            "-dn",
            "-map_metadata",
            "-1",
            "-frames:v",
            "1",
            "-vf",
            &scale,
            "-q:v",
            "4",
            "-f",
            "image2",
            "-update",
            "1",
            THUMB,
        ]
        .iter()
        .map(OsString::from),
    );
    let finished = run::run(Run {
        name: "ffmpeg (thumbnail)",
        program: &tools.ffmpeg,
        args,
        cwd: Some(work_dir),
        nice: tools.nice,
        limit: tools.time_limit_base,
        memory: tools.memory_limit,
        output: Output::File(MAX_THUMB_BYTES),
        cancel,
        stdout: Stdout::Ignore,
    })
    .await?;
    if finished.success() {
        Ok(())
    } else {
        Err(MediaError::Tool(format!(
            "ffmpeg exited with {}",
            finished.status
        )))
    }
}
