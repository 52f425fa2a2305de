//! Processing benchmark (docs/benchmarks.md, "Processing"; issue #5): how much the encrypted
//! pipeline costs over plain ffmpeg doing the same segmenting, and how much memory the server and
//! its ffmpeg take.
//!
//!     cargo build --release -p cloister --example process_bench
//!     target/release/examples/process_bench --seconds 60 --runs 3
//!
//! Two 1080p inputs are generated with ffmpeg (or reused from `--inputs DIR`): an H.264 + AAC MP4
//! that the pipeline remuxes, and an MPEG-4 Part 2 + AAC MP4 that it must transcode. For each, the
//! benchmark alternates `--runs` times:
//!
//! - baseline: `ffmpeg` with the options `media::plan` gives that input, on the plaintext, into a
//!   fresh directory (under `nice -n 10`, as the server runs it); wall time and ffmpeg's peak RSS;
//! - pipeline: this program re-runs itself as a fresh "server" process (a new `AppState` on a real
//!   SQLite database in a temp directory, glibc arenas capped as `cloister` does), uploads the video
//!   sealed through the upload functions as a client would, then times claim + `pipeline::process`
//!   (decrypt, probe, ffmpeg, thumbnail, sealing, manifest) and samples the peak of its own RSS plus
//!   every child process's RSS. The upload is not timed.
//!
//! A separate process per pipeline run keeps one run's freed-but-retained heap out of the next
//! run's figure, and makes "server RSS" mean what it means in production. The job is claimed and
//! processed directly, without the resource gate, so the machine's load cannot defer it.

use std::ffi::OsString;
use std::fs::File;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{ensure, Context};
use clap::{Parser, ValueEnum};
use cloister::accounts::{unix_now, users, User};
use cloister::config::Config;
use cloister::jobs::pipeline::{self, ProgressCell};
use cloister::jobs::transitions;
use cloister::storage::StoredObject;
use cloister::uploads::{chunks::put_chunk, complete::complete, create::create};
use cloister::AppState;
use cloister_shared::api::jobs::JobPhase;
use cloister_shared::api::{CompleteUploadRequest, CreateUploadRequest, Role};
use cloister_shared::crypto::stream::{chunk_count, open_all, seal_all, DEFAULT_CHUNK_SIZE};
use cloister_shared::manifest::{Manifest, Preparation};
use cloister_shared::{wrap_dek, Dek, LibraryKey, Purpose, StreamSealer, VideoId};
use serde::{Deserialize, Serialize};
use tokio_util::sync::CancellationToken;

/// How often RSS is sampled. ffmpeg's memory grows to a plateau and stays there, so 20 ms misses
/// nothing that matters.
const SAMPLE_EVERY: Duration = Duration::from_millis(20);
/// How often the pipeline's phase is read, for the per-phase breakdown.
const PHASE_POLL: Duration = Duration::from_millis(10);
/// The line a pipeline run prints its result on, for the parent to find among anything else.
const RESULT_PREFIX: &str = "RESULT ";
const WORKER: &str = "process-bench";

#[derive(Parser)]
struct Args {
    /// Length of each generated input (seconds).
    #[arg(long, default_value_t = 60, value_parser = clap::value_parser!(u32).range(2..=3600))]
    seconds: u32,
    /// Baseline and pipeline runs per input (medians are reported).
    #[arg(long, default_value_t = 3, value_parser = clap::value_parser!(u32).range(1..=50))]
    runs: u32,
    /// Keep the inputs here and reuse them if present (`remux.mp4`, `transcode.mp4`); by default
    /// they are generated into the temp directory and removed.
    #[arg(long)]
    inputs: Option<PathBuf>,
    /// Video bit rate of the generated H.264 input (kbit/s); about a phone's 1080p30.
    #[arg(long, default_value_t = 12_000)]
    video_kbps: u32,
    /// Which inputs to run (default: both).
    #[arg(long, value_enum)]
    only: Option<Case>,
    /// Where temp directories go (inputs, baseline outputs, the pipeline's data directories).
    #[arg(long, default_value_os_t = std::env::temp_dir())]
    work_dir: PathBuf,
    /// Internal: run the pipeline once on this input in this process and print the result.
    #[arg(long, hide = true)]
    pipeline_run: Option<PathBuf>,
}

