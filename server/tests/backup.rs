//! `cloister backup` against a real running server with a real processed video: the backup,
//! restored into a fresh data directory and served, lists the video and gives back its original
//! byte for byte; and the command refuses a destination that is not empty.

mod common;
#[path = "common/fixtures.rs"]
mod fixtures;

use std::path::Path;

use common::cli::{client, cloister, port_of, run, serve_with, set_up};
use fixtures::Fixture;

/// A gate that lets the job through whatever else the test machine runs.
const QUICK: &[(&str, &str)] = &[
    ("CLOISTER_MAX_LOAD", "1000"),
    ("CLOISTER_MAX_RAM_PERCENT", "100"),
    ("CLOISTER_MIN_AVAILABLE_RAM_MB", "0"),
    ("CLOISTER_MAX_SWAP_USED_MB", "1000000"),
    ("CLOISTER_DISK_RESERVE_BYTES", "0"),
    ("CLOISTER_WORKER_POLL_SECS", "1"),
];

fn backup(data: &Path, to: &Path) -> tokio::process::Command {
    let mut command = cloister();
    command
        .args(["backup", "--to"])
        .arg(to)
        .env("CLOISTER_DATA_DIR", data);
    command
}

/// Copies a directory tree as an admin restoring a backup would (`cp -a`).
fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("mkdir");
    for entry in std::fs::read_dir(from).expect("read_dir") {
        let entry = entry.expect("entry");
        let target = to.join(entry.file_name());
        if entry.file_type().expect("type").is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).expect("copy");
        }
    }
}

#[tokio::test]
async fn a_backup_taken_while_serving_restores_to_a_server_that_lists_and_returns_the_video() {
    let data = tempfile::tempdir().expect("data");
    let files = tempfile::tempdir().expect("files");
    let (server, url) = serve_with(data.path(), 0, QUICK).await;
    set_up(data.path(), &url).await;
    let clip = fixtures::make(Fixture::H264AacMp4, files.path());
    let up = run(
        client(["upload", "--wait"], &url, &[clip.to_str().expect("path")]),
        "",
    )
    .await;
    assert_eq!(up.code, 0, "{}\n{}", up.stdout, up.stderr);
    let id = up
        .stdout
        .split_once("video ")
        .and_then(|(_, rest)| rest.get(..32))
        .expect("the video id in the upload's output")
        .to_owned();

    // A plaintext file of a running job must never be copied: put one where jobs keep theirs.
    std::fs::write(data.path().join("tmp").join("job-plaintext"), b"secret").expect("tmp file");

    // Taken while the server runs.
    let dest = files.path().join("backup");
    let done = run(backup(data.path(), &dest), "").await;
    assert_eq!(done.code, 0, "{}\n{}", done.stdout, done.stderr);
    assert!(
        done.stdout.contains("1 video ("),
        "the summary counts the video: {}",
        done.stdout
    );
    assert!(!dest.join("tmp").exists(), "tmp/ is not backed up");
    assert_eq!(
        std::fs::read(dest.join("server.key")).expect("key in the backup"),
        std::fs::read(data.path().join("server.key")).expect("key"),
    );
    assert!(dest
        .join("videos")
        .join(&id)
        .join("manifest.sealed")
        .is_file());
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = |p: &Path| std::fs::metadata(p).expect("meta").permissions().mode() & 0o777;
        assert_eq!(mode(&dest), 0o700, "the backup directory is private");
        assert_eq!(
            mode(&dest.join("cloister.db")),
            0o600,
            "the database is private"
        );
        assert_eq!(mode(&dest.join("server.key")), 0o600, "the key is private");
    }
    drop(server);

    // Restored into a fresh data directory and served on another port.
    let restored = tempfile::tempdir().expect("restored");
    copy_dir(&dest, restored.path());
    let (_restored_server, restored_url) = serve_with(restored.path(), 0, QUICK).await;
    assert_ne!(port_of(&restored_url), port_of(&url));
    let ls = run(client(["ls"], &restored_url, &[]), "").await;
    assert_eq!(ls.code, 0, "{}", ls.stderr);
    let line = ls
        .stdout
        .lines()
        .find(|line| line.contains(&id))
        .unwrap_or_else(|| panic!("the restored server lists {id}: {}", ls.stdout));
    assert!(line.contains("ready"), "still ready: {line}");

    let out = files.path().join("downloaded.mp4");
    let down = run(
        client(
            ["download"],
            &restored_url,
            &[&id, "-o", out.to_str().expect("path")],
        ),
        "",
    )
    .await;
    assert_eq!(down.code, 0, "{}\n{}", down.stdout, down.stderr);
    assert!(
        std::fs::read(&out).expect("downloaded") == std::fs::read(&clip).expect("clip"),
        "the restored original is byte-identical to the uploaded file"
    );
}

#[tokio::test]
async fn a_backup_refuses_a_destination_that_is_not_empty_or_is_inside_the_data_directory() {
    let data = tempfile::tempdir().expect("data");
    let (server, url) = serve_with(data.path(), 0, QUICK).await;
    set_up(data.path(), &url).await;
    drop(server);

    let dest = tempfile::tempdir().expect("dest");
    std::fs::write(dest.path().join("notes.txt"), b"keep me").expect("write");
    let refused = run(backup(data.path(), dest.path()), "").await;
    assert_ne!(refused.code, 0);
    assert!(
        refused.stderr.contains("is not empty"),
        "{}",
        refused.stderr
    );
    assert!(!dest.path().join("cloister.db").exists(), "nothing written");

    let inside = data.path().join("backups").join("today");
    let refused = run(backup(data.path(), &inside), "").await;
    assert_ne!(refused.code, 0);
    assert!(
        refused.stderr.contains("inside the data directory"),
        "{}",
        refused.stderr
    );
    assert!(!inside.join("cloister.db").exists(), "nothing written");

    let nowhere = tempfile::tempdir().expect("empty");
    let refused = run(backup(nowhere.path(), &dest.path().join("b")), "").await;
    assert_ne!(refused.code, 0);
    assert!(
        refused.stderr.contains("no cloister.db"),
        "{}",
        refused.stderr
    );
}
