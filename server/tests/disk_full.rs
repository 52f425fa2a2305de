//! A real full disk: a small tmpfs mounted for the test (root only), the real database and the
//! real `cloister` binary on it. Uploads are admitted only for what fits (the rest 507, never
//! 500), a disk filled from outside refuses chunks with 507, and once space returns the server
//! signs people in and its worker claims jobs again within seconds: no connection is left holding
//! the database's write lock.

mod common;

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use cloister::error::AppError;
use cloister::uploads::space::refuse_if_disk_full;
use sqlx::{Connection, SqliteConnection};

const MIB: u64 = 1 << 20;

/// A tmpfs of a given size, unmounted when dropped.
struct Tmpfs {
    dir: tempfile::TempDir,
}

impl Tmpfs {
    /// `None`, with a note saying why, when this process may not mount (not root).
    fn mount(size_mib: u64) -> Option<Self> {
        let dir = tempfile::tempdir().expect("mount point");
        let mounted = Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={size_mib}m"), "tmpfs"])
            .arg(dir.path())
            .output();
        match mounted {
            Ok(out) if out.status.success() => Some(Self { dir }),
            other => {
                // Straight to stderr, past the test harness's capture: a skipped test must show.
                let _ = writeln!(
                    std::io::stderr(),
                    "NOTE: this test needs a small real filesystem and could not mount a tmpfs \
                     (run the tests as root to include it); it did NOT run: {other:?}"
                );
                None
            }
        }
    }

    fn path(&self) -> &Path {
        self.dir.path()
    }

    fn free(&self) -> u64 {
        let stat = rustix::fs::statvfs(self.path()).expect("statvfs");
        stat.f_bavail * stat.f_frsize
    }

    /// Writes a file taking all but `leave` bytes of the free space (all of it for 0).
    fn fill(&self, name: &str, leave: u64) -> PathBuf {
        let path = self.path().join(name);
        let mut file = std::fs::File::create(&path).expect("filler");
        let block = vec![0x5a_u8; MIB as usize];
        loop {
            let room = self.free().saturating_sub(leave);
            if room == 0 {
                break;
            }
            let n = usize::try_from(room.min(MIB)).expect("size");
            if file.write_all(&block[..n]).is_err() {
                break; // full
            }
        }
        let _ = file.sync_all();
        path
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        let _ = Command::new("umount")
            .arg("-l")
            .arg(self.dir.path())
            .status();
    }
}

/// Writes through `pool` until a write fails: the disk is full for the database too.
async fn write_until_full(pool: &cloister::db::Db) -> sqlx::Error {
    for _ in 0..10_000 {
        let mut tx = pool.begin().await.expect("begin");
        let inserted = sqlx::query("INSERT INTO filler (bytes) VALUES (randomblob(100000))")
            .execute(&mut *tx)
            .await;
        let result = match inserted {
            Ok(_) => tx.commit().await,
            Err(err) => Err(err),
        };
        if let Err(err) = result {
            return err;
        }
    }
    panic!("the disk never filled up");
}

#[tokio::test]
async fn after_a_commit_fails_on_a_full_disk_no_pooled_connection_keeps_the_database_locked() {
    // These fill a tmpfs under the SQLite file; PostgreSQL keeps its data elsewhere.
    if common::database::on_postgres() {
        return;
    }
    let Some(fs) = Tmpfs::mount(24) else { return };
    let pool = cloister::db::open(fs.path(), None).await.expect("db");
    sqlx::query("CREATE TABLE filler (id INTEGER PRIMARY KEY, bytes BLOB)")
        .execute(&pool)
        .await
        .expect("create");
    sqlx::query("CREATE TABLE marks (n INTEGER)")
        .execute(&pool)
        .await
        .expect("create");
    let leave_room = fs.fill("outside", 2 * MIB);
    let err = AppError::from(write_until_full(&pool).await);
    eprintln!("the disk filled: {err}");
    assert!(err.is_disk_full(), "not reported as a full disk: {err}");
    // Refused as storage-low, not a server error.
    assert_eq!(
        refuse_if_disk_full(err).status(),
        axum::http::StatusCode::INSUFFICIENT_STORAGE
    );

    std::fs::remove_file(&leave_room).expect("free space");
    sqlx::query("DELETE FROM filler")
        .execute(&pool)
        .await
        .expect("delete after freeing space");

    // Transactions that end in a rollback, on whichever connections the pool hands out.
    for _ in 0..10 {
        let mut tx = pool.begin().await.expect("begin");
        sqlx::query("INSERT INTO marks (n) VALUES (-1)")
            .execute(&mut *tx)
            .await
            .expect("insert");
        tx.rollback().await.expect("rollback");
    }

    // Every write must now commit, and be seen by another connection, within seconds.
    let started = Instant::now();
    for n in 0..10 {
        let mut tx = pool.begin().await.expect("begin");
        sqlx::query("INSERT INTO marks (n) VALUES ($1)")
            .bind(n)
            .execute(&mut *tx)
            .await
            .expect("insert");
        tx.commit().await.expect("commit");
    }
    let mut other = SqliteConnection::connect_with(
        &sqlx::sqlite::SqliteConnectOptions::new()
            .filename(fs.path().join(cloister::db::DATABASE_FILE))
            .busy_timeout(Duration::from_secs(5)),
    )
    .await
    .expect("another connection");
    let seen: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM marks WHERE n >= 0")
        .fetch_one(&mut other)
        .await
        .expect("count");
    assert_eq!(
        seen, 10,
        "writes committed on a connection left in a transaction are lost"
    );
    sqlx::query("INSERT INTO marks (n) VALUES (100)")
        .execute(&mut other)
        .await
        .expect("another connection can write: the database is not locked");
    let took = started.elapsed();
    eprintln!("recovered: 10 commits and an outside write in {took:?}");
    assert!(took < Duration::from_secs(10), "{took:?}");
    other.close().await.ok();
    pool.close().await;
}

