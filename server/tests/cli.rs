//! The real `cloister` binary: `user` commands on the data directory, and the `library` commands
//! and `login --check` against a server listening on a loopback port, configured by environment
//! variables as a script would.

mod common;

use std::process::Stdio;

use tokio::io::AsyncWriteExt;
use tokio::process::Command;

use common::TestApp;

struct Run {
    code: i32,
    stdout: String,
    stderr: String,
}

/// Runs `cloister ARGS` with only the given CLOISTER_* variables, feeding `stdin`.
async fn cloister(args: &[&str], env: &[(&str, &str)], stdin: &str) -> Run {
    let mut command = Command::new(env!("CARGO_BIN_EXE_cloister"));
    command.args(args);
    for (name, _) in std::env::vars() {
        if name.starts_with("CLOISTER_") {
            command.env_remove(name);
        }
    }
    command.envs(env.iter().copied());
    // A data directory comes with its database (PostgreSQL when this run tests it).
    if let Some((_, data)) = env.iter().find(|(name, _)| *name == "CLOISTER_DATA_DIR") {
        command.envs(common::cli::data_env(data));
    }
    command
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = command.spawn().expect("spawn cloister");
    let mut input = child.stdin.take().expect("stdin");
    input
        .write_all(stdin.as_bytes())
        .await
        .expect("write stdin");
    drop(input);
    let output = child.wait_with_output().await.expect("run cloister");
    Run {
        code: output.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    }
}

