//! Running the real `cloister` binary: the server on a real socket and the command-line client
//! against it.

use std::path::Path;
use std::process::Stdio;
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::process::{Child, Command};

pub const PASSWORD: &str = "root password";
pub const PASSPHRASE: &str = "group secret words";

/// A resource gate that lets jobs through whatever else the test machine runs: the tests that use
/// it are about something else (the gate has its own tests).
const GATE_OPEN: &[(&str, &str)] = &[
    ("CLOISTER_MAX_LOAD", "1000"),
    ("CLOISTER_MAX_RAM_PERCENT", "100"),
    ("CLOISTER_MIN_AVAILABLE_RAM_MB", "0"),
    ("CLOISTER_MAX_SWAP_USED_MB", "1000000"),
];

/// The open gate's settings, then `extra` (a later setting of the same variable wins).
pub fn gate_open_with<'a>(extra: &[(&'a str, &'a str)]) -> Vec<(&'a str, &'a str)> {
    GATE_OPEN.iter().chain(extra).copied().collect()
}

/// The environment that points a `cloister` command at the data directory `data`: the directory,
/// and its database when this run tests PostgreSQL (`super::database::url_for`).
pub fn data_env(data: impl AsRef<Path>) -> Vec<(&'static str, std::ffi::OsString)> {
    let data = data.as_ref();
    let mut env = vec![("CLOISTER_DATA_DIR", data.as_os_str().to_owned())];
    if let Some(url) = super::database::url_for(data) {
        env.push(("CLOISTER_DATABASE_URL", url.into()));
    }
    env
}

pub fn cloister() -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_cloister"));
    for (name, _) in std::env::vars() {
        if name.starts_with("CLOISTER_") {
            command.env_remove(name);
        }
    }
    command.kill_on_drop(true);
    command
}

pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

pub async fn run(mut command: Command, stdin: &str) -> Run {
    command
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = command.spawn().expect("spawn");
    let mut input = child.stdin.take().expect("stdin");
    input.write_all(stdin.as_bytes()).await.expect("stdin");
    drop(input);
    let out = child.wait_with_output().await.expect("wait");
    Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// `cloister serve` on `port` (0: any); answers the child and its base URL.
/// `cloister serve` without processing workers: for tests of uploads and the CLI, whose files
/// (random bytes, not video) a worker would otherwise pick up and fail at its own pace.
pub async fn serve(data: &Path, port: u16) -> (Child, String) {
    serve_with(data, port, &[("CLOISTER_WORKERS", "0")]).await
}

/// `serve` with extra environment variables (e.g. quick job timings).
pub async fn serve_with(data: &Path, port: u16, env: &[(&str, &str)]) -> (Child, String) {
    start(serve_command(data, port, env)).await
}

/// `serve_with`, the server's log (its stderr) going to `log`.
pub async fn serve_logging_to(
    data: &Path,
    port: u16,
    env: &[(&str, &str)],
    log: impl Into<Stdio>,
) -> (Child, String) {
    let mut command = serve_command(data, port, env);
    command.stderr(log);
    start(command).await
}

/// The `cloister serve` command of `serve_with`, for a test to adjust (its stderr, its limits)
/// before `start`.
pub fn serve_command(data: &Path, port: u16, env: &[(&str, &str)]) -> Command {
    let mut command = cloister();
    command
        .args(["serve", "--addr", &format!("127.0.0.1:{port}")])
        .envs(data_env(data))
        .env("CLOISTER_LOGIN_BURST", "100")
        .envs(env.iter().copied())
        .stdout(Stdio::piped())
        .stderr(Stdio::null());
    command
}

/// Spawns a `serve_command` and waits for its start line; answers the child and its base URL.
pub async fn start(mut command: Command) -> (Child, String) {
    let mut child = command.spawn().expect("spawn serve");
    let stdout = child.stdout.take().expect("stdout");
    let mut lines = BufReader::new(stdout).lines();
    let line = tokio::time::timeout(Duration::from_secs(30), lines.next_line())
        .await
        .expect("server starts in time")
        .expect("read")
        .expect("a line");
    let url = line
        .strip_prefix("Cloister is running at ")
        .expect("the start line")
        .trim_end_matches('/')
        .to_owned();
    // Keep draining stdout so the server never blocks on a full pipe.
    tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
    (child, url)
}

pub fn port_of(url: &str) -> u16 {
    url.rsplit(':')
        .next()
        .and_then(|p| p.parse().ok())
        .expect("port")
}

/// An admin and a library passphrase on a fresh data directory.
pub async fn set_up(data: &Path, server: &str) {
    let mut add = cloister();
    add.args(["user", "add", "root", "--admin", "--password-stdin"])
        .envs(data_env(data));
    let r = run(add, &format!("{PASSWORD}\n")).await;
    assert_eq!(r.code, 0, "{}", r.stderr);
    let r = run(client(["library", "init"], server, &[]), "").await;
    assert_eq!(r.code, 0, "{}", r.stderr);
}

pub fn client<const N: usize>(args: [&str; N], server: &str, extra: &[&str]) -> Command {
    let mut command = cloister();
    command
        .args(args)
        .args(extra)
        .env("CLOISTER_SERVER", server)
        .env("CLOISTER_USER", "root")
        .env("CLOISTER_PASSWORD", PASSWORD)
        .env("CLOISTER_PASSPHRASE", PASSPHRASE);
    command
}

/// The library key of the library `set_up` made in `data`, opened as root's client does: root's
/// own passphrase, their private key, their grant.
pub async fn library_key(data: &Path) -> cloister_shared::LibraryKey {
    let pool = super::database::connect(data).await;
    let root = cloister::accounts::users::find(&pool, "root")
        .await
        .expect("users")
        .expect("root");
    let generation = cloister::library::store::generation(&pool)
        .await
        .expect("library")
        .expect("set up");
    let me = cloister::library::keys_store::keys_of_user(&pool, root.id)
        .await
        .expect("keys")
        .expect("root's keys");
    let grant = cloister::library::keys_store::grant_of(&pool, root.id, generation)
        .await
        .expect("grant")
        .expect("root's grant");
    pool.close().await;
    let secret = cloister_shared::keyring::open_private_key(PASSPHRASE, &me).expect("passphrase");
    cloister_shared::crypto::member::open_library_key(&secret, &grant, generation)
        .expect("library key")
}

/// Chunks the server has recorded, over all unfinished uploads.
pub async fn chunks_recorded(pool: &cloister::db::Db) -> i64 {
    sqlx::query_scalar("SELECT COUNT(*) FROM upload_chunks")
        .fetch_one(pool)
        .await
        .unwrap_or(0)
}

/// Waits (a minute at most) until the server has recorded at least `n` chunks.
pub async fn wait_for_chunks(pool: &cloister::db::Db, n: i64) {
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    while chunks_recorded(pool).await < n {
        assert!(std::time::Instant::now() < deadline, "chunks never arrived");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}
