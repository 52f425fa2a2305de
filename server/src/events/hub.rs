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

    /// Starts relaying events recorded from now on.
    pub fn spawn_tail(self: &Arc<Self>, db: Db) -> tokio::task::JoinHandle<()> {
        let hub = Arc::clone(self);
        tokio::spawn(async move {
            let mut last = match super::store::last_seq(&db).await {
                Ok(seq) => seq,
                Err(err) => {
                    tracing::error!(error = %err, "event hub cannot read the event log");
                    0
                }
            };
            if super::store::announces(&db) {
                hub.spawn_listener(db.connect_options().database_url.to_string());
            }
            loop {
                tokio::select! {
                    () = hub.wake.notified() => {},
                    () = tokio::time::sleep(TAIL_EVERY) => {},
                }
                last = hub.relay_after(&db, last).await;
            }
        })
    }

    /// PostgreSQL: wakes the tail when any process commits an event (`super::record` notifies),
    /// so a worker's events reach this process's sockets without waiting for the next tick.
    /// On any failure the tick alone carries on.
    fn spawn_listener(self: &Arc<Self>, url: String) {
        let hub = Arc::clone(self);
        tokio::spawn(async move {
            let listener = async {
                let mut listener = sqlx::postgres::PgListener::connect(&url).await?;
                listener.listen(super::store::CHANNEL).await?;
                loop {
                    // Reconnects by itself after a dropped connection (events meanwhile are
                    // read at the next tick).
                    listener.recv().await?;
                    hub.wake.notify_one();
                }
            };
            let result: Result<(), sqlx::Error> = listener.await;
            if let Err(err) = result {
                tracing::warn!(error = %err, "event hub stopped listening; reading every tick");
            }
        });
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
