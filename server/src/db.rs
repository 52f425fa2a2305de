//! The SQLite database: one file in the data directory, WAL mode, migrations applied at start.
//! Durability and recovery from a full disk are described in docs/operations.md.

use std::path::Path;
use std::str::FromStr;
use std::time::Duration;

use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{Connection, SqliteConnection, SqlitePool};

/// The database's file name in the data directory.
pub const DATABASE_FILE: &str = "cloister.db";

pub static MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("./migrations");

/// Opens (creating if needed) `cloister.db` in `data_dir` and brings its schema up to date.
pub async fn open(data_dir: &Path) -> Result<SqlitePool, sqlx::Error> {
    let path = data_dir.join(DATABASE_FILE);
    let options = SqliteConnectOptions::from_str("sqlite:")?
        .filename(&path)
        .create_if_missing(true)
        .journal_mode(SqliteJournalMode::Wal)
        // FULL: every commit is on disk before it returns, so a completed upload answered 200 and
        // its job survive a power cut (NORMAL could roll the last commits back).
        .synchronous(SqliteSynchronous::Full)
        .foreign_keys(true)
        .busy_timeout(Duration::from_secs(5));
    let pool = SqlitePoolOptions::new()
        // A small server: a handful of connections is plenty, and each holds page cache.
        .max_connections(8)
        .after_release(|conn, _| Box::pin(still_usable(conn)))
        .connect_with(options)
        .await?;
    MIGRATIONS.run(&pool).await?;
    Ok(pool)
}

/// Whether a connection going back to the pool is outside any transaction, as sqlx counts them.
///
/// When a write or its COMMIT fails with SQLITE_FULL (a full disk), SQLite may roll the whole
/// transaction back by itself, but sqlx still counts it as open: its ROLLBACK on drop then fails,
/// and the count stays at one. That connection's next transaction becomes a SAVEPOINT, whose
/// rollback (`ROLLBACK TO`) leaves a write transaction open, holding the database's write lock
/// until the pool retires the connection 30 minutes later ("database is locked" everywhere
/// meanwhile). Such a connection is closed instead, and the pool opens a fresh one.
async fn still_usable(conn: &mut SqliteConnection) -> Result<bool, sqlx::Error> {
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
        let pool = open(dir.path()).await.expect("open");
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
        let pool = open(dir.path()).await.expect("open");
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
        open(dir.path()).await.expect("reopen");
    }
}