/// The two paths through `media::prepare`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Case {
    /// 1080p H.264 (yuv420p, 2 s GOP) + AAC: remuxed with `-c copy`.
    Remux,
    /// 1080p MPEG-4 Part 2 + AAC: the video is transcoded to 720p H.264, the AAC copied.
    Transcode,
}

impl Case {
    fn file_name(self) -> &'static str {
        match self {
            Self::Remux => "remux.mp4",
            Self::Transcode => "transcode.mp4",
        }
    }

    fn expected(self) -> Preparation {
        match self {
            Self::Remux => Preparation::Remuxed,
            Self::Transcode => Preparation::Transcoded,
        }
    }

    /// ffmpeg arguments generating the input from test sources (video stream 0, audio stream 1).
    fn generate_args(self, seconds: u32, video_kbps: u32, out: &Path) -> Vec<OsString> {
        let mut a = strings(&["-nostdin", "-hide_banner", "-loglevel", "error", "-y"]);
        a.extend(strings(&["-f", "lavfi", "-i"]));
        a.push(format!("testsrc2=size=1920x1080:rate=30:duration={seconds}").into());
        a.extend(strings(&["-f", "lavfi", "-i"]));
        a.push(format!("sine=frequency=440:sample_rate=48000:duration={seconds}").into());
        a.extend(strings(&["-map", "0:v", "-map", "1:a"]));
        match self {
            Self::Remux => {
                let rate = format!("{video_kbps}k");
                let buffer = format!("{}k", 2 * video_kbps);
                // ultrafast keeps generation quick; the bit rate makes the file phone-sized
                // (the remux and the crypto cost scale with bytes, not with picture content).
                a.extend(strings(&[
                    "-c:v",
                    "libx264",
                    "-preset",
                    "ultrafast",
                    "-b:v",
                    &rate,
                    "-maxrate",
                    &rate,
                    "-bufsize",
                    &buffer,
                    "-g",
                    "60",
                    "-keyint_min",
                    "60",
                    "-sc_threshold",
                    "0",
                    "-pix_fmt",
                    "yuv420p",
                ]));
            }
            Self::Transcode => a.extend(strings(&[
                "-c:v", "mpeg4", "-q:v", "4", "-g", "60", "-pix_fmt", "yuv420p",
            ])),
        }
        a.extend(strings(&["-c:a", "aac", "-b:a", "128k", "-shortest"]));
        a.extend(strings(&["-movflags", "+faststart"]));
        a.push(out.into());
        a
    }

    /// The options `media::plan::Plan::ffmpeg_args` gives this input (server/src/media/plan.rs):
    /// kept in step by hand, since the plan is private to the crate. Check with
    /// `RUST_LOG=cloister::media=debug`, which logs the pipeline's own arguments.
    fn baseline_args(self, input: &Path) -> Vec<OsString> {
        let mut a = strings(&[
            "-nostdin",
            "-hide_banner",
            "-loglevel",
            "error",
            "-nostats",
            "-progress",
            "pipe:1",
            "-y",
        ]);
        if self == Self::Transcode {
            a.extend(strings(&[
                "-filter_threads",
                "1",
                "-filter_complex_threads",
                "1",
                "-threads",
                "1",
            ]));
        }
        a.push("-i".into());
        let mut input_arg = OsString::from("file:");
        input_arg.push(input.as_os_str());
        a.push(input_arg);
        a.extend(strings(&["-map", "0:0", "-map", "0:1"]));
        a.extend(strings(&["-map_metadata", "-1", "-map_chapters", "-1"]));
        match self {
            Self::Remux => a.extend(strings(&["-c:v", "copy"])),
            Self::Transcode => a.extend(strings(&[
                "-vf",
                "scale=1280:720:flags=bicubic,setsar=1",
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
                "expr:gte(t,n_forced*4)",
            ])),
        }
        // Both inputs carry AAC LC, which the plan copies.
        a.extend(strings(&["-c:a", "copy", "-bsf:a", "aac_adtstoasc"]));
        a.extend(strings(&[
            "-max_muxing_queue_size",
            "4096",
            "-f",
            "hls",
            "-hls_segment_type",
            "fmp4",
            "-hls_time",
            "4",
            "-hls_playlist_type",
            "vod",
            "-hls_fmp4_init_filename",
            "init.mp4",
            "-hls_segment_filename",
            "seg%05d.m4s",
            "index.m3u8",
        ]));
        a
    }
}