#[tokio::test]
async fn first_admin_library_init_and_login_check_from_the_command_line() {
    // Many sign-ins from one address in this test: raise the throttle's burst.
    let app = TestApp::spawn_with(|c| c.accounts.login_burst = 100).await;
    let server = format!("http://{}", app.serve_on_loopback().await);
    let data_dir = app.data_dir().to_str().expect("utf-8 path").to_owned();
    let data = ("CLOISTER_DATA_DIR", data_dir.as_str());

    let run = cloister(
        &["user", "add", "Root", "--admin", "--password-stdin"],
        &[data],
        "root password\n",
    )
    .await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(run.stdout.trim(), "Created root (admin).");
    let run = cloister(
        &["user", "add", "bob", "--password-stdin"],
        &[data],
        "bob's password\n",
    )
    .await;
    assert_eq!(run.code, 0, "{}", run.stderr);

    let base = [
        ("CLOISTER_SERVER", server.as_str()),
        ("CLOISTER_USER", "root"),
        ("CLOISTER_PASSWORD", "root password"),
    ];
    let with = |extra: &[(&'static str, &'static str)]| -> Vec<(&str, &str)> {
        base.iter().copied().chain(extra.iter().copied()).collect()
    };

    // No library yet: login --check says so.
    let run = cloister(
        &["login", "--check"],
        &with(&[("CLOISTER_PASSPHRASE", "root's own words")]),
        "",
    )
    .await;
    assert_ne!(run.code, 0);
    assert!(run.stderr.contains("not been set up yet"), "{}", run.stderr);

    // A member cannot set it up.
    let bob = [
        ("CLOISTER_SERVER", server.as_str()),
        ("CLOISTER_USER", "root"),
        ("CLOISTER_PASSWORD", "bob's password"),
        ("CLOISTER_PASSPHRASE", "bob's own words"),
    ];
    let run = cloister(&["library", "init", "--user", "bob"], &bob, "").await;
    assert_ne!(run.code, 0);
    assert!(
        run.stderr.contains("Only an admin can do that."),
        "{}",
        run.stderr
    );

    // The admin sets it up: the 24 recovery words are printed once.
    let run = cloister(
        &["library", "init"],
        &with(&[("CLOISTER_PASSPHRASE", "root's own words")]),
        "",
    )
    .await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(
        run.stdout.contains("The library is set up."),
        "{}",
        run.stdout
    );
    let words = run
        .stdout
        .lines()
        .find_map(|line| line.strip_prefix("Recovery key: "))
        .expect("the recovery words")
        .to_owned();
    assert_eq!(words.split(' ').count(), 24, "{words}");
    assert!(run.stdout.contains("not shown again"), "{}", run.stdout);

    let run = cloister(
        &["library", "init"],
        &with(&[("CLOISTER_PASSPHRASE", "other words here")]),
        "",
    )
    .await;
    assert_ne!(run.code, 0);
    assert!(run.stderr.contains("already set up"), "{}", run.stderr);

    let run = cloister(
        &["login", "--check"],
        &with(&[("CLOISTER_PASSPHRASE", "root's own words")]),
        "",
    )
    .await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(
        run.stdout.trim(),
        format!("Signed in to {server} as root (admin). Your library passphrase is correct.")
    );

    // Bob makes his keys with his own passphrase and waits; --user overrides CLOISTER_USER.
    let run = cloister(&["login", "--check", "--user", "bob"], &bob, "").await;
    assert_ne!(run.code, 0);
    assert!(
        run.stderr.contains("cloister library keys"),
        "{}",
        run.stderr
    );
    let run = cloister(&["library", "keys", "--user", "bob"], &bob, "").await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    let run = cloister(&["login", "--check", "--user", "bob"], &bob, "").await;
    assert_ne!(run.code, 0);
    assert!(
        run.stderr.contains("An admin needs to let you in"),
        "{}",
        run.stderr
    );
    // Only an admin lets anyone in.
    let run = cloister(&["library", "grant", "bob", "--user", "bob"], &bob, "").await;
    assert_ne!(run.code, 0);
    assert!(
        run.stderr.contains("Only an admin can let someone in."),
        "{}",
        run.stderr
    );
    let root = with(&[("CLOISTER_PASSPHRASE", "root's own words")]);
    let run = cloister(&["library", "grant", "nobody"], &root, "").await;
    assert_ne!(run.code, 0);
    assert!(
        run.stderr.contains("not waiting for access"),
        "{}",
        run.stderr
    );
    let run = cloister(&["library", "grant", "bob"], &root, "").await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(run.stdout.trim(), "bob can open the library now.");
    let run = cloister(&["library", "grant", "bob"], &root, "").await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(run.stdout.trim(), "bob already has access.");
    let run = cloister(&["login", "--check", "--user", "bob"], &bob, "").await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(run.stdout.contains("as bob (member)"), "{}", run.stdout);
    // Making keys again needs --replace (it ends his access until an admin lets him in).
    let run = cloister(&["library", "keys", "--user", "bob"], &bob, "").await;
    assert_ne!(run.code, 0);
    assert!(run.stderr.contains("--replace"), "{}", run.stderr);

    let run = cloister(
        &["login", "--check"],
        &with(&[("CLOISTER_PASSPHRASE", "wrong words entirely")]),
        "",
    )
    .await;
    assert_ne!(run.code, 0);
    assert!(
        run.stderr.contains("Unable to decrypt. Check passphrase."),
        "{}",
        run.stderr
    );
    assert!(run.stdout.is_empty(), "{}", run.stdout);

    // Change the passphrase: the old one stops working, the new one opens the same library.
    let run = cloister(
        &["library", "passwd"],
        &with(&[
            ("CLOISTER_PASSPHRASE", "root's own words"),
            ("CLOISTER_NEW_PASSPHRASE", "root's brand new words"),
        ]),
        "",
    )
    .await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    let run = cloister(
        &["login", "--check"],
        &with(&[("CLOISTER_PASSPHRASE", "root's brand new words")]),
        "",
    )
    .await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    let run = cloister(
        &["login", "--check"],
        &with(&[("CLOISTER_PASSPHRASE", "root's own words")]),
        "",
    )
    .await;
    assert!(
        run.stderr.contains("Unable to decrypt. Check passphrase."),
        "{}",
        run.stderr
    );

    // Recovery: a word off is refused before anything is sent; the right words restore root
    // under a new passphrase.
    let mut off: Vec<&str> = words.split(' ').collect();
    off[5] = if off[5] == "zoo" { "zone" } else { "zoo" };
    let off = off.join(" ");
    let mut recover = base.to_vec();
    recover.push(("CLOISTER_RECOVERY_WORDS", off.as_str()));
    recover.push(("CLOISTER_NEW_PASSPHRASE", "root recovered words"));
    let run = cloister(&["library", "recover"], &recover, "").await;
    assert_ne!(run.code, 0);
    assert!(!run.stderr.is_empty());
    let mut recover = base.to_vec();
    recover.push(("CLOISTER_RECOVERY_WORDS", words.as_str()));
    recover.push(("CLOISTER_NEW_PASSPHRASE", "root recovered words"));
    let run = cloister(&["library", "recover"], &recover, "").await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(run.stdout.contains("access is restored"), "{}", run.stdout);
    let run = cloister(
        &["login", "--check"],
        &with(&[("CLOISTER_PASSPHRASE", "root recovered words")]),
        "",
    )
    .await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    // Bob's access was untouched.
    let run = cloister(&["login", "--check", "--user", "bob"], &bob, "").await;
    assert_eq!(run.code, 0, "{}", run.stderr);
}

