//! Which database a test's server uses: the SQLite file in its data directory, or, when the test
//! command exported `CLOISTER_TEST_POSTGRES` (an admin URL of a throwaway cluster started by
//! `scripts/with-postgres`), a fresh PostgreSQL database per data directory.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use cloister::db::Db;

/// The environment variable naming the PostgreSQL cluster to test against.
pub const POSTGRES_ENV: &str = "CLOISTER_TEST_POSTGRES";

static MADE: Mutex<Option<HashMap<PathBuf, String>>> = Mutex::new(None);

/// Whether this run tests PostgreSQL.
pub fn on_postgres() -> bool {
    std::env::var(POSTGRES_ENV).is_ok_and(|url| !url.is_empty())
}

/// The database URL the server for `data` should use: `None` (its SQLite file) unless this run
/// tests PostgreSQL; then a database made for `data` on first ask, the same one after.
pub fn url_for(data: &Path) -> Option<String> {
    let admin = std::env::var(POSTGRES_ENV)
        .ok()
        .filter(|url| !url.is_empty())?;
    let mut made = MADE.lock().expect("lock");
    let made = made.get_or_insert_with(HashMap::new);
    if let Some(url) = made.get(data) {
        return Some(url.clone());
    }
    let mut random = [0u8; 8];
    getrandom::fill(&mut random).expect("random");
    let name = format!("t_{}", hex::encode(random));
    let status = std::process::Command::new("psql")
        .arg(&admin)
        .args(["-q", "-v", "ON_ERROR_STOP=1", "-c"])
        .arg(format!("CREATE DATABASE {name}"))
        .status()
        .expect("run psql");
    assert!(status.success(), "psql could not create database {name}");
    let (base, _) = admin.rsplit_once('/').expect("a URL with a database name");
    let url = format!("{base}/{name}");
    made.insert(data.to_path_buf(), url.clone());
    Some(url)
}

/// A pool on the database of the server whose data directory is `data` (no migrations run).
pub async fn connect(data: &Path) -> Db {
    let url = url_for(data).unwrap_or_else(|| cloister::db::sqlite_url(data));
    cloister::db::connect(&url)
        .await
        .expect("open the server's database")
}
