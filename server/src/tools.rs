//! External programs Cloister needs, checked at start so a missing one is named plainly.

use std::process::Stdio;

use tokio::process::Command;

/// Why a required program could not be used.
#[derive(Debug, thiserror::Error)]
#[error("`{program}` was not found or does not run ({detail}). Install it, e.g. on Debian or Ubuntu: `sudo apt-get install ffmpeg` (it provides both ffmpeg and ffprobe).")]
pub struct MissingTool {
    pub program: String,
    pub detail: String,
}

/// Runs `PROGRAM -version` for ffmpeg and ffprobe and returns ffmpeg's first line.
pub async fn check_ffmpeg() -> Result<String, MissingTool> {
    let ffmpeg = version_line("ffmpeg").await?;
    version_line("ffprobe").await?;
    Ok(ffmpeg)
}

async fn version_line(program: &str) -> Result<String, MissingTool> {
    let missing = |detail: String| MissingTool {
        program: program.to_owned(),
        detail,
    };
    let output = Command::new(program)
        .arg("-version")
        .stdin(Stdio::null())
        .output()
        .await
        .map_err(|err| missing(err.to_string()))?;
    if !output.status.success() {
        return Err(missing(format!("exit status {}", output.status)));
    }
    let stdout = String::from_utf8_lossy(&output.stdout);
    Ok(stdout.lines().next().unwrap_or_default().to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_missing_program_is_named_with_what_to_install() {
        let err = version_line("cloister-no-such-program")
            .await
            .expect_err("must be missing");
        let message = err.to_string();
        assert!(message.contains("cloister-no-such-program"), "{message}");
        assert!(message.contains("apt-get install ffmpeg"), "{message}");
    }

    #[tokio::test]
    async fn ffmpeg_and_ffprobe_are_found_on_this_machine() {
        let line = check_ffmpeg().await.expect("setup installs ffmpeg");
        assert!(line.starts_with("ffmpeg version"), "{line}");
    }
}
