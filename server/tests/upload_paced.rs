//! `cloister upload` of a batch when the server paces it: a 429 on complete (the member's
//! processing queue full, key checks spent) is waited out, not reported as a failed upload.

mod common;

use common::cli::{client, gate_open_with, run, serve_with, set_up};
use common::processing::small_clip;

/// The gate open, quick worker polling, and room for one job per member.
fn one_job_at_a_time() -> Vec<(&'static str, &'static str)> {
    gate_open_with(&[
        ("CLOISTER_DISK_RESERVE_BYTES", "0"),
        ("CLOISTER_WORKER_POLL_SECS", "1"),
        ("CLOISTER_MAX_QUEUED_JOBS_PER_MEMBER", "1"),
    ])
}

#[tokio::test]
async fn a_batch_upload_waits_for_a_full_queue_and_completes_every_file() {
    let data = tempfile::tempdir().expect("data dir");
    let files = tempfile::tempdir().expect("files dir");
    let (_server, url) = serve_with(data.path(), 0, &one_job_at_a_time()).await;
    set_up(data.path(), &url).await;
    let first = files.path().join("first.mp4");
    let second = files.path().join("second.mp4");
    std::fs::write(&first, small_clip(2)).expect("clip");
    std::fs::write(&second, small_clip(2)).expect("clip");

    let up = tokio::time::timeout(
        std::time::Duration::from_secs(120),
        run(
            client(
                ["upload"],
                &url,
                &[
                    first.to_str().expect("path"),
                    second.to_str().expect("path"),
                ],
            ),
            "",
        ),
    )
    .await
    .expect("the batch finishes once the first job is processed");

    assert_eq!(up.code, 0, "stdout: {}\nstderr: {}", up.stdout, up.stderr);
    assert!(up.stdout.contains("Uploaded first.mp4"), "{}", up.stdout);
    assert!(up.stdout.contains("Uploaded second.mp4"), "{}", up.stdout);
    assert!(
        up.stderr
            .contains("You already have 1 video waiting to be processed (at most 1).")
            && up.stderr.contains("Waiting, then completing the upload."),
        "the member is told why the second file waits: {}",
        up.stderr
    );
}