fn strings(items: &[&str]) -> Vec<OsString> {
    items.iter().map(OsString::from).collect()
}

fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    match &args.pipeline_run {
        Some(input) => pipeline_child(input, &args.work_dir),
        None => bench(&args),
    }
}

// ---------------------------------------------------------------------------------------------
// RSS sampling

/// Peaks seen by a [`Sampler`], in KiB.
#[derive(Debug, Default, Clone, Copy, Serialize, Deserialize)]
struct Peaks {
    /// The root process plus all its descendants, at the same instant.
    total_kib: u64,
    /// The root process alone.
    root_kib: u64,
    /// The descendants alone (ffmpeg, ffprobe).
    descendants_kib: u64,
    samples: u32,
}

/// Samples `VmRSS` of a process tree on its own thread until stopped. Summing RSS counts pages
/// shared between processes (libc, …) twice: a slight overestimate, the safe side for a budget.
struct Sampler {
    stop: Arc<AtomicBool>,
    handle: std::thread::JoinHandle<Peaks>,
}

impl Sampler {
    fn start(root: u32) -> anyhow::Result<Self> {
        let stop = Arc::new(AtomicBool::new(false));
        let flag = stop.clone();
        let handle = std::thread::Builder::new()
            .name("rss-sampler".to_owned())
            .spawn(move || {
                let mut peaks = Peaks::default();
                loop {
                    // One last sample after the stop request, so a short run has at least one.
                    let last = flag.load(Ordering::Relaxed);
                    let root_kib = vm_rss_kib(root).unwrap_or(0);
                    let descendants_kib: u64 =
                        descendants(root).into_iter().filter_map(vm_rss_kib).sum();
                    peaks.total_kib = peaks.total_kib.max(root_kib + descendants_kib);
                    peaks.root_kib = peaks.root_kib.max(root_kib);
                    peaks.descendants_kib = peaks.descendants_kib.max(descendants_kib);
                    peaks.samples += 1;
                    if last {
                        return peaks;
                    }
                    std::thread::sleep(SAMPLE_EVERY);
                }
            })
            .context("cannot start the sampling thread")?;
        Ok(Self { stop, handle })
    }

    fn stop(self) -> anyhow::Result<Peaks> {
        self.stop.store(true, Ordering::Relaxed);
        self.handle
            .join()
            .map_err(|_| anyhow::anyhow!("the sampling thread panicked"))
    }
}

/// `VmRSS` of a process, or None once it has gone.
fn vm_rss_kib(pid: u32) -> Option<u64> {
    kib_field(&format!("/proc/{pid}/status"), "VmRSS")
}

/// A `Name:   1234 kB` field of a `/proc` file such as `/proc/<pid>/status` or `/proc/meminfo`.
fn kib_field(path: &str, field: &str) -> Option<u64> {
    let text = std::fs::read_to_string(path).ok()?;
    text.lines().find_map(|line| {
        line.strip_prefix(field)?
            .strip_prefix(':')?
            .split_whitespace()
            .next()?
            .parse()
            .ok()
    })
}

/// Every descendant of `pid`, from `/proc/<pid>/task/<tid>/children` (a child belongs to the
/// thread that forked it, so every thread's list is read). Cheap enough to call every 20 ms,
/// unlike a scan of all of `/proc`.
fn descendants(pid: u32) -> Vec<u32> {
    let mut found = Vec::new();
    let mut pending = vec![pid];
    while let Some(parent) = pending.pop() {
        let Ok(tasks) = std::fs::read_dir(format!("/proc/{parent}/task")) else {
            continue;
        };
        for task in tasks.filter_map(Result::ok) {
            let Ok(list) = std::fs::read_to_string(task.path().join("children")) else {
                continue;
            };
            for child in list.split_whitespace().filter_map(|p| p.parse().ok()) {
                found.push(child);
                pending.push(child);
            }
        }
    }
    found
}

// ---------------------------------------------------------------------------------------------
// The parent: inputs, baseline runs, pipeline runs, the report

/// One timed run of plain ffmpeg.
struct BaselineRun {
    seconds: f64,
    peaks: Peaks,
}

