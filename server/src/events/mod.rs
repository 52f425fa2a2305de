//! Live events (docs/architecture.md, "Events"): domain code records each event in the `job_events` table
//! in the same transaction as the change it reports; the hub tails that table and broadcasts new
//! rows to every open WebSocket. Going through the table lets a worker in another process
//! (`cloister worker`) reach the server's sockets, and gives every event a global order (`seq`).

mod hub;
pub mod ws;

use cloister_shared::api::{Event, EventFrame};
use sqlx::AnyConnection;

pub use hub::EventHub;

use crate::error::{AppError, AppResult};

/// Events older than this are swept; a client away longer resyncs over REST anyway.
pub const KEEP_EVENTS_SECS: i64 = 24 * 3600;

/// The PostgreSQL channel a recorded event is announced on (the hub listens to it).
pub(crate) const CHANNEL: &str = "cloister_events";

/// Any number, the same in every process: the PostgreSQL advisory lock event appends take.
const APPEND_LOCK: i64 = 0x636c_6f69_7374_0002;

/// Records `event` as part of the caller's transaction; returns its `seq`. Call
/// `EventHub::poke` after the commit so local sockets hear of it at once.
///
/// The hub relays events by `seq`, so `seq`s must become visible in order. SQLite admits one
/// writer at a time, so they do. PostgreSQL numbers a row when it is inserted, not when it
/// commits: a transaction that took seq 5 and commits after another took 6 and committed would
/// be skipped by a hub that already read 6. There the append first takes a transaction-scoped
/// lock (in the same statement, so also without a transaction), held until commit: the next
/// append waits, and numbers follow commits. A NOTIFY, delivered at commit, wakes the hubs of
/// other processes.
pub async fn record(conn: &mut AnyConnection, event: &Event, at: i64) -> AppResult<i64> {
    let payload =
        serde_json::to_string(event).map_err(|err| AppError::Internal(err.to_string()))?;
    let seq = if conn.backend_name() == POSTGRES {
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
        seq
    } else {
        sqlx::query_scalar("INSERT INTO job_events (at, payload) VALUES ($1, $2) RETURNING seq")
            .bind(at)
            .bind(payload)
            .fetch_one(conn)
            .await?
    };
    Ok(seq)
}

/// What `AnyConnection::backend_name` answers on PostgreSQL.
const POSTGRES: &str = <sqlx::Postgres as sqlx::Database>::NAME;

/// Events after `after`, oldest first, at most `limit`. Rows that no longer parse (written by a
/// newer version) are skipped, not fatal.
pub async fn since(conn: &mut AnyConnection, after: i64, limit: i64) -> AppResult<Vec<EventFrame>> {
    let rows: Vec<(i64, i64, String)> = sqlx::query_as(
        "SELECT seq, at, payload FROM job_events WHERE seq > $1 ORDER BY seq LIMIT $2",
    )
    .bind(after)
    .bind(limit)
    .fetch_all(conn)
    .await?;
    Ok(rows
        .into_iter()
        .filter_map(|(seq, at, payload)| match serde_json::from_str(&payload) {
            Ok(event) => Some(EventFrame { seq, at, event }),
            Err(err) => {
                tracing::warn!(seq, error = %err, "skipping an event that does not parse");
                None
            }
        })
        .collect())
}

pub async fn sweep(pool: &crate::db::Db, now: i64) -> AppResult<u64> {
    let done = sqlx::query("DELETE FROM job_events WHERE at < $1")
        .bind(now - KEEP_EVENTS_SECS)
        .execute(pool)
        .await?;
    Ok(done.rows_affected())
}
