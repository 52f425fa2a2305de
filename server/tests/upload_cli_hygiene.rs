//! `cloister upload` checks before sending (docs/uploads.md, "Before sending"): an empty file is
//! refused with nothing sent, a file that is not a video is sent with a warning, and every new
//! upload stores its content fingerprint, the one the browser computes for the same bytes.

mod common;

use cloister_shared::{content_fingerprint, sample_ranges, ContentSample};
use common::cli::{client, library_key, run, serve, set_up};

/// A port of this part's range (3131–3139), not an ephemeral one.
const PORT: u16 = 3131;

#[tokio::test]
async fn empty_files_are_refused_non_videos_warned_and_the_content_fingerprint_stored() {
    let data = tempfile::tempdir().expect("temp");
    let files = tempfile::tempdir().expect("temp");
    let (_server, url) = serve(data.path(), PORT).await;
    set_up(data.path(), &url).await;
    let pool = common::database::connect(data.path()).await;

    let empty = files.path().join("empty.mp4");
    std::fs::write(&empty, b"").expect("write");
    let r = run(
        client(["upload", empty.to_str().expect("utf-8")], &url, &[]),
        "",
    )
    .await;
    assert_ne!(r.code, 0, "{}", r.stdout);
    assert!(
        r.stderr
            .contains("the file is empty (0 bytes): there is nothing to upload"),
        "{}",
        r.stderr
    );
    let videos: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM videos")
        .fetch_one(&pool)
        .await
        .expect("count");
    assert_eq!(videos, 0, "nothing was created for the empty file");

    let notes = files.path().join("notes.mp4");
    let text = b"Shopping: bread, milk, film for the camera.\n".repeat(10);
    std::fs::write(&notes, &text).expect("write");
    let r = run(
        client(["upload", notes.to_str().expect("utf-8")], &url, &[]),
        "",
    )
    .await;
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(
        r.stderr.contains(
            "notes.mp4: This does not look like a video: it starts like a text file. Uploading it anyway."
        ),
        "{}",
        r.stderr
    );
    let stored: Vec<u8> = sqlx::query_scalar("SELECT content_fingerprint FROM videos")
        .fetch_one(&pool)
        .await
        .expect("fingerprint");
    let size = text.len() as u64;
    let sample = ContentSample::of(
        size,
        sample_ranges(size).map(|r| &text[r.start as usize..r.end as usize]),
    )
    .expect("sample");
    let key = library_key(data.path()).await;
    assert_eq!(stored, content_fingerprint(&key, &sample).to_vec());
}