#[tokio::test]
async fn login_check_names_what_went_wrong() {
    let app = TestApp::spawn().await;
    let server = format!("http://{}", app.serve_on_loopback().await);
    app.add_user("root", cloister_shared::api::Role::Admin)
        .await;

    let run = cloister(
        &["login", "--check"],
        &[
            ("CLOISTER_SERVER", server.as_str()),
            ("CLOISTER_USER", "root"),
            ("CLOISTER_PASSWORD", "not the password"),
        ],
        "",
    )
    .await;
    assert_ne!(run.code, 0);
    assert!(
        run.stderr.contains("Wrong username or password."),
        "{}",
        run.stderr
    );

    // Nothing listens on port 9 of loopback here.
    let run = cloister(
        &["login", "--check", "--server", "http://127.0.0.1:9"],
        &[
            ("CLOISTER_USER", "root"),
            ("CLOISTER_PASSWORD", "whatever it is"),
        ],
        "",
    )
    .await;
    assert_ne!(run.code, 0);
    assert!(
        run.stderr
            .contains("Cannot reach the Cloister server at http://127.0.0.1:9"),
        "{}",
        run.stderr
    );

    let run = cloister(
        &["login", "--check"],
        &[("CLOISTER_SERVER", server.as_str())],
        "",
    )
    .await;
    assert_ne!(run.code, 0);
    assert!(run.stderr.contains("CLOISTER_USER"), "{}", run.stderr);

    // No password in the environment and no terminal to ask on (skipped when the tests run in a
    // terminal, where the child would prompt on it).
    if std::fs::File::open("/dev/tty").is_ok() {
        return;
    }
    let run = cloister(
        &["login", "--check"],
        &[
            ("CLOISTER_SERVER", server.as_str()),
            ("CLOISTER_USER", "root"),
        ],
        "",
    )
    .await;
    assert_ne!(run.code, 0);
    assert!(run.stderr.contains("CLOISTER_PASSWORD"), "{}", run.stderr);
}

#[tokio::test]
async fn user_commands_list_change_passwords_and_keep_the_last_admin() {
    let app = TestApp::spawn().await;
    let data_dir = app.data_dir().to_str().expect("utf-8 path").to_owned();
    let data = [("CLOISTER_DATA_DIR", data_dir.as_str())];

    let run = cloister(
        &["user", "add", "root", "--admin", "--password-stdin"],
        &data,
        "root password\r\n",
    )
    .await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    let run = cloister(
        &["user", "add", "root", "--password-stdin"],
        &data,
        "root password\n",
    )
    .await;
    assert_ne!(run.code, 0);
    assert!(run.stderr.contains("already taken"), "{}", run.stderr);
    let run = cloister(
        &["user", "add", "bad name", "--password-stdin"],
        &data,
        "whatever pass\n",
    )
    .await;
    assert!(run.stderr.contains("1 to 32 characters"), "{}", run.stderr);
    let run = cloister(
        &["user", "add", "carl", "--password-stdin"],
        &data,
        "short\n",
    )
    .await;
    assert!(run.stderr.contains("8 to 256 characters"), "{}", run.stderr);
    let run = cloister(
        &[
            "user",
            "add",
            "dora",
            "--password-stdin",
            "--quota",
            "1048576",
        ],
        &data,
        "dora's password\n",
    )
    .await;
    assert_eq!(run.code, 0, "{}", run.stderr);

    let run = cloister(&["user", "list"], &data, "").await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    let lines: Vec<&str> = run.stdout.lines().collect();
    assert_eq!(lines.len(), 3, "{}", run.stdout);
    assert!(
        lines[1].starts_with("dora") && lines[1].contains("member") && lines[1].contains("1.0 MiB"),
        "{}",
        run.stdout
    );
    assert!(
        lines[2].starts_with("root") && lines[2].contains("admin") && lines[2].contains("50.0 GiB"),
        "{}",
        run.stdout
    );

    // The CRLF above was not part of the password.
    app.login("root", "root password").await;
    let run = cloister(
        &["user", "passwd", "root", "--password-stdin"],
        &data,
        "a fresh password\n",
    )
    .await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    app.login("root", "a fresh password").await;

    let run = cloister(&["user", "remove", "root"], &data, "").await;
    assert_ne!(run.code, 0);
    assert!(run.stderr.contains("last admin"), "{}", run.stderr);
    let run = cloister(&["user", "remove", "dora"], &data, "").await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    let run = cloister(&["user", "remove", "dora"], &data, "").await;
    assert!(run.stderr.contains("no user named dora"), "{}", run.stderr);
}
