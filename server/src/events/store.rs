//! The `job_events` table: appending in commit order, reading after a `seq`, sweeping.

use sqlx::AnyConnection;

use crate::db::{self, Backend, Db};

/// The PostgreSQL channel an appended event is announced on (the hub listens to it).
pub(super) const CHANNEL: &str = "cloister_events";

/// Any number, the same in every process: the PostgreSQL advisory lock appends take.
const APPEND_LOCK: i64 = 0x636c_6f69_7374_0002;

/// What `AnyConnection::backend_name` answers on PostgreSQL.
const POSTGRES: &str = <sqlx::Postgres as sqlx::Database>::NAME;

/// Appends one event in the caller's transaction; answers its `seq`.
///
/// The hub relays events by `seq`, so `seq`s must become visible in order. SQLite admits one
/// writer at a time, so they do. PostgreSQL numbers a row when it is inserted, not when it
/// commits: a transaction that took seq 5 and commits after another took 6 and committed would
/// be skipped by a hub that already read 6. There the append first takes a transaction-scoped
/// lock (in the same statement, so also without a transaction), held until commit: the next
/// append waits, and numbers follow commits. A NOTIFY, delivered at commit, wakes the hubs of
/// other processes.
#[tracing::instrument(level = "debug", skip_all, fields(at = at))]
pub async fn append(conn: &mut AnyConnection, at: i64, payload: &str) -> sqlx::Result<i64> {
    if conn.backend_name() != POSTGRES {
        return sqlx::query_scalar(
            "INSERT INTO job_events (at, payload) VALUES ($1, $2) RETURNING seq",
        )
        .bind(at)
        .bind(payload)
        .fetch_one(conn)
        .await;
    }
    let seq = sqlx::query_scalar(
        "INSERT INTO job_events (at, payload)
         SELECT $1, $2 FROM pg_advisory_xact_lock($3) RETURNING seq",
    )
    .bind(at)
    .bind(payload)
    .bind(APPEND_LOCK)
    .fetch_one(&mut *conn)
    .await?;
    sqlx::query(&format!("NOTIFY {CHANNEL}"))
        .execute(&mut *conn)
        .await?;
    Ok(seq)
}

/// `(seq, at, payload)` of the events after `after`, oldest first, at most `limit`.
#[tracing::instrument(level = "debug", skip_all, fields(after = after, limit = limit))]
pub async fn after(
    conn: &mut AnyConnection,
    after: i64,
    limit: i64,
) -> sqlx::Result<Vec<(i64, i64, String)>> {
    sqlx::query_as("SELECT seq, at, payload FROM job_events WHERE seq > $1 ORDER BY seq LIMIT $2")
        .bind(after)
        .bind(limit)
        .fetch_all(conn)
        .await
}

/// The newest `seq` (0 for none): where a hub starting now begins.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn last_seq(db: &Db) -> sqlx::Result<i64> {
    let seq: Option<i64> = sqlx::query_scalar("SELECT MAX(seq) FROM job_events")
        .fetch_one(db)
        .await?;
    Ok(seq.unwrap_or(0))
}

/// Deletes the events recorded before `cutoff`; answers how many.
#[tracing::instrument(level = "debug", skip_all, fields(cutoff = cutoff))]
pub async fn delete_before(db: &Db, cutoff: i64) -> sqlx::Result<u64> {
    let done = sqlx::query("DELETE FROM job_events WHERE at < $1")
        .bind(cutoff)
        .execute(db)
        .await?;
    Ok(done.rows_affected())
}

/// Whether `db` can announce events to other processes (PostgreSQL's LISTEN/NOTIFY).
pub fn announces(db: &Db) -> bool {
    db::backend(db) == Backend::Postgres
}
