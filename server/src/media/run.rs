//! Running ffmpeg and ffprobe: spawn (optionally under `nice -n 10`) with an address-space and a
//! file-size limit, read `-progress` output, keep the tail of stderr, and stop the child at once
//! on cancellation, when its time is up, or when its outputs together grow past their bound.

use std::ffi::OsString;
use std::path::Path;
use std::process::{ExitStatus, Stdio};
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncReadExt};
use tokio::process::{Child, Command};
use tokio_util::sync::CancellationToken;

use super::MediaError;

/// How much of a tool's stderr is kept for the error reason and the log.
const STDERR_TAIL_BYTES: usize = 4096;
/// ffprobe's JSON is a few KB; a file with absurd metadata cannot make us hold more than this.
pub(crate) const MAX_COLLECTED_STDOUT: usize = 8 << 20;
/// A `-progress` line longer than this is not one ffmpeg writes; it is dropped.
const MAX_PROGRESS_LINE: usize = 4096;
/// How long to wait for the stderr reader once the child has exited.
const STDERR_DRAIN: Duration = Duration::from_secs(5);
/// How often the working directory's size is measured against an output bound.
const OUTPUT_CHECK: Duration = Duration::from_millis(250);

/// What the child may write. `-fs` cannot do this: ffmpeg applies it only to a muxer that writes
/// one file, and the HLS muxer writes many.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Output {
    /// Each file at most this many bytes (RLIMIT_FSIZE: the kernel stops the write with SIGXFSZ).
    File(u64),
    /// The working directory at most `files` files of `bytes` bytes together (measured every
    /// 250 ms), each file also at most `bytes` (RLIMIT_FSIZE).
    Dir { bytes: u64, files: u64 },
}

/// What to do with the child's stdout.
pub(crate) enum Stdout<'a> {
    /// Keep it (up to `MAX_COLLECTED_STDOUT`), e.g. ffprobe's JSON.
    Collect,
    /// Parse ffmpeg's `-progress pipe:1` lines against `duration` seconds and report the
    /// fraction done (never decreasing).
    Progress {
        duration: Option<f64>,
        report: &'a (dyn Fn(f32) + Send + Sync),
    },
    /// Discard it.
    Ignore,
}

/// One run of a tool.
pub(crate) struct Run<'a> {
    /// Short name for logs and errors ("ffmpeg", "ffprobe").
    pub name: &'static str,
    pub program: &'a Path,
    pub args: Vec<OsString>,
    /// Working directory: outputs are named relative to it.
    pub cwd: Option<&'a Path>,
    /// Run under `nice -n 10`.
    pub nice: bool,
    pub limit: Duration,
    /// RLIMIT_AS of the child; None for no limit.
    pub memory: Option<u64>,
    pub output: Output,
    pub cancel: &'a CancellationToken,
    pub stdout: Stdout<'a>,
}

/// A tool that ran to its end (successfully or not).
pub(crate) struct Finished {
    pub status: ExitStatus,
    pub stdout: Vec<u8>,
    /// The last few KB of stderr, lossily decoded.
    pub stderr: String,
}

impl Finished {
    pub fn success(&self) -> bool {
        self.status.success()
    }
}

