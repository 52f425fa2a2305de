//! The database: SQLite in one file in the data directory by default (WAL, every commit synced),
//! or PostgreSQL when `--database-url` / `CLOISTER_DATABASE_URL` names one. One pool type for
//! both (sqlx's `Any` driver) and portable SQL; where the two must behave differently, the data
//! access code asks `backend`. Migrations are applied at start, one set per backend. Choosing and
//! backing up each is in docs/operations.md; why `Any` in docs/decisions.md.

use std::path::Path;

use sqlx::any::{AnyConnectOptions, AnyPoolOptions};
use sqlx::{AnyConnection, Connection, Executor};

pub mod transfer;

/// The pool every data-access function takes, whichever backend is behind it.
pub type Db = sqlx::AnyPool;
/// A transaction on [`Db`].
pub type Tx<'c> = sqlx::Transaction<'c, sqlx::Any>;

/// The database's file name in the data directory (SQLite).
pub const DATABASE_FILE: &str = "cloister.db";

pub static SQLITE_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/sqlite");
pub static POSTGRES_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/postgres");

/// Which engine is behind a [`Db`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

impl Backend {
    /// The backend a database URL names, or why it names none we support.
    pub fn of_url(url: &str) -> Result<Self, String> {
        let scheme = url.split(':').next().unwrap_or_default();
        match scheme {
            "sqlite" => Ok(Self::Sqlite),
            "postgres" | "postgresql" => Ok(Self::Postgres),
            _ => Err(
                "The database URL must start with sqlite:// or postgres:// (other engines are \
                 not supported)."
                    .to_owned(),
            ),
        }
    }
}

/// The backend behind `db`.
pub fn backend(db: &Db) -> Backend {
    Backend::of_url(db.connect_options().database_url.as_str()).unwrap_or(Backend::Sqlite)
}

/// The SQLite URL of the default database file in `data_dir`, created if missing.
pub fn sqlite_url(data_dir: &Path) -> String {
    let path = data_dir.join(DATABASE_FILE);
    // Percent-encoded so a `?`, `#` or `%` in the path stays part of it.
    const IN_PATH: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC
        .remove(b'/')
        .remove(b'.')
        .remove(b'-')
        .remove(b'_');
    let encoded =
        percent_encoding::utf8_percent_encode(&path.to_string_lossy(), IN_PATH).to_string();
    format!("sqlite://{encoded}?mode=rwc")
}

/// A flag column (0/1, or a comparison's result) read the same from either backend: SQLite
/// answers integers, PostgreSQL booleans for comparisons.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Flag(pub bool);

impl sqlx::Type<sqlx::Any> for Flag {
    fn type_info() -> sqlx::any::AnyTypeInfo {
        <i64 as sqlx::Type<sqlx::Any>>::type_info()
    }

    fn compatible(ty: &sqlx::any::AnyTypeInfo) -> bool {
        <i64 as sqlx::Type<sqlx::Any>>::compatible(ty)
            || <bool as sqlx::Type<sqlx::Any>>::compatible(ty)
    }
}

impl<'r> sqlx::Decode<'r, sqlx::Any> for Flag {
    fn decode(value: sqlx::any::AnyValueRef<'r>) -> Result<Self, sqlx::error::BoxDynError> {
        match <bool as sqlx::Decode<sqlx::Any>>::decode(value.clone()) {
            Ok(flag) => Ok(Self(flag)),
            Err(_) => <i64 as sqlx::Decode<sqlx::Any>>::decode(value).map(|n| Self(n != 0)),
        }
    }
}

/// Opens the database `url` names (the SQLite file in `data_dir` when `url` is `None`) and
/// brings its schema up to date.
#[tracing::instrument(level = "debug", skip_all, fields(data_dir = %data_dir.display()))]
pub async fn open(data_dir: &Path, url: Option<&str>) -> Result<Db, sqlx::Error> {
    let url = match url {
        Some(url) => url.to_owned(),
        None => sqlite_url(data_dir),
    };
    let db = connect(&url).await?;
    match backend(&db) {
        Backend::Sqlite => SQLITE_MIGRATIONS.run(&db).await?,
        Backend::Postgres => POSTGRES_MIGRATIONS.run(&db).await?,
    }
    Ok(db)
}

