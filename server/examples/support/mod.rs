//! What the loopback benchmarks share: an account made with the real binary, and memory readings
//! of the server process.

use std::path::Path;
use std::process::Stdio;

use anyhow::{bail, Context};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::process::{Child, Command};

pub const PASSWORD: &str = "benchmark password";

/// A running `cloister serve` on 127.0.0.1 (killed when dropped), its pid and base URL.
pub struct Server {
    pub child: Child,
    pub pid: u32,
    pub url: String,
}

/// Starts `binary serve` on a free loopback port for `data` with `args` and `env` added, and
/// waits for its start line.
pub async fn start_server(
    binary: &Path,
    data: &Path,
    args: &[&str],
    env: &[(&str, &str)],
) -> anyhow::Result<Server> {
    let mut child = Command::new(binary)
        .args(["serve", "--addr", "127.0.0.1:0"])
        .args(args)
        .env("CLOISTER_DATA_DIR", data)
        .env("RUST_LOG", "warn")
        .envs(env.iter().copied())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .kill_on_drop(true)
        .spawn()
        .with_context(|| format!("cannot start {}", binary.display()))?;
    let pid = child.id().context("server pid")?;
    let mut lines = BufReader::new(child.stdout.take().context("stdout")?).lines();
    let line = lines
        .next_line()
        .await?
        .context("the server printed nothing")?;
    let url = line
        .strip_prefix("Cloister is running at ")
        .context("unexpected start line")?
        .trim_end_matches('/')
        .to_owned();
    Ok(Server { child, pid, url })
}

/// `cloister user add bench --admin` with a quota no benchmark reaches.
pub async fn add_user(binary: &Path, data: &Path) -> anyhow::Result<()> {
    let mut child = Command::new(binary)
        .args(["user", "add", "bench", "--admin", "--password-stdin"])
        .args(["--quota", &(1u64 << 50).to_string()])
        .env("CLOISTER_DATA_DIR", data)
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .spawn()?;
    let mut stdin = child.stdin.take().context("stdin")?;
    stdin.write_all(format!("{PASSWORD}\n").as_bytes()).await?;
    drop(stdin);
    if !child.wait().await?.success() {
        bail!("cloister user add failed");
    }
    Ok(())
}

/// A value in kB from /proc/<pid>/status (`VmRSS`, `VmHWM`).
pub fn vm_kib(pid: u32, field: &str) -> anyhow::Result<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status"))?;
    status
        .lines()
        .find_map(|l| {
            l.strip_prefix(field)?
                .trim_start_matches(':')
                .split_whitespace()
                .next()?
                .parse()
                .ok()
        })
        .with_context(|| format!("no {field} in /proc/{pid}/status"))
}
