//! The SQL of `cloister backup`: snapshotting the SQLite database and listing the videos a
//! database knows.

use sqlx::SqliteConnection;

use crate::db::Db;

/// A video as the backup sees it: (id, status, rendition).
pub type ListedVideo = (String, String, Option<String>);

/// Every video of the server's database, by id.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn videos(db: &Db) -> sqlx::Result<Vec<ListedVideo>> {
    sqlx::query_as("SELECT id, status, rendition FROM videos ORDER BY id")
        .fetch_all(db)
        .await
}

/// Every video of a SQLite snapshot, by id.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn snapshot_videos(conn: &mut SqliteConnection) -> sqlx::Result<Vec<ListedVideo>> {
    sqlx::query_as("SELECT id, status, rendition FROM videos ORDER BY id")
        .fetch_all(conn)
        .await
}

/// Writes a compact, consistent copy of the database open on `conn` to the file `target`.
#[tracing::instrument(level = "debug", skip_all, fields(target = target))]
pub async fn vacuum_into(conn: &mut SqliteConnection, target: &str) -> sqlx::Result<()> {
    sqlx::query("VACUUM INTO ?")
        .bind(target)
        .execute(conn)
        .await?;
    Ok(())
}
