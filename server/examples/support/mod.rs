//! What the loopback benchmarks share: an account made with the real binary, and memory readings
//! of the server process.

use std::path::Path;
use std::process::Stdio;

use anyhow::{bail, Context};
use tokio::io::AsyncWriteExt;
use tokio::process::Command;

pub const PASSWORD: &str = "benchmark password";

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