/// One timed run of the pipeline, as the child process reports it.
#[derive(Debug, Serialize, Deserialize)]
struct PipelineRun {
    /// Claim to published: decrypt, probe, ffmpeg, thumbnail, sealing, manifest.
    seconds: f64,
    /// Seconds in each phase, in order (a phase seen twice is summed).
    phases: Vec<(String, f64)>,
    peaks: Peaks,
    /// The server process's RSS just before the claim (after the upload).
    rss_before_kib: u64,
    preparation: Preparation,
    segments: usize,
    width: u32,
    height: u32,
    /// Bytes of sealed output (init, segments, thumbnail).
    sealed_bytes: u64,
}

/// All runs of one input.
struct CaseReport {
    case: Case,
    input_bytes: u64,
    streams: String,
    baseline: Vec<BaselineRun>,
    pipeline: Vec<PipelineRun>,
}

fn bench(args: &Args) -> anyhow::Result<()> {
    let load_before = loadavg()?;
    let temp = tempfile::Builder::new()
        .prefix("process-bench-")
        .tempdir_in(&args.work_dir)
        .with_context(|| format!("cannot make a temp dir in {}", args.work_dir.display()))?;
    let inputs = args
        .inputs
        .clone()
        .unwrap_or_else(|| temp.path().join("inputs"));
    std::fs::create_dir_all(&inputs)
        .with_context(|| format!("cannot create {}", inputs.display()))?;
    let inputs = std::path::absolute(&inputs)?;
    let cases: Vec<Case> = match args.only {
        Some(case) => vec![case],
        None => vec![Case::Remux, Case::Transcode],
    };

    let mut reports = Vec::new();
    for case in cases {
        let input = ensure_input(case, &inputs, args.seconds, args.video_kbps)?;
        reports.push(bench_case(case, &input, args.runs, temp.path())?);
    }
    let load_after = loadavg()?;
    print_machine(&load_before, &load_after)?;
    print_report(&reports, args);
    Ok(())
}

/// The input file for `case` in `dir`: reused when present, else generated (via a `.part` file,
/// so an interrupted generation is never mistaken for an input).
fn ensure_input(case: Case, dir: &Path, seconds: u32, video_kbps: u32) -> anyhow::Result<PathBuf> {
    let path = dir.join(case.file_name());
    if std::fs::metadata(&path).is_ok_and(|m| m.len() > 0) {
        eprintln!("reusing {}", path.display());
        return Ok(path);
    }
    let part = dir.join(format!("{}.part.mp4", case.file_name()));
    eprintln!("generating {} ({seconds} s)…", path.display());
    let started = Instant::now();
    let output = Command::new("ffmpeg")
        .args(case.generate_args(seconds, video_kbps, &part))
        .stdin(Stdio::null())
        .output()
        .context("cannot run ffmpeg (is it installed?)")?;
    ensure!(
        output.status.success(),
        "ffmpeg could not generate {}: {}",
        path.display(),
        String::from_utf8_lossy(&output.stderr).trim()
    );
    std::fs::rename(&part, &path)?;
    eprintln!("  took {:.1} s", started.elapsed().as_secs_f64());
    Ok(path)
}

fn bench_case(case: Case, input: &Path, runs: u32, temp: &Path) -> anyhow::Result<CaseReport> {
    let input_bytes = std::fs::metadata(input)?.len();
    let streams = describe_streams(input)?;
    eprintln!(
        "{case:?}: {} ({input_bytes} bytes; {streams})",
        input.display()
    );
    let mut report = CaseReport {
        case,
        input_bytes,
        streams,
        baseline: Vec::new(),
        pipeline: Vec::new(),
    };
    // Alternating keeps slow drifts of the machine's load from favouring one side.
    for run in 1..=runs {
        let out = temp.join(format!("baseline-{}-{run}", case.file_name()));
        let base = run_baseline(case, input, &out)?;
        eprintln!(
            "  run {run}: baseline {:.2} s, ffmpeg peak {:.0} MiB",
            base.seconds,
            mib(base.peaks.total_kib)
        );
        let pipe = run_pipeline(input, temp)?;
        ensure!(
            pipe.preparation == case.expected(),
            "the {case:?} input was {:?}, not {:?}: the benchmark's inputs no longer take the \
             path they are meant to",
            pipe.preparation,
            case.expected()
        );
        eprintln!(
            "  run {run}: pipeline {:.2} s ({:?}, {}×{}, {} segments), server+ffmpeg peak {:.0} MiB \
             [{}]",
            pipe.seconds,
            pipe.preparation,
            pipe.width,
            pipe.height,
            pipe.segments,
            mib(pipe.peaks.total_kib),
            phase_summary(&pipe.phases)
        );
        report.baseline.push(base);
        report.pipeline.push(pipe);
    }
    Ok(report)
}

