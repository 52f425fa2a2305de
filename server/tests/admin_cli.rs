//! `cloister admin …` against the real `cloister serve` (without workers, so jobs stay where the
//! commands put them): list, reprioritise, cancel, retry with the key opened here, kill refused
//! for a queued job, load, users, housekeeping; and a member is turned away.

mod common;

use std::path::Path;

use common::cli::{client, cloister, run, serve, set_up, Run};

async fn admin<const N: usize>(args: [&str; N], server: &str) -> Run {
    let mut all = vec!["admin"];
    all.extend(args);
    run(client([], server, &all), "").await
}

fn ok(run: &Run) -> &str {
    assert_eq!(
        run.code, 0,
        "stdout: {}\nstderr: {}",
        run.stdout, run.stderr
    );
    &run.stdout
}

async fn upload(server: &str, dir: &Path, name: &str) {
    let path = dir.join(name);
    std::fs::write(&path, vec![9u8; 20_000]).expect("file");
    let up = run(
        client(["upload"], server, &[path.to_str().expect("path")]),
        "",
    )
    .await;
    assert_eq!(up.code, 0, "{}", up.stderr);
}

#[tokio::test]
async fn an_admin_runs_the_console_from_the_command_line() {
    let data = tempfile::tempdir().expect("data");
    let files = tempfile::tempdir().expect("files");
    let (_server, url) = serve(data.path(), 0).await;
    set_up(data.path(), &url).await;
    upload(&url, files.path(), "one.mp4").await;
    upload(&url, files.path(), "two.mp4").await;

    let jobs = admin(["jobs"], &url).await;
    let listed = ok(&jobs);
    assert!(listed.contains("queued, position 1"), "{listed}");
    assert!(listed.contains("root"), "{listed}");

    let moved = admin(["priority", "2", "top"], &url).await;
    assert!(
        ok(&moved).contains("position 1 in the queue"),
        "{}",
        moved.stdout
    );
    let moved = admin(["priority", "2", "-5"], &url).await;
    assert!(ok(&moved).contains("priority -5"), "{}", moved.stdout);
    let bad = admin(["priority", "2", "first"], &url).await;
    assert_ne!(bad.code, 0);
    assert!(bad.stderr.contains("say top, bottom"), "{}", bad.stderr);

    let cancelled = admin(["cancel", "1"], &url).await;
    assert!(
        ok(&cancelled).contains("Job 1 cancelled"),
        "{}",
        cancelled.stdout
    );
    // Retry opens the video's key with the passphrase and hands it over again.
    let retried = admin(["retry", "1"], &url).await;
    assert!(
        ok(&retried).contains("Job 1 is queued again"),
        "{}",
        retried.stdout
    );
    let killed = admin(["kill", "1"], &url).await;
    assert_eq!(killed.code, 1);
    assert!(
        killed.stderr.contains("Only a running job can be killed"),
        "{}",
        killed.stderr
    );

    let load = admin(["load"], &url).await;
    let shown = ok(&load);
    assert!(shown.contains("RAM") && shown.contains("Gate"), "{shown}");
    assert!(shown.contains("no job finished yet"), "{shown}");
    let users = admin(["users"], &url).await;
    assert!(ok(&users).contains("root"), "{}", users.stdout);

    std::fs::create_dir_all(data.path().join("tmp").join("job-77")).expect("stray");
    let report = admin(["housekeeping"], &url).await;
    assert!(ok(&report).contains("temp_files"), "{}", report.stdout);
    let cleaned = admin(["housekeeping", "--clean", "temp_files"], &url).await;
    assert!(
        ok(&cleaned).contains("Temporary files: removed 1 item(s)"),
        "{}",
        cleaned.stdout
    );
    assert!(!data.path().join("tmp").join("job-77").exists());

    // A member is turned away, whatever the command.
    let mut add = cloister();
    add.args(["user", "add", "bob", "--password-stdin"])
        .envs(common::cli::data_env(data.path()));
    let added = run(add, "bob's password\n").await;
    assert_eq!(added.code, 0, "{}", added.stderr);
    let mut as_bob = client([], &url, &["admin", "jobs"]);
    as_bob
        .env("CLOISTER_USER", "bob")
        .env("CLOISTER_PASSWORD", "bob's password");
    let refused = run(as_bob, "").await;
    assert_eq!(refused.code, 1);
    assert!(
        refused.stderr.contains("Only an admin can do that."),
        "{}",
        refused.stderr
    );
}