/// A pool on `url` without running migrations (the backup and the migration command read with it).
#[tracing::instrument(level = "debug", skip_all)]
pub async fn connect(url: &str) -> Result<Db, sqlx::Error> {
    sqlx::any::install_default_drivers();
    let backend =
        Backend::of_url(url).map_err(|message| sqlx::Error::Configuration(message.into()))?;
    let options: AnyConnectOptions = url.parse()?;
    let pool = AnyPoolOptions::new()
        // A small server: a handful of connections is plenty, and each holds page cache.
        .max_connections(8)
        .after_connect(move |conn, _| Box::pin(prepare(conn, backend)))
        .after_release(|conn, _| Box::pin(still_usable(conn)))
        .connect_with(options)
        .await?;
    Ok(pool)
}

/// Per-connection settings. SQLite: WAL; FULL sync, so a completed upload answered 200 and its
/// job survive a power cut (NORMAL could roll the last commits back); foreign keys; a wait for
/// the write lock rather than an error.
async fn prepare(conn: &mut AnyConnection, backend: Backend) -> Result<(), sqlx::Error> {
    if backend == Backend::Sqlite {
        conn.execute(
            "PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL; PRAGMA foreign_keys = ON; \
             PRAGMA busy_timeout = 5000;",
        )
        .await?;
    }
    Ok(())
}

/// Whether a connection going back to the pool is outside any transaction, as sqlx counts them.
///
/// When a write or its COMMIT fails with SQLITE_FULL (a full disk), SQLite may roll the whole
/// transaction back by itself, but sqlx still counts it as open: its ROLLBACK on drop then fails,
/// and the count stays at one. That connection's next transaction becomes a SAVEPOINT, whose
/// rollback (`ROLLBACK TO`) leaves a write transaction open, holding the database's write lock
/// until the pool retires the connection 30 minutes later ("database is locked" everywhere
/// meanwhile). Such a connection is closed instead, and the pool opens a fresh one.
async fn still_usable(conn: &mut AnyConnection) -> Result<bool, sqlx::Error> {
    // The ping waits for the rollback a dropped transaction queued on this connection.
    conn.ping().await?;
    if conn.is_in_transaction() {
        tracing::warn!("a database connection left inside a transaction was closed");
        return Ok(false);
    }
    Ok(true)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn every_pooled_connection_syncs_each_commit_fully() {
        let dir = tempfile::tempdir().expect("temp dir");
        let pool = open(dir.path(), None).await.expect("open");
        // Several connections at once, so the pool opens more than the first one.
        let mut held = Vec::new();
        for _ in 0..4 {
            let mut conn = pool.acquire().await.expect("acquire");
            // 2 is FULL (1 would be NORMAL).
            let level: i64 = sqlx::query_scalar("PRAGMA synchronous")
                .fetch_one(&mut *conn)
                .await
                .expect("pragma");
            assert_eq!(level, 2, "PRAGMA synchronous on a pooled connection");
            held.push(conn);
        }
    }

    #[tokio::test]
    async fn opens_in_wal_mode_with_every_table() {
        let dir = tempfile::tempdir().expect("temp dir");
        let pool = open(dir.path(), None).await.expect("open");
        let mode: String = sqlx::query_scalar("PRAGMA journal_mode")
            .fetch_one(&pool)
            .await
            .expect("pragma");
        assert_eq!(mode, "wal");
        let tables: Vec<String> =
            sqlx::query_scalar("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE '\\_%' ESCAPE '\\' ORDER BY name")
                .fetch_all(&pool)
                .await
                .expect("tables");
        for table in [
            "comments",
            "job_metrics",
            "jobs",
            "library",
            "sessions",
            "upload_chunks",
            "users",
            "videos",
        ] {
            assert!(
                tables.iter().any(|t| t == table),
                "missing table {table} in {tables:?}"
            );
        }
        // Opening again is idempotent: migrations already applied are skipped.
        pool.close().await;
        open(dir.path(), None).await.expect("reopen");
    }
}