/// Plain ffmpeg, as the pipeline would run it, into the fresh directory `out` (removed after).
fn run_baseline(case: Case, input: &Path, out: &Path) -> anyhow::Result<BaselineRun> {
    std::fs::create_dir(out).with_context(|| format!("cannot create {}", out.display()))?;
    let started = Instant::now();
    // `nice` execs ffmpeg, so the child's pid is ffmpeg's, as in `media::run`.
    let child = Command::new("nice")
        .args(["-n", "10", "ffmpeg"])
        .args(case.baseline_args(input))
        .current_dir(out)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .context("cannot start nice ffmpeg")?;
    let sampler = Sampler::start(child.id())?;
    let output = child.wait_with_output()?;
    let seconds = started.elapsed().as_secs_f64();
    let peaks = sampler.stop()?;
    ensure!(
        output.status.success(),
        "baseline ffmpeg failed ({}): {}",
        output.status,
        String::from_utf8_lossy(&output.stderr).trim()
    );
    let segments = std::fs::read_dir(out)?
        .filter_map(Result::ok)
        .filter(|e| e.file_name().to_string_lossy().ends_with(".m4s"))
        .count();
    ensure!(segments > 0, "baseline ffmpeg wrote no segments");
    std::fs::remove_dir_all(out)?;
    Ok(BaselineRun { seconds, peaks })
}

/// Runs the pipeline once in a fresh process (this program with `--pipeline-run`).
fn run_pipeline(input: &Path, temp: &Path) -> anyhow::Result<PipelineRun> {
    let exe = std::env::current_exe().context("cannot find this program's path")?;
    let output = Command::new(exe)
        .arg("--pipeline-run")
        .arg(input)
        .arg("--work-dir")
        .arg(temp)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .output()
        .context("cannot start a pipeline run")?;
    ensure!(
        output.status.success(),
        "the pipeline run failed ({})",
        output.status
    );
    let stdout = String::from_utf8_lossy(&output.stdout);
    let line = stdout
        .lines()
        .find_map(|l| l.strip_prefix(RESULT_PREFIX))
        .context("the pipeline run printed no result")?;
    serde_json::from_str(line).context("the pipeline run's result does not parse")
}

/// `h264 1920x1080, aac` from ffprobe.
fn describe_streams(input: &Path) -> anyhow::Result<String> {
    let output = Command::new("ffprobe")
        .args([
            "-v",
            "error",
            "-show_entries",
            "stream=codec_name,profile,width,height",
        ])
        .args(["-of", "csv=p=0"])
        .arg(input)
        .output()
        .context("cannot run ffprobe")?;
    ensure!(
        output.status.success(),
        "ffprobe failed on {}",
        input.display()
    );
    let text = String::from_utf8_lossy(&output.stdout);
    Ok(text
        .lines()
        .map(|l| l.trim_end_matches(',').replace(',', " "))
        .collect::<Vec<_>>()
        .join("; "))
}

fn loadavg() -> anyhow::Result<String> {
    let text = std::fs::read_to_string("/proc/loadavg").context("cannot read /proc/loadavg")?;
    Ok(text
        .split_whitespace()
        .take(3)
        .collect::<Vec<_>>()
        .join(" "))
}

fn print_machine(load_before: &str, load_after: &str) -> anyhow::Result<()> {
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    let cpu = cpuinfo
        .lines()
        .find_map(|l| {
            l.strip_prefix("model name")?
                .split_once(':')
                .map(|(_, m)| m.trim())
        })
        .unwrap_or("unknown CPU");
    let mem_total = kib_field("/proc/meminfo", "MemTotal").unwrap_or(0);
    let version = Command::new("ffmpeg")
        .arg("-version")
        .output()
        .context("cannot run ffmpeg -version")?;
    let version = String::from_utf8_lossy(&version.stdout);
    println!();
    println!(
        "machine: {cores} cores ({cpu}), {:.1} GiB RAM",
        mem_total as f64 / 1024.0 / 1024.0
    );
    println!(
        "{}",
        version.lines().next().unwrap_or("ffmpeg version unknown")
    );
    println!("load average (1, 5, 15 min): before {load_before}, after {load_after}");
    Ok(())
}

