//! `cloister backup` against a real running server with a real processed video: the backup,
//! restored into a fresh data directory and served, lists the video and gives back its original
//! byte for byte, also when an upload was left unfinished (it resumes on the restored server);
//! and the command refuses a destination that is not empty.

mod common;
#[path = "common/fixtures.rs"]
mod fixtures;

use std::path::Path;
use std::process::Stdio;
use std::time::{Duration, Instant};

use cloister::storage::PARTIAL_FILE;
use common::cli::{client, cloister, gate_open_with, port_of, run, serve, serve_with, set_up};
use common::uploads::CHUNK;
use fixtures::Fixture;

/// A gate that lets the job through whatever else the test machine runs.
fn quick() -> Vec<(&'static str, &'static str)> {
    gate_open_with(&[
        ("CLOISTER_DISK_RESERVE_BYTES", "0"),
        ("CLOISTER_WORKER_POLL_SECS", "1"),
    ])
}

fn backup(data: &Path, to: &Path) -> tokio::process::Command {
    let mut command = cloister();
    command
        .args(["backup", "--to"])
        .arg(to)
        .envs(common::cli::data_env(data));
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

/// Uploads a real clip and waits until it is processed; answers its id.
async fn upload_ready_clip(url: &str, clip: &Path) -> String {
    let up = run(
        client(["upload", "--wait"], url, &[clip.to_str().expect("path")]),
        "",
    )
    .await;
    assert_eq!(up.code, 0, "{}\n{}", up.stdout, up.stderr);
    up.stdout
        .split_once("video ")
        .and_then(|(_, rest)| rest.get(..32))
        .expect("the video id in the upload's output")
        .to_owned()
}

/// The server at `url` lists video `id` as ready, and `cloister download` gives back exactly
/// `original`'s bytes.
async fn assert_restored_ready(url: &str, id: &str, original: &Path, out: &Path) {
    let ls = run(client(["ls"], url, &[]), "").await;
    assert_eq!(ls.code, 0, "{}", ls.stderr);
    let line = ls
        .stdout
        .lines()
        .find(|line| line.contains(id))
        .unwrap_or_else(|| panic!("the restored server lists {id}: {}", ls.stdout));
    assert!(line.contains("ready"), "still ready: {line}");
    let down = run(
        client(["download"], url, &[id, "-o", out.to_str().expect("path")]),
        "",
    )
    .await;
    assert_eq!(down.code, 0, "{}\n{}", down.stdout, down.stderr);
    assert!(
        std::fs::read(out).expect("downloaded") == std::fs::read(original).expect("original"),
        "the restored original is byte-identical to the uploaded file"
    );
}

#[tokio::test]
async fn a_backup_taken_while_serving_restores_to_a_server_that_lists_and_returns_the_video() {
    if common::database::on_postgres() {
        return; // These restore SQLite's snapshot (cloister.db); PostgreSQL is backed up with pg_dump.
    }
    let data = tempfile::tempdir().expect("data");
    let files = tempfile::tempdir().expect("files");
    let (server, url) = serve_with(data.path(), 0, &quick()).await;
    set_up(data.path(), &url).await;
    let clip = fixtures::make(Fixture::H264AacMp4, files.path());
    let id = upload_ready_clip(&url, &clip).await;

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
    let (_restored_server, restored_url) = serve_with(restored.path(), 0, &quick()).await;
    assert_ne!(port_of(&restored_url), port_of(&url));
    let out = files.path().join("downloaded.mp4");
    assert_restored_ready(&restored_url, &id, &clip, &out).await;
}

async fn uploading_videos(data: &Path) -> Vec<(String, i64)> {
    let pool = common::database::connect(data).await;
    let rows = sqlx::query_as(
        "SELECT v.id, (SELECT COUNT(*) FROM upload_chunks c WHERE c.video_id = v.id)
         FROM videos v WHERE v.status = 'uploading'",
    )
    .fetch_all(&pool)
    .await
    .expect("query");
    pool.close().await;
    rows
}

#[tokio::test]
async fn a_backup_taken_with_an_upload_cut_off_midway_restores_and_the_upload_resumes() {
    if common::database::on_postgres() {
        return; // These restore SQLite's snapshot (cloister.db); PostgreSQL is backed up with pg_dump.
    }
    let data = tempfile::tempdir().expect("data");
    let files = tempfile::tempdir().expect("files");
    let (server, url) = serve_with(data.path(), 0, &quick()).await;
    set_up(data.path(), &url).await;
    let clip = fixtures::make(Fixture::H264AacMp4, files.path());
    let ready = upload_ready_clip(&url, &clip).await;

    // A four-chunk upload, killed (kill -9) once the server holds a chunk of it.
    let big = files.path().join("long walk.mp4");
    let bytes: Vec<u8> = (0..3 * CHUNK + 999).map(|i| (i * 7 % 253) as u8).collect();
    std::fs::write(&big, &bytes).expect("write");
    let big_arg = big.to_str().expect("path");
    let mut slow = client(
        ["upload", big_arg],
        &url,
        &["--parallel", "1", "--throttle-ms", "700"],
    );
    slow.stdout(Stdio::null()).stderr(Stdio::null());
    let mut uploader = slow.spawn().expect("upload");
    let deadline = Instant::now() + Duration::from_secs(60);
    let (partial, held) = loop {
        if let Some((id, held)) = uploading_videos(data.path()).await.pop() {
            if held >= 1 {
                break (id, held);
            }
        }
        assert!(Instant::now() < deadline, "no chunk arrived");
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    uploader.start_kill().expect("kill uploader");
    uploader.wait().await.expect("reap");
    assert!(held < 4, "the upload finished before it could be cut off");

    let dest = files.path().join("backup");
    let done = run(backup(data.path(), &dest), "").await;
    assert_eq!(done.code, 0, "{}\n{}", done.stdout, done.stderr);
    assert!(
        done.stdout.contains("2 videos ("),
        "the finished and the unfinished video: {}",
        done.stdout
    );
    assert!(
        dest.join("videos")
            .join(&partial)
            .join(PARTIAL_FILE)
            .is_file(),
        "the partial upload is copied"
    );
    drop(server);

    // Restored and served (no workers: the unfinished file is not a video).
    let restored = tempfile::tempdir().expect("restored");
    copy_dir(&dest, restored.path());
    let (_restored_server, restored_url) = serve(restored.path(), 0).await;
    let out = files.path().join("downloaded.mp4");
    assert_restored_ready(&restored_url, &ready, &clip, &out).await;

    // The unfinished upload resumes where the backup left it, and completes.
    let resumed = run(client(["upload", big_arg], &restored_url, &[]), "").await;
    assert_eq!(resumed.code, 0, "{}\n{}", resumed.stdout, resumed.stderr);
    assert!(
        resumed.stdout.contains("Resuming long walk.mp4: "),
        "{}",
        resumed.stdout
    );
    assert!(
        resumed
            .stdout
            .contains(&format!("Uploaded long walk.mp4: video {partial}")),
        "{}",
        resumed.stdout
    );
    assert!(uploading_videos(restored.path()).await.is_empty());
}

#[tokio::test]
async fn a_backup_refuses_a_destination_that_is_not_empty_or_is_inside_the_data_directory() {
    if common::database::on_postgres() {
        return; // These restore SQLite's snapshot (cloister.db); PostgreSQL is backed up with pg_dump.
    }
    let data = tempfile::tempdir().expect("data");
    let (server, url) = serve_with(data.path(), 0, &quick()).await;
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

#[tokio::test]
async fn on_postgres_the_backup_holds_the_sealed_files_and_says_to_dump_the_database_with_pg_dump()
{
    if !common::database::on_postgres() {
        return; // The PostgreSQL branch of the command: the database is pg_dump's.
    }
    let data = tempfile::tempdir().expect("data");
    let files = tempfile::tempdir().expect("files");
    let database = common::database::url_for(data.path()).expect("a PostgreSQL database");
    let mut env = quick();
    env.extend([
        ("CLOISTER_WORKERS", "0"),
        ("CLOISTER_DATABASE_URL", database.as_str()),
    ]);
    let (_server, url) = serve_with(data.path(), 0, &env).await;
    let mut add = cloister();
    add.args(["user", "add", "root", "--admin", "--password-stdin"])
        .env("CLOISTER_DATA_DIR", data.path())
        .env("CLOISTER_DATABASE_URL", &database);
    let added = run(add, &format!("{}\n", common::cli::PASSWORD)).await;
    assert_eq!(added.code, 0, "{}", added.stderr);
    let init = run(client(["library", "init"], &url, &[]), "").await;
    assert_eq!(init.code, 0, "{}", init.stderr);
    let file = files.path().join("notes.mp4");
    std::fs::write(&file, vec![9u8; 5000]).expect("write");
    let up = run(
        client(["upload", file.to_str().expect("path")], &url, &[]),
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

    // The URL as an admin might give it, password included: it is never printed.
    let with_password = database.replacen("cloister@", "cloister:hunter2@", 1);
    let dest = files.path().join("backup");
    let mut command = backup(data.path(), &dest);
    command.env("CLOISTER_DATABASE_URL", &with_password);
    let done = run(command, "").await;
    assert_eq!(done.code, 0, "{}\n{}", done.stdout, done.stderr);
    assert!(
        done.stdout.contains(&format!(
            "pg_dump --format=custom --file=cloister.pgdump '{database}'"
        )),
        "the pg_dump command, without the password: {}",
        done.stdout
    );
    assert!(
        !format!("{}{}", done.stdout, done.stderr).contains("hunter2"),
        "{}",
        done.stdout
    );
    assert!(done.stdout.contains("1 video ("), "{}", done.stdout);
    assert!(!dest.join("cloister.db").exists(), "no database file");
    assert_eq!(
        std::fs::read(dest.join("server.key")).expect("key in the backup"),
        std::fs::read(data.path().join("server.key")).expect("key"),
    );
    assert_eq!(
        std::fs::read(dest.join("videos").join(&id).join("original.sealed")).expect("copied"),
        std::fs::read(data.path().join("videos").join(&id).join("original.sealed"))
            .expect("original"),
    );
}
