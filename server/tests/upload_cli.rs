//! `cloister upload` and `cloister ls` against the real `cloister serve`, including the two
//! interruptions users meet: the server killed mid-upload (restart, resume) and the client killed
//! mid-upload (run it again). Resumed uploads must produce the very bytes a single pass would.

mod common;

use std::path::{Path, PathBuf};
use std::process::Stdio;

use cloister_shared::crypto::stream::{open_all, seal_all_with};
use cloister_shared::{unwrap_dek, Purpose, StreamHeader, StreamSealer, VideoId, WrappedKey};
use common::cli::{
    chunks_recorded, client, library_key, port_of, run, serve, set_up, wait_for_chunks,
};
use common::uploads::CHUNK;

/// A test video file of four chunks (the last one partial).
fn make_file(dir: &Path) -> (PathBuf, Vec<u8>) {
    let bytes: Vec<u8> = (0..3 * CHUNK + 12_345)
        .map(|i| (i.wrapping_mul(31) ^ (i >> 13)) as u8)
        .collect();
    let path = dir.join("beach day.mp4");
    std::fs::write(&path, &bytes).expect("write file");
    (path, bytes)
}

/// The upload's file must equal header ‖ every chunk sealed in one pass with the same DEK and salt,
/// and open to the original bytes.
async fn assert_single_pass_identical(data: &Path, plain: &[u8]) {
    let lk = library_key(data).await;
    let pool = common::database::connect(data).await;
    let (id, status, header, wrapped): (String, String, Vec<u8>, Vec<u8>) =
        sqlx::query_as("SELECT id, status, stream_header, wrapped_dek FROM videos")
            .fetch_one(&pool)
            .await
            .expect("one video");
    assert_eq!(status, "uploaded");
    let id = VideoId::parse(&id).expect("id");
    let dek = unwrap_dek(
        &lk,
        &id,
        &WrappedKey::from_bytes(&wrapped).expect("wrapped"),
    )
    .expect("dek");
    let header = StreamHeader::parse(&header).expect("header");
    let sealer = StreamSealer::resume(&dek, &id, &Purpose::Original, &header).expect("sealer");
    let single_pass = seal_all_with(&sealer, plain).expect("seal");
    let stored = std::fs::read(
        data.join("videos")
            .join(id.to_string())
            .join("original.sealed"),
    )
    .expect("original.sealed");
    assert!(
        stored == single_pass,
        "the resumed file differs from a single-pass upload"
    );
    let opened = open_all(&dek, &id, &Purpose::Original, &stored).expect("opens");
    assert!(opened == plain, "decrypted bytes differ from the file");
    let chunks = chunks_recorded(&pool).await;
    assert_eq!(chunks, 0);
}

fn sent(stdout: &str) -> usize {
    stdout
        .lines()
        .find_map(|l| l.strip_prefix("Sent ")?.split(' ').next()?.parse().ok())
        .unwrap_or_else(|| panic!("no 'Sent N of M chunks.' in {stdout}"))
}

#[tokio::test]
async fn a_server_killed_mid_upload_restarts_and_the_upload_resumes_to_identical_bytes() {
    let data = tempfile::tempdir().expect("temp");
    let files = tempfile::tempdir().expect("temp");
    let (path, plain) = make_file(files.path());
    let (mut server, url) = serve(data.path(), 0).await;
    set_up(data.path(), &url).await;
    let pool = common::database::connect(data.path()).await;

    let path_str = path.to_str().expect("utf-8");
    let mut slow = client(
        ["upload", path_str],
        &url,
        &["--parallel", "1", "--throttle-ms", "700"],
    );
    slow.stdout(Stdio::null()).stderr(Stdio::null());
    let mut uploader = slow.spawn().expect("upload");
    wait_for_chunks(&pool, 2).await;
    // kill -9: no graceful shutdown, whatever was in flight is lost.
    server.start_kill().expect("kill server");
    server.wait().await.expect("reap");
    uploader.start_kill().expect("kill uploader");
    uploader.wait().await.expect("reap");
    pool.close().await;

    let (_server, url) = serve(data.path(), port_of(&url)).await;
    let r = run(client(["upload", path_str], &url, &[]), "").await;
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(
        r.stdout.contains("Resuming beach day.mp4: "),
        "{}",
        r.stdout
    );
    assert!(sent(&r.stdout) < 4, "{}", r.stdout);
    assert!(
        r.stdout.contains("Uploaded beach day.mp4: video "),
        "{}",
        r.stdout
    );
    assert_single_pass_identical(data.path(), &plain).await;

    let r = run(client(["ls"], &url, &[]), "").await;
    assert_eq!(r.code, 0, "{}", r.stderr);
    let row = r.stdout.lines().nth(1).unwrap_or_default().to_owned();
    assert!(row.contains("uploaded"), "{}", r.stdout);
    assert!(row.contains("root"), "{}", r.stdout);
    assert!(row.ends_with("beach day"), "{}", r.stdout);
}

#[tokio::test]
async fn a_client_killed_mid_upload_resumes_when_run_again() {
    let data = tempfile::tempdir().expect("temp");
    let files = tempfile::tempdir().expect("temp");
    let (path, plain) = make_file(files.path());
    let (_server, url) = serve(data.path(), 0).await;
    set_up(data.path(), &url).await;
    let pool = common::database::connect(data.path()).await;

    let path_str = path.to_str().expect("utf-8");
    let mut slow = client(
        ["upload", path_str, "--title", "Beach, day one"],
        &url,
        &["--parallel", "1", "--throttle-ms", "700"],
    );
    slow.stdout(Stdio::null()).stderr(Stdio::null());
    let mut uploader = slow.spawn().expect("upload");
    wait_for_chunks(&pool, 1).await;
    uploader.start_kill().expect("kill uploader");
    uploader.wait().await.expect("reap");
    let held = chunks_recorded(&pool).await;
    assert!((1..4).contains(&held), "{held}");

    let r = run(client(["upload", path_str], &url, &[]), "").await;
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(
        r.stdout.contains("Resuming beach day.mp4: "),
        "{}",
        r.stdout
    );
    assert!(sent(&r.stdout) <= 4 - held as usize, "{}", r.stdout);
    assert!(r.stdout.contains(", job "), "{}", r.stdout);
    assert_single_pass_identical(data.path(), &plain).await;

    // The title given on the first run was kept.
    let r = run(client(["ls"], &url, &[]), "").await;
    assert!(r.stdout.contains("Beach, day one"), "{}", r.stdout);

    // Running it again starts a new upload: the finished one is not resumed.
    let r = run(client(["upload", path_str], &url, &[]), "").await;
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(!r.stdout.contains("Resuming"), "{}", r.stdout);
    assert_eq!(sent(&r.stdout), 4, "{}", r.stdout);
}