fn print_report(reports: &[CaseReport], args: &Args) {
    println!(
        "{} runs per input, {} s inputs; medians; ratio = pipeline / baseline",
        args.runs, args.seconds
    );
    println!();
    println!(
        "| input | size | baseline ffmpeg | pipeline | ratio | per-run ratios | ffmpeg peak RSS | \
         server+ffmpeg peak RSS |"
    );
    println!("|---|---|---|---|---|---|---|---|");
    for r in reports {
        let base: Vec<f64> = r.baseline.iter().map(|b| b.seconds).collect();
        let pipe: Vec<f64> = r.pipeline.iter().map(|p| p.seconds).collect();
        let ratios: Vec<String> = base
            .iter()
            .zip(&pipe)
            .map(|(b, p)| format!("{:.2}", p / b))
            .collect();
        let ffmpeg_peak = r.baseline.iter().map(|b| b.peaks.total_kib).max();
        let total_peak = r.pipeline.iter().map(|p| p.peaks.total_kib).max();
        println!(
            "| {:?} ({}) | {:.1} MB | {:.2} s | {:.2} s | **{:.2}** | {} | {:.0} MiB | {:.0} MiB |",
            r.case,
            r.streams,
            r.input_bytes as f64 / 1e6,
            median(&base),
            median(&pipe),
            median(&pipe) / median(&base),
            ratios.join(", "),
            mib(ffmpeg_peak.unwrap_or(0)),
            mib(total_peak.unwrap_or(0)),
        );
    }
    println!();
    println!("RSS: the highest of the runs' peaks, sampled every {SAMPLE_EVERY:?}.");
    for r in reports {
        print_breakdown(r);
    }
}

/// Median seconds per phase, and the server's own memory, for one input.
fn print_breakdown(r: &CaseReport) {
    let mut names: Vec<&str> = Vec::new();
    for run in &r.pipeline {
        for (name, _) in &run.phases {
            if !names.contains(&name.as_str()) {
                names.push(name);
            }
        }
    }
    let parts: Vec<String> = names
        .iter()
        .map(|name| {
            let secs: Vec<f64> = r
                .pipeline
                .iter()
                .map(|run| phase_secs(&run.phases, name))
                .collect();
            format!("{name} {:.2} s", median(&secs))
        })
        .collect();
    let root_peak = r
        .pipeline
        .iter()
        .map(|p| p.peaks.root_kib)
        .max()
        .unwrap_or(0);
    let child_peak = r
        .pipeline
        .iter()
        .map(|p| p.peaks.descendants_kib)
        .max()
        .unwrap_or(0);
    let before = r
        .pipeline
        .iter()
        .map(|p| p.rss_before_kib)
        .max()
        .unwrap_or(0);
    let sealed = r.pipeline.first().map_or(0, |p| p.sealed_bytes);
    println!();
    println!(
        "{:?}: pipeline phases (medians): {}",
        r.case,
        parts.join(", ")
    );
    println!(
        "{:?}: server alone peak {:.0} MiB ({:.0} MiB before the claim), its ffmpeg/ffprobe \
         alone peak {:.0} MiB; sealed output {:.1} MB",
        r.case,
        mib(root_peak),
        mib(before),
        mib(child_peak),
        sealed as f64 / 1e6
    );
}

fn phase_secs(phases: &[(String, f64)], name: &str) -> f64 {
    phases
        .iter()
        .filter(|(n, _)| n == name)
        .map(|(_, s)| s)
        .sum()
}

fn phase_summary(phases: &[(String, f64)]) -> String {
    phases
        .iter()
        .map(|(name, secs)| format!("{name} {secs:.2}"))
        .collect::<Vec<_>>()
        .join(", ")
}

fn median(values: &[f64]) -> f64 {
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    let n = sorted.len();
    match n {
        0 => f64::NAN,
        _ if n % 2 == 1 => sorted[n / 2],
        _ => (sorted[n / 2 - 1] + sorted[n / 2]) / 2.0,
    }
}