#[tokio::test]
async fn a_file_write_that_finds_the_disk_full_is_refused_as_storage_low_not_a_server_error() {
    // These fill a tmpfs under the SQLite file; PostgreSQL keeps its data elsewhere.
    if common::database::on_postgres() {
        return;
    }
    let Some(fs) = Tmpfs::mount(8) else { return };
    fs.fill("outside", 0);
    let err = std::fs::write(fs.path().join("chunk"), vec![1u8; 4 * MIB as usize])
        .expect_err("a full disk takes no more");
    let err = AppError::Io(err);
    assert!(err.is_disk_full(), "{err}");
    let refused = refuse_if_disk_full(err);
    assert_eq!(
        refused.status(),
        axum::http::StatusCode::INSUFFICIENT_STORAGE
    );
    assert_eq!(refused.to_string(), cloister::uploads::create::STORAGE_LOW);
    // Any other failure stays what it is.
    let other = refuse_if_disk_full(AppError::Io(std::io::Error::from(
        std::io::ErrorKind::PermissionDenied,
    )));
    assert_eq!(
        other.status(),
        axum::http::StatusCode::INTERNAL_SERVER_ERROR
    );
}

/// A quick worker and a gate that only the disk can close.
fn server_env() -> Vec<(&'static str, &'static str)> {
    common::cli::gate_open_with(&[
        ("CLOISTER_DISK_RESERVE_BYTES", "4194304"),
        ("CLOISTER_DISK_FLOOR_BYTES", "4194304"),
        ("CLOISTER_WORKER_POLL_SECS", "1"),
        ("CLOISTER_GATE_RECHECK_SECS", "1"),
    ])
}

/// The JSON API as the browser uses it, signed in by cookie.
struct Api {
    http: reqwest::Client,
    base: String,
}

impl Api {
    fn new(base: &str) -> Self {
        Self {
            http: reqwest::Client::builder()
                .cookie_store(true)
                .build()
                .expect("client"),
            base: base.to_owned(),
        }
    }

    async fn send(&self, request: reqwest::RequestBuilder) -> (u16, serde_json::Value) {
        let response = request
            .header("x-cloister-request", "1")
            .send()
            .await
            .expect("request");
        let status = response.status().as_u16();
        let body = response.json().await.unwrap_or(serde_json::Value::Null);
        (status, body)
    }

    async fn post(&self, path: &str, body: serde_json::Value) -> (u16, serde_json::Value) {
        self.send(self.http.post(format!("{}{path}", self.base)).json(&body))
            .await
    }

    async fn sign_in(&self) -> u16 {
        self.post(
            "/api/auth/login",
            serde_json::json!({"username": "root", "password": common::cli::PASSWORD}),
        )
        .await
        .0
    }

    async fn put_chunk(&self, file: &SealedFile, index: u64) -> (u16, serde_json::Value) {
        let url = format!("{}/api/uploads/{}/chunks/{index}", self.base, file.id);
        self.send(self.http.put(url).body(file.chunk(index))).await
    }
}

use common::uploads::SealedFile;

async fn job_status(data: &Path, video: &str) -> Option<String> {
    let mut db = SqliteConnection::connect_with(
        &sqlx::sqlite::SqliteConnectOptions::new()
            .filename(data.join(cloister::db::DATABASE_FILE))
            .read_only(true),
    )
    .await
    .ok()?;
    let status = sqlx::query_scalar("SELECT status FROM jobs WHERE video_id = $1")
        .bind(video)
        .fetch_optional(&mut db)
        .await
        .ok()
        .flatten();
    db.close().await.ok();
    status
}

