//! `cloister migrate-db`: a library served on SQLite (accounts, keys, videos, a comment) is moved
//! into an empty PostgreSQL database, and the server started on PostgreSQL lets the same people
//! sign in and lists the same videos and comments; new rows continue after the copied ones. And
//! the refusals: a server still running, a target that is not PostgreSQL or already has users, a
//! data directory that is missing.

mod common;

use std::path::Path;

use cloister_shared::api::CommentPage;
use cloister_shared::crypto::stream::{open_all, seal_all, DEFAULT_CHUNK_SIZE};
use cloister_shared::{CommentId, Purpose};
use common::cli::{client, cloister, gate_open_with, run, serve_command, start, Run, PASSWORD};
use common::served::Member;
use common::uploads::SealedFile;
use reqwest::Method;
use serde_json::json;

const ALICE_PASSWORD: &str = "alice's long password";

/// The server's settings for this test; `database` is the PostgreSQL URL, or `None` for the data
/// directory's SQLite file (whatever the test run's default is).
fn serve_on(data: &Path, database: Option<&str>) -> tokio::process::Command {
    let env = gate_open_with(&[
        ("CLOISTER_WORKERS", "0"),
        ("CLOISTER_DISK_RESERVE_BYTES", "0"),
    ]);
    let mut command = serve_command(data, 0, &env);
    match database {
        Some(url) => command.env("CLOISTER_DATABASE_URL", url),
        None => command.env_remove("CLOISTER_DATABASE_URL"),
    };
    command
}

/// `cloister user add` on the database `database` names (`None`: the SQLite file).
async fn add_user(data: &Path, database: Option<&str>, name: &str, password: &str, admin: bool) {
    let mut add = cloister();
    add.args(["user", "add", name, "--password-stdin"])
        .env("CLOISTER_DATA_DIR", data);
    if admin {
        add.arg("--admin");
    }
    match database {
        Some(url) => add.env("CLOISTER_DATABASE_URL", url),
        None => add.env_remove("CLOISTER_DATABASE_URL"),
    };
    let r = run(add, &format!("{password}\n")).await;
    assert_eq!(r.code, 0, "{}", r.stderr);
}

/// `cloister migrate-db` from `data` to `to` (given in the environment, as the docs advise).
async fn migrate(data: &Path, to: &str) -> Run {
    let mut command = cloister();
    command
        .args(["migrate-db", "--data-dir"])
        .arg(data)
        .env("CLOISTER_MIGRATE_TO", to);
    run(command, "").await
}

fn comment_body(file: &SealedFile, id: &CommentId, text: &str) -> String {
    let purpose = Purpose::comment(&id.to_string()).expect("purpose");
    hex::encode(
        seal_all(
            &file.dek,
            &file.id,
            &purpose,
            DEFAULT_CHUNK_SIZE,
            text.as_bytes(),
        )
        .expect("seal"),
    )
}

/// The comments on `file`'s video as `member` reads them, opened with its key.
async fn comments(member: &Member, file: &SealedFile) -> Vec<(String, String)> {
    let path = format!("/api/videos/{}/comments", file.id);
    let page: CommentPage = member
        .ok(member.request(Method::GET, &path))
        .await
        .json()
        .await
        .expect("a comment page");
    page.comments
        .iter()
        .map(|c| {
            let purpose = Purpose::comment(&c.comment_id.to_string()).expect("purpose");
            let sealed = hex::decode(&c.body_sealed).expect("hex");
            let text = open_all(&file.dek, &file.id, &purpose, &sealed).expect("opens");
            (c.author.clone(), String::from_utf8(text).expect("utf-8"))
        })
        .collect()
}

async fn post_comment(member: &Member, file: &SealedFile, text: &str) {
    let id = CommentId::random().expect("id");
    member
        .post(
            &format!("/api/videos/{}/comments", file.id),
            json!({"comment_id": id.to_string(), "body_sealed": comment_body(file, &id, text)}),
        )
        .await;
}

async fn ls(url: &str) -> String {
    let r = run(client(["ls"], url, &[]), "").await;
    assert_eq!(r.code, 0, "{}", r.stderr);
    r.stdout
}