fn mib(kib: u64) -> f64 {
    kib as f64 / 1024.0
}

// ---------------------------------------------------------------------------------------------
// The child: one pipeline run in a fresh server process

fn pipeline_child(input: &Path, work_dir: &Path) -> anyhow::Result<()> {
    limit_malloc_arenas();
    // Quiet unless asked (`RUST_LOG=cloister::media=debug` shows the pipeline's ffmpeg arguments).
    if std::env::var_os("RUST_LOG").is_some() {
        tracing_subscriber::fmt()
            .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
            .with_writer(std::io::stderr)
            .init();
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    let result = runtime.block_on(pipeline_once(input, work_dir))?;
    println!("{RESULT_PREFIX}{}", serde_json::to_string(&result)?);
    Ok(())
}

/// What `cloister`'s `main` does before starting any thread, so the measured heap is the
/// server's (docs/benchmarks.md, "Upload").
fn limit_malloc_arenas() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: mallopt only tunes the allocator; called once, before other threads are started.
    unsafe {
        libc::mallopt(libc::M_ARENA_MAX, 2);
    }
}

async fn pipeline_once(input: &Path, work_dir: &Path) -> anyhow::Result<PipelineRun> {
    let data = tempfile::Builder::new()
        .prefix("pipeline-data-")
        .tempdir_in(work_dir)
        .context("cannot make the data directory")?;
    let state = AppState::open(Config::with_data_dir(data.path())).await?;
    let user = users::create(
        &state.db,
        "bench",
        zeroize::Zeroizing::new("benchmark password".to_owned()),
        Role::Admin,
        1 << 50,
    )
    .await
    .context("cannot add the user")?;
    let (video, dek) = upload_sealed(&state, &user, input).await?;

    let rss_before_kib = vm_rss_kib(std::process::id()).unwrap_or(0);
    let progress = Arc::new(ProgressCell::default());
    let clock = PhaseClock::start(progress.clone());
    let sampler = Sampler::start(std::process::id())?;
    let started = Instant::now();
    let claimed = claim_the_job(&state).await?;
    let processed = pipeline::process(
        &state,
        &claimed,
        WORKER,
        &CancellationToken::new(),
        &progress,
    )
    .await;
    let seconds = started.elapsed().as_secs_f64();
    let peaks = sampler.stop()?;
    let phases = clock.stop().await?;
    let published = processed.map_err(|err| anyhow::anyhow!("processing failed: {err}"))?;
    // Not timed: marks the video ready, as the worker does.
    transitions::finish(&state, &claimed, WORKER, &published).await?;

    let manifest = read_manifest(&state, &video, &dek)?;
    let sealed_bytes = manifest.init.sealed_bytes
        + manifest
            .segments
            .iter()
            .map(|s| s.file.sealed_bytes)
            .sum::<u64>()
        + manifest.thumb.as_ref().map_or(0, |t| t.sealed_bytes);
    state.db.close().await;
    Ok(PipelineRun {
        seconds,
        phases,
        peaks,
        rss_before_kib,
        preparation: manifest.preparation,
        segments: manifest.segments.len(),
        width: manifest.width,
        height: manifest.height,
        sealed_bytes,
    })
}