#[tokio::test]
async fn on_a_nearly_full_disk_only_what_fits_is_admitted_and_the_server_recovers_when_space_returns(
) {
    // These fill a tmpfs under the SQLite file; PostgreSQL keeps its data elsewhere.
    if common::database::on_postgres() {
        return;
    }
    let Some(fs) = Tmpfs::mount(120) else { return };
    let data = fs.path().join("data");
    let logs = tempfile::tempdir().expect("log dir");
    let log_path = logs.path().join("serve.log");
    let log = std::fs::File::create(&log_path).expect("log");
    let (_server, url) = common::cli::serve_logging_to(&data, 0, &server_env(), log).await;
    common::cli::set_up(&data, &url).await;
    let api = Api::new(&url);
    assert_eq!(api.sign_in().await, 200);

    // 50 MiB free: one 15 MiB upload (2 × 15 + the 4 MiB reserve) fits, a second would not.
    let outside = fs.fill("outside", 50 * MIB);
    let files: Vec<SealedFile> = (0..4).map(|_| SealedFile::new(15 * MIB as usize)).collect();
    let created = futures_util::future::join_all(
        files
            .iter()
            .map(|file| api.post("/api/uploads", file.create_body())),
    )
    .await;
    let statuses: Vec<u16> = created.iter().map(|(status, _)| *status).collect();
    eprintln!("four concurrent 15 MiB uploads with 50 MiB free: {statuses:?}");
    assert_eq!(
        statuses.iter().filter(|s| **s == 201).count(),
        1,
        "{created:?}"
    );
    assert_eq!(
        statuses.iter().filter(|s| **s == 507).count(),
        3,
        "{created:?}"
    );
    for (status, body) in &created {
        if *status == 507 {
            assert_eq!(
                body["error"]["message"],
                cloister::uploads::create::STORAGE_LOW,
                "{body}"
            );
        }
    }
    let accepted = files
        .iter()
        .zip(&statuses)
        .find_map(|(file, status)| (*status == 201).then_some(file))
        .expect("one accepted");
    // All but the last chunk, concurrently: they fit.
    let last = accepted.chunk_count() - 1;
    let stored =
        futures_util::future::join_all((0..last).map(|index| api.put_chunk(accepted, index))).await;
    assert!(stored.iter().all(|(s, _)| *s == 200), "{stored:?}");

    // One line per refusal, at warn; nothing logged as a server error.
    let logged = std::fs::read_to_string(&log_path).expect("log");
    let refusals = logged.lines().filter(|l| l.contains("storage low")).count();
    assert_eq!(refusals, 3, "{logged}");
    assert!(
        logged
            .lines()
            .filter(|l| l.contains("storage low"))
            .all(|l| l.contains("WARN")),
        "{logged}"
    );
    assert!(!logged.contains("ERROR"), "{logged}");

    // Something else fills the disk: the last chunk is refused, not failed.
    let full = fs.fill("full", 0);
    let (status, body) = api.put_chunk(accepted, last).await;
    assert_eq!(status, 507, "{body}");
    // The database meets the full disk too: sign-ins try to write their sessions (whether one
    // fits depends on room left in the WAL file; what matters is what happens after).
    for _ in 0..5 {
        Api::new(&url).sign_in().await;
    }

    // Space returns: within seconds, people sign in and the worker takes the job.
    std::fs::remove_file(&full).expect("free");
    std::fs::remove_file(&outside).expect("free");
    let freed = Instant::now();
    let deadline = freed + Duration::from_secs(15);
    let signed_in = loop {
        if Api::new(&url).sign_in().await == 200 {
            break freed.elapsed();
        }
        assert!(
            Instant::now() < deadline,
            "no sign-in 15 s after space returned"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    let (status, body) = api.put_chunk(accepted, last).await;
    assert_eq!(status, 200, "{body}");
    let (status, body) = api
        .post(
            &format!("/api/uploads/{}/complete", accepted.id),
            serde_json::json!({"dek": accepted.dek_hex()}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let video = accepted.id.to_string();
    let claimed = loop {
        match job_status(&data, &video).await.as_deref() {
            None | Some("queued") => {}
            Some(_) => break freed.elapsed(),
        }
        assert!(
            Instant::now() < deadline,
            "the worker took no step 15 s after space returned"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    eprintln!("after space returned: signed in after {signed_in:?}, job claimed after {claimed:?}");
}