#[tokio::test]
async fn a_library_moved_to_postgres_serves_the_same_people_videos_and_comments() {
    if !common::database::on_postgres() {
        return; // This test needs the PostgreSQL pass (scripts/with-postgres).
    }
    let data = tempfile::tempdir().expect("data");
    let files = tempfile::tempdir().expect("files");
    let target = common::database::url_for(data.path()).expect("a PostgreSQL database");

    // On SQLite: an admin with the library's keys, a member, two videos and a comment.
    let (server, url) = start(serve_on(data.path(), None)).await;
    add_user(data.path(), None, "root", PASSWORD, true).await;
    let init = run(client(["library", "init"], &url, &[]), "").await;
    assert_eq!(init.code, 0, "{}", init.stderr);
    add_user(data.path(), None, "alice", ALICE_PASSWORD, false).await;
    let clip = files.path().join("beach day.mp4");
    std::fs::write(&clip, vec![42u8; 70_000]).expect("write");
    let up = run(
        client(["upload", clip.to_str().expect("path")], &url, &[]),
        "",
    )
    .await;
    assert_eq!(up.code, 0, "{}\n{}", up.stdout, up.stderr);
    let root = Member::sign_in(&url, "root", PASSWORD).await;
    let file = SealedFile::new(1000);
    root.upload(&file).await;
    let alice = Member::sign_in(&url, "alice", ALICE_PASSWORD).await;
    post_comment(&alice, &file, "see you at the beach").await;
    let listed = ls(&url).await;
    assert!(listed.contains("beach day"), "{listed}");
    let said = comments(&alice, &file).await;

    // While the server runs, nothing is copied and PostgreSQL is left alone.
    let refused = migrate(data.path(), &target).await;
    assert_ne!(refused.code, 0, "{}", refused.stdout);
    assert!(refused.stderr.contains("is in use"), "{}", refused.stderr);
    assert!(
        refused.stderr.contains("nothing was copied"),
        "{}",
        refused.stderr
    );

    drop(server);
    let moved = migrate(data.path(), &target).await;
    assert_eq!(moved.code, 0, "{}\n{}", moved.stdout, moved.stderr);
    for line in [
        "users                2",
        "videos               2",
        "comments             1",
    ] {
        assert!(moved.stdout.contains(line), "{line:?} in {}", moved.stdout);
    }
    assert!(
        moved.stdout.contains(&format!(
            "CLOISTER_DATABASE_URL={target} cloister serve --data-dir"
        )),
        "the line to start on PostgreSQL: {}",
        moved.stdout
    );

    // On PostgreSQL: the same people sign in, see the same library and the same comment.
    let (_server, url) = start(serve_on(data.path(), Some(&target))).await;
    assert_eq!(ls(&url).await, listed, "the same videos, titles opened");
    let alice = Member::sign_in(&url, "alice", ALICE_PASSWORD).await;
    assert_eq!(comments(&alice, &file).await, said);

    // New rows continue after the copied ones: an account, a comment, an upload.
    add_user(
        data.path(),
        Some(&target),
        "carol",
        "carol's long password",
        false,
    )
    .await;
    post_comment(&alice, &file, "and the sunset").await;
    assert_eq!(comments(&alice, &file).await.len(), 2);
    let more = SealedFile::new(2000);
    Member::sign_in(&url, "root", PASSWORD)
        .await
        .upload(&more)
        .await;
    assert_eq!(ls(&url).await.lines().count(), listed.lines().count() + 1);

    // A second run finds the library already there.
    let again = migrate(data.path(), &target).await;
    assert_ne!(again.code, 0);
    assert!(
        again.stderr.contains("already has 3 users"),
        "{}",
        again.stderr
    );
}

#[tokio::test]
async fn migrate_db_refuses_a_target_that_is_not_postgres_or_not_empty_and_a_missing_data_dir() {
    let data = tempfile::tempdir().expect("data");
    add_user(data.path(), None, "root", PASSWORD, true).await;

    let not_pg = migrate(data.path(), "sqlite:///tmp/other.db").await;
    assert_ne!(not_pg.code, 0);
    assert!(
        not_pg
            .stderr
            .contains("--to must name a PostgreSQL database"),
        "{}",
        not_pg.stderr
    );

    let nowhere = data.path().join("no such dir");
    let missing = migrate(&nowhere, "postgres://cloister@127.0.0.1:1/x").await;
    assert_ne!(missing.code, 0);
    assert!(
        missing.stderr.contains("there is no data directory"),
        "{}",
        missing.stderr
    );
    let empty = tempfile::tempdir().expect("empty");
    let no_db = migrate(empty.path(), "postgres://cloister@127.0.0.1:1/x").await;
    assert_ne!(no_db.code, 0);
    assert!(
        no_db.stderr.contains("there is no cloister.db"),
        "{}",
        no_db.stderr
    );
    assert!(
        !empty.path().join("cloister.db").exists(),
        "nothing created"
    );

    if !common::database::on_postgres() {
        return; // The rest needs a PostgreSQL server (scripts/with-postgres).
    }
    // A PostgreSQL database that already holds a library, with a password in the URL.
    let other = tempfile::tempdir().expect("other");
    let used = common::database::url_for(other.path()).expect("a PostgreSQL database");
    add_user(
        other.path(),
        Some(&used),
        "bob",
        "bob's long password",
        true,
    )
    .await;
    let with_password = used.replacen("cloister@", "cloister:hunter2@", 1);
    let taken = migrate(data.path(), &with_password).await;
    assert_ne!(taken.code, 0);
    assert!(
        taken.stderr.contains("already has 1 user"),
        "{}",
        taken.stderr
    );
    assert!(!taken.stderr.contains("hunter2"), "{}", taken.stderr);
}
