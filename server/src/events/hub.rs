//! Tails `job_events` and broadcasts each new event to the sockets of this process.

use std::sync::Arc;
use std::time::Duration;

use crate::db::Db;
use cloister_shared::api::events::PERSONAL_SEQ;
use cloister_shared::api::{Event, EventFrame};
use tokio::sync::{broadcast, Notify};

/// How often the table is read when nobody pokes (a worker in another process cannot).
const TAIL_EVERY: Duration = Duration::from_millis(500);
/// Frames a slow socket may fall behind by before it is told to resync.
const CHANNEL_CAPACITY: usize = 1024;
const BATCH: i64 = 500;
/// How long the PostgreSQL listener waits before connecting again after a failure.
const LISTEN_RETRY: Duration = Duration::from_secs(5);

pub struct EventHub {
    sender: broadcast::Sender<Arc<EventFrame>>,
    /// Events for one member (by user id), outside the table and its global order.
    personal: broadcast::Sender<(i64, Arc<EventFrame>)>,
    wake: Notify,
}

impl Default for EventHub {
    fn default() -> Self {
        Self {
            sender: broadcast::channel(CHANNEL_CAPACITY).0,
            personal: broadcast::channel(CHANNEL_CAPACITY).0,
            wake: Notify::new(),
        }
    }
}

impl EventHub {
    /// Something was recorded in this process: read the table now rather than at the next tick.
    pub fn poke(&self) {
        self.wake.notify_one();
    }

    pub fn subscribe(&self) -> broadcast::Receiver<Arc<EventFrame>> {
        self.sender.subscribe()
    }

    /// Sends `event` to `user_id`'s sockets in this process only (with `seq` `PERSONAL_SEQ`).
    /// Not recorded: a member who is offline finds the state over REST.
    pub fn send_personal(&self, user_id: i64, event: Event) {
        let frame = EventFrame {
            seq: PERSONAL_SEQ,
            at: crate::accounts::unix_now(),
            event,
        };
        // No receivers is fine: the member has no page open.
        let _ = self.personal.send((user_id, Arc::new(frame)));
    }

    pub fn subscribe_personal(&self) -> broadcast::Receiver<(i64, Arc<EventFrame>)> {
        self.personal.subscribe()
    }

    /// Starts relaying events recorded from now on. On PostgreSQL, a listener on the events
    /// channel wakes the relay as soon as another process (`cloister worker`) commits one.
    pub fn spawn_tail(self: &Arc<Self>, db: Db) -> tokio::task::JoinHandle<()> {
        if crate::db::backend(&db) == crate::db::Backend::Postgres {
            let url = db.connect_options().database_url.to_string();
            tokio::spawn(Arc::clone(self).listen(url));
        }
        let hub = Arc::clone(self);
        tokio::spawn(async move {
            let mut last =
                match sqlx::query_scalar::<_, Option<i64>>("SELECT MAX(seq) FROM job_events")
                    .fetch_one(&db)
                    .await
                {
                    Ok(seq) => seq.unwrap_or(0),
                    Err(err) => {
                        tracing::error!(error = %err, "event hub cannot read the event log");
                        0
                    }
                };
            loop {
                tokio::select! {
                    () = hub.wake.notified() => {},
                    () = tokio::time::sleep(TAIL_EVERY) => {},
                }
                last = hub.relay_after(&db, last).await;
            }
        })
    }

    /// Pokes the relay at each `NOTIFY` on the events channel. Events commit in seq order
    /// (`super::record`), so reading by seq after a wake-up misses none. Should the connection
    /// drop, the listener reconnects, and the relay's own tick covers the gap meanwhile.
    async fn listen(self: Arc<Self>, url: String) {
        loop {
            let mut listener = match sqlx::postgres::PgListener::connect(&url).await {
                Ok(listener) => listener,
                Err(err) => {
                    tracing::warn!(error = %err, "event hub cannot listen for events; polling");
                    tokio::time::sleep(LISTEN_RETRY).await;
                    continue;
                }
            };
            if let Err(err) = listener.listen(super::CHANNEL).await {
                tracing::warn!(error = %err, "event hub cannot listen for events; polling");
                tokio::time::sleep(LISTEN_RETRY).await;
                continue;
            }
            loop {
                match listener.recv().await {
                    Ok(_) => self.poke(),
                    Err(err) => {
                        tracing::warn!(error = %err, "event listener failed; reconnecting");
                        tokio::time::sleep(LISTEN_RETRY).await;
                        break;
                    }
                }
            }
        }
    }

    /// Broadcasts every event after `last`; returns the new `last`.
    async fn relay_after(&self, db: &Db, mut last: i64) -> i64 {
        loop {
            let frames = match db.acquire().await {
                Ok(mut conn) => super::since(&mut conn, last, BATCH).await,
                Err(err) => Err(err.into()),
            };
            let frames = match frames {
                Ok(frames) => frames,
                Err(err) => {
                    tracing::warn!(error = %err, "event hub cannot read new events");
                    return last;
                }
            };
            let full = frames.len() as i64 == BATCH;
            for frame in frames {
                last = last.max(frame.seq);
                // No receivers is fine: nobody has the page open.
                let _ = self.sender.send(Arc::new(frame));
            }
            if !full {
                return last;
            }
        }
    }
}