/// Runs the tool to its end. `Err` only for: could not start (`Tool`), cancelled (`Cancelled`),
/// out of time (`TimedOut`), its outputs past their bound (`OutputTooLarge`), or an I/O error
/// reading its output (`Io`). A non-zero exit is an `Ok(Finished)` for the caller to classify.
pub(crate) async fn run(run: Run<'_>) -> Result<Finished, MediaError> {
    let mut command = if run.nice {
        // coreutils `nice` execs the program: the child's pid is the tool's own.
        let mut command = Command::new("nice");
        command.arg("-n").arg("10").arg(run.program);
        command
    } else {
        Command::new(run.program)
    };
    command
        .args(&run.args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true);
    if let Some(cwd) = run.cwd {
        command.current_dir(cwd);
    }
    let file_size = match run.output {
        Output::File(bytes) | Output::Dir { bytes, .. } => bytes,
    };
    confine(&mut command, run.memory, file_size);
    tracing::debug!(tool = run.name, program = %run.program.display(), args = ?run.args, nice = run.nice, "starting");
    let mut child = command.spawn().map_err(|err| {
        let program = if run.nice {
            "nice".to_owned()
        } else {
            run.program.display().to_string()
        };
        tracing::error!(tool = run.name, %program, error = %err, "could not start");
        MediaError::Tool(format!("could not start {}: {err}", run.name))
    })?;
    let (Some(mut stdout), Some(stderr)) = (child.stdout.take(), child.stderr.take()) else {
        kill(&mut child).await;
        return Err(MediaError::Tool(format!(
            "{}: no pipes to the child process",
            run.name
        )));
    };
    let stderr_task = tokio::spawn(read_tail(stderr));

    let mut collected = Vec::new();
    let mut progress = ProgressParser::new();
    let mut chunk = vec![0u8; 8192];
    let mut stdout_open = true;
    let deadline = tokio::time::sleep(run.limit);
    tokio::pin!(deadline);
    let mut output_check = tokio::time::interval(OUTPUT_CHECK);
    let watched = match (run.output, run.cwd) {
        (Output::Dir { bytes, files }, Some(dir)) => Some((dir, bytes, files)),
        _ => None,
    };

    let status = loop {
        tokio::select! {
            biased;
            () = run.cancel.cancelled() => {
                kill(&mut child).await;
                stderr_task.abort();
                tracing::info!(tool = run.name, "cancelled; the child was killed");
                return Err(MediaError::Cancelled);
            }
            () = &mut deadline => {
                kill(&mut child).await;
                stderr_task.abort();
                tracing::warn!(tool = run.name, limit_secs = run.limit.as_secs_f64(), "time limit reached; the child was killed");
                return Err(MediaError::TimedOut(run.limit));
            }
            _ = output_check.tick(), if watched.is_some() => {
                let Some((dir, max_bytes, max_files)) = watched else { continue };
                let (bytes, files) = dir_usage(dir).await;
                let past = if bytes > max_bytes {
                    Some(super::admit::human_size(max_bytes))
                } else if files > max_files {
                    Some(format!("{max_files} files"))
                } else {
                    None
                };
                if let Some(limit) = past {
                    kill(&mut child).await;
                    stderr_task.abort();
                    tracing::warn!(tool = run.name, bytes, files, %limit, "output past its bound; the child was killed");
                    return Err(MediaError::OutputTooLarge(limit));
                }
            }
            read = stdout.read(&mut chunk), if stdout_open => match read {
                Ok(0) => stdout_open = false,
                Ok(n) => {
                    let bytes = chunk.get(..n).unwrap_or_default();
                    match &run.stdout {
                        Stdout::Collect => {
                            let room = MAX_COLLECTED_STDOUT.saturating_sub(collected.len());
                            collected.extend_from_slice(bytes.get(..room.min(n)).unwrap_or(bytes));
                        }
                        Stdout::Progress { duration, report } => {
                            if let Some(fraction) = progress.feed(bytes, *duration) {
                                report(fraction);
                            }
                        }
                        Stdout::Ignore => {}
                    }
                }
                Err(err) => {
                    kill(&mut child).await;
                    stderr_task.abort();
                    return Err(MediaError::Io(err));
                }
            },
            status = child.wait(), if !stdout_open => break status?,
        }
    };

    let stderr = match tokio::time::timeout(STDERR_DRAIN, stderr_task).await {
        Ok(Ok(tail)) => tail,
        _ => String::new(),
    };
    if !status.success() || !stderr.trim().is_empty() {
        tracing::warn!(tool = run.name, %status, stderr = %stderr.trim(), "tool reported errors");
    }
    Ok(Finished {
        status,
        stdout: collected,
        stderr,
    })
}

/// The total size and the number of the regular files directly in `dir` (ffmpeg writes no
/// subdirectories).
async fn dir_usage(dir: &Path) -> (u64, u64) {
    let (mut bytes, mut files) = (0u64, 0u64);
    let Ok(mut entries) = fs_err::tokio::read_dir(dir).await else {
        return (0, 0);
    };
    while let Ok(Some(entry)) = entries.next_entry().await {
        if let Ok(meta) = entry.metadata().await {
            if meta.is_file() {
                bytes = bytes.saturating_add(meta.len());
                files += 1;
            }
        }
    }
    (bytes, files)
}

/// Kills the child (SIGKILL) and reaps it, so no process is left behind.
async fn kill(child: &mut Child) {
    if let Err(err) = child.start_kill() {
        // Already exited: nothing to kill.
        tracing::debug!(error = %err, "kill");
    }
    if let Err(err) = child.wait().await {
        tracing::warn!(error = %err, "could not reap a killed child");
    }
}

/// Reads everything, keeping only the last `STDERR_TAIL_BYTES`.
async fn read_tail(mut reader: impl AsyncRead + Unpin) -> String {
    let mut tail: Vec<u8> = Vec::new();
    let mut chunk = vec![0u8; 4096];
    loop {
        match reader.read(&mut chunk).await {
            Ok(0) | Err(_) => break,
            Ok(n) => {
                tail.extend_from_slice(chunk.get(..n).unwrap_or_default());
                if tail.len() > 2 * STDERR_TAIL_BYTES {
                    let cut = tail.len() - STDERR_TAIL_BYTES;
                    tail.drain(..cut);
                }
            }
        }
    }
    if tail.len() > STDERR_TAIL_BYTES {
        let cut = tail.len() - STDERR_TAIL_BYTES;
        tail.drain(..cut);
    }
    String::from_utf8_lossy(&tail).into_owned()
}

