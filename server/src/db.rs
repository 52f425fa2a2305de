//! The SQLite database: one file in the data directory, WAL mode, migrations applied at start.

use std::path::Path;
use std::str::FromStr;
use std::time::Duration;

use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::SqlitePool;

pub static MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("./migrations");

/// Opens (creating if needed) `cloister.db` in `data_dir` and brings its schema up to date.
pub async fn open(data_dir: &Path) -> Result<SqlitePool, sqlx::Error> {
    let path = data_dir.join("cloister.db");
    let options = SqliteConnectOptions::from_str("sqlite:")?
        .filename(&path)
        .create_if_missing(true)
        .journal_mode(SqliteJournalMode::Wal)
        // NORMAL is durable across application crashes in WAL mode; only power loss can drop the
        // last transactions, and uploads fsync their files themselves.
        .synchronous(SqliteSynchronous::Normal)
        .foreign_keys(true)
        .busy_timeout(Duration::from_secs(5));
    let pool = SqlitePoolOptions::new()
        // A small server: a handful of connections is plenty, and each holds page cache.
        .max_connections(8)
        .connect_with(options)
        .await?;
    MIGRATIONS.run(&pool).await?;
    Ok(pool)
}

#[cfg(test)]
mod tests {
    use super::*;

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
