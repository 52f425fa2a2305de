//! The command-line tools behave like Unix tools when their reader goes away: `cloister ls | head`
//! ends quietly instead of panicking on the broken pipe.

mod common;

use std::os::unix::process::ExitStatusExt;
use std::process::Stdio;

use common::cli::{client, serve, set_up};

#[tokio::test]
async fn ls_into_a_closed_pipe_ends_without_a_panic() {
    let dir = tempfile::tempdir().expect("temp dir");
    let (_server, url) = serve(dir.path(), 0).await;
    set_up(dir.path(), &url).await;

    let mut ls = client(["ls"], &url, &[]);
    ls.stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = ls.spawn().expect("spawn ls");
    // The reader leaves before `ls` has printed anything (it signs in first), as `head` does once
    // it has its lines.
    drop(child.stdout.take());
    let out = child.wait_with_output().await.expect("wait for ls");
    let stderr = String::from_utf8_lossy(&out.stderr);

    assert!(!stderr.contains("panicked"), "ls panicked: {stderr}");
    assert_eq!(
        out.status.signal(),
        Some(libc::SIGPIPE),
        "ls ends as Unix tools do on a closed pipe; status {:?}, stderr: {stderr}",
        out.status
    );
}