/// Splits `-progress` output into lines and turns `out_time_us` into a fraction of `duration`.
struct ProgressParser {
    line: Vec<u8>,
    best: f32,
}

impl ProgressParser {
    fn new() -> Self {
        Self {
            line: Vec::new(),
            best: 0.0,
        }
    }

    /// Feeds bytes; returns the new fraction when it grew.
    fn feed(&mut self, bytes: &[u8], duration: Option<f64>) -> Option<f32> {
        let mut grew = None;
        for &b in bytes {
            if b == b'\n' {
                let line = std::mem::take(&mut self.line);
                if let Some(fraction) = parse_progress_line(&line, duration) {
                    if fraction > self.best {
                        self.best = fraction;
                        grew = Some(fraction);
                    }
                }
            } else if self.line.len() < MAX_PROGRESS_LINE {
                self.line.push(b);
            }
        }
        grew
    }
}

/// `out_time_us=1234567` (or `out_time_ms=`, which ffmpeg also writes in microseconds) → the
/// fraction of `duration` done, in 0.0..=1.0.
pub(crate) fn parse_progress_line(line: &[u8], duration: Option<f64>) -> Option<f32> {
    let line = std::str::from_utf8(line).ok()?.trim();
    let (key, value) = line.split_once('=')?;
    if key != "out_time_us" && key != "out_time_ms" {
        return None;
    }
    let micros: i64 = value.trim().parse().ok()?;
    let duration = duration.filter(|d| d.is_finite() && *d > 0.0)?;
    if micros < 0 {
        return None;
    }
    let fraction = (micros as f64 / 1e6 / duration).clamp(0.0, 1.0);
    Some(fraction as f32)
}

/// Sets up the child before it execs:
/// - if the server is killed outright (SIGKILL, OOM killer), `kill_on_drop` never runs: the
///   kernel must kill ffmpeg too, or an orphan would go on burning the small machine's only
///   cores on a job the next worker redoes anyway. (The signal follows the spawning thread, a
///   runtime worker that lives as long as the runtime.)
/// - RLIMIT_AS bounds the memory a hostile file can make the decoder take (its allocations fail
///   instead of the OOM killer choosing a victim); RLIMIT_FSIZE bounds each file it writes.
///   Both pass through `nice`'s exec.
fn confine(command: &mut Command, memory: Option<u64>, file_size: u64) {
    let limit = |bytes: u64| libc::rlimit {
        rlim_cur: bytes as libc::rlim_t,
        rlim_max: bytes as libc::rlim_t,
    };
    let memory = memory.map(limit);
    let file_size = limit(file_size);
    // SAFETY: prctl and setrlimit are async-signal-safe and touch only the child being set up;
    // the closure allocates nothing.
    unsafe {
        command.pre_exec(move || {
            #[cfg(target_os = "linux")]
            if libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL) != 0 {
                return Err(std::io::Error::last_os_error());
            }
            if let Some(memory) = &memory {
                if libc::setrlimit(libc::RLIMIT_AS, memory) != 0 {
                    return Err(std::io::Error::last_os_error());
                }
            }
            if libc::setrlimit(libc::RLIMIT_FSIZE, &file_size) != 0 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn progress_lines_become_fractions() {
        assert_eq!(
            parse_progress_line(b"out_time_us=2500000", Some(10.0)),
            Some(0.25)
        );
        assert_eq!(
            parse_progress_line(b"out_time_ms=5000000", Some(10.0)),
            Some(0.5)
        );
        assert_eq!(parse_progress_line(b"out_time_us=N/A", Some(10.0)), None);
        assert_eq!(parse_progress_line(b"out_time_us=-5", Some(10.0)), None);
        assert_eq!(
            parse_progress_line(b"out_time_us=99000000", Some(10.0)),
            Some(1.0)
        );
        assert_eq!(parse_progress_line(b"out_time_us=1000", None), None);
        assert_eq!(parse_progress_line(b"out_time_us=1000", Some(0.0)), None);
        assert_eq!(parse_progress_line(b"frame=12", Some(10.0)), None);
        assert_eq!(parse_progress_line(&[0xff, b'='], Some(10.0)), None);
    }

    #[test]
    fn the_parser_reports_only_growth_across_split_chunks() {
        let mut p = ProgressParser::new();
        assert_eq!(p.feed(b"frame=1\nout_time_us=10", Some(4.0)), None);
        assert_eq!(p.feed(b"00000\nprogress=continue\n", Some(4.0)), Some(0.25));
        assert_eq!(p.feed(b"out_time_us=500000\n", Some(4.0)), None);
        assert_eq!(p.feed(b"out_time_us=2000000\n", Some(4.0)), Some(0.5));
    }
}
