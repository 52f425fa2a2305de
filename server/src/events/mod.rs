//! Live events (docs/architecture.md, "Events"): domain code records each event in the `job_events` table
//! in the same transaction as the change it reports; the hub tails that table and broadcasts new
//! rows to every open WebSocket. Going through the table lets a worker in another process
//! (`cloister worker`) reach the server's sockets, and gives every event a global order (`seq`).

mod hub;
mod store;
pub mod ws;

use cloister_shared::api::{Event, EventFrame};
use sqlx::AnyConnection;

pub use hub::EventHub;

use crate::error::{AppError, AppResult};

/// Events older than this are swept; a client away longer resyncs over REST anyway.
pub const KEEP_EVENTS_SECS: i64 = 24 * 3600;

/// Records `event` as part of the caller's transaction; returns its `seq`. Call
/// `EventHub::poke` after the commit so local sockets hear of it at once.
pub async fn record(conn: &mut AnyConnection, event: &Event, at: i64) -> AppResult<i64> {
    let payload =
        serde_json::to_string(event).map_err(|err| AppError::Internal(err.to_string()))?;
    Ok(store::append(conn, at, &payload).await?)
}

/// Events after `after`, oldest first, at most `limit`. Rows that no longer parse (written by a
/// newer version) are skipped, not fatal.
pub async fn since(conn: &mut AnyConnection, after: i64, limit: i64) -> AppResult<Vec<EventFrame>> {
    let rows = store::after(conn, after, limit).await?;
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
    Ok(store::delete_before(pool, now - KEEP_EVENTS_SECS).await?)
}