/// Uploads `input` as a client does: a fresh DEK, the file sealed chunk by chunk (read from disk
/// one chunk at a time, so the upload leaves no large heap behind), then complete, which queues
/// the job.
async fn upload_sealed(
    state: &AppState,
    user: &User,
    input: &Path,
) -> anyhow::Result<(VideoId, Dek)> {
    let size = std::fs::metadata(input)?.len();
    let video = VideoId::random()?;
    let dek = Dek::generate()?;
    let sealer = StreamSealer::new(&dek, &video, &Purpose::Original, DEFAULT_CHUNK_SIZE)?;
    let count = chunk_count(size, DEFAULT_CHUNK_SIZE);
    let title = seal_all(
        &dek,
        &video,
        &Purpose::Title,
        DEFAULT_CHUNK_SIZE,
        b"benchmark",
    )?;
    let request = CreateUploadRequest {
        video_id: video,
        size_bytes: size,
        chunk_count: count,
        stream_header: hex::encode(sealer.header().to_bytes()),
        wrapped_dek: wrap_dek(&LibraryKey::generate()?, &video, &dek)?,
        title_sealed: hex::encode(title),
        description_sealed: None,
        file_name_sealed: None,
        fingerprint: hex::encode([0u8; 32]),
        resume_mac: None,
        content_fingerprint: None,
        key_generation: 1,
    };
    create(state, user, &request)
        .await
        .context("creating the upload")?;

    let mut file = File::open(input).with_context(|| format!("cannot open {}", input.display()))?;
    let mut buf = vec![0u8; DEFAULT_CHUNK_SIZE as usize];
    for index in 0..count {
        let n = read_full(&mut file, &mut buf)?;
        let plain = buf.get(..n).context("short read")?;
        let sealed = sealer.seal_chunk(index, plain, index + 1 == count)?;
        let len = sealed.len() as u64;
        put_chunk(
            state,
            user,
            &video,
            &index.to_string(),
            Some(len),
            axum::body::Body::from(sealed),
        )
        .await
        .with_context(|| format!("sending chunk {index}"))?;
    }
    let dek_hex = hex::encode(dek.as_bytes());
    complete(state, user, &video, &CompleteUploadRequest { dek: dek_hex })
        .await
        .context("completing the upload")?;
    Ok((video, dek))
}

/// Fills `buf` from `reader` as far as the file goes; returns how many bytes were read.
fn read_full(reader: &mut impl Read, buf: &mut [u8]) -> std::io::Result<usize> {
    let mut filled = 0;
    while let Some(rest) = buf.get_mut(filled..).filter(|r| !r.is_empty()) {
        match reader.read(rest)? {
            0 => break,
            n => filled += n,
        }
    }
    Ok(filled)
}

/// Takes the queued job as a worker would (without asking the gate).
async fn claim_the_job(state: &AppState) -> anyhow::Result<transitions::Claimed> {
    let candidate = transitions::next_candidate(state, unix_now())
        .await?
        .context("complete queued no job")?;
    transitions::claim(state, &candidate, WORKER, 0)
        .await?
        .context("the job could not be claimed")
}

/// Opens the sealed manifest as a member's browser would.
fn read_manifest(state: &AppState, video: &VideoId, dek: &Dek) -> anyhow::Result<Manifest> {
    let len = state.storage.object_len(video, &StoredObject::Manifest)?;
    let sealed = state.storage.read_object(
        video,
        &StoredObject::Manifest,
        0,
        usize::try_from(len).context("manifest length")?,
    )?;
    let plain = open_all(dek, video, &Purpose::Manifest, &sealed)?;
    serde_json::from_slice(&plain).context("the manifest is not JSON")
}

/// Watches the pipeline's progress cell and adds up the time spent in each phase.
struct PhaseClock {
    stop: CancellationToken,
    handle: tokio::task::JoinHandle<Vec<(String, f64)>>,
}

impl PhaseClock {
    fn start(cell: Arc<ProgressCell>) -> Self {
        let stop = CancellationToken::new();
        let token = stop.clone();
        let handle = tokio::spawn(async move {
            let mut spent: Vec<(JobPhase, Duration)> = Vec::new();
            let mut current: Option<(JobPhase, Instant)> = None;
            let mut close = |current: Option<(JobPhase, Instant)>| {
                if let Some((phase, since)) = current {
                    match spent.iter_mut().find(|(p, _)| *p == phase) {
                        Some((_, total)) => *total += since.elapsed(),
                        None => spent.push((phase, since.elapsed())),
                    }
                }
            };
            loop {
                let phase = cell.get().map(|(phase, _)| phase);
                if phase != current.map(|(p, _)| p) {
                    close(current);
                    current = phase.map(|p| (p, Instant::now()));
                }
                tokio::select! {
                    () = token.cancelled() => break,
                    () = tokio::time::sleep(PHASE_POLL) => {}
                }
            }
            close(current);
            spent
                .into_iter()
                .map(|(phase, d)| (phase.as_str().to_owned(), d.as_secs_f64()))
                .collect()
        });
        Self { stop, handle }
    }

    async fn stop(self) -> anyhow::Result<Vec<(String, f64)>> {
        self.stop.cancel();
        self.handle.await.context("the phase clock failed")
    }
}
