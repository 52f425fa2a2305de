//! Processing jobs (docs/architecture.md): the queue's state machine (`transitions`), reading it
//! (`store`), estimates (`eta`), the worker that runs jobs through the resource gate and the
//! ffmpeg pipeline, and their HTTP routes. The worker calls this module directly, never HTTP.
//! SQL lives only in the `*store` modules (`store`, `transitions_store`, `overrides_store`,
//! `metrics_store`).

pub mod eta;
mod holders;
pub(crate) mod housekeeping;
mod metrics_store;
pub mod overrides;
mod overrides_store;
pub mod pipeline;
pub mod routes;
mod runtime;
pub mod seal;
pub mod store;
pub mod transitions;
mod transitions_store;
pub mod worker;

pub use routes::router;
pub use runtime::JobRuntime;

use std::time::Duration;

use crate::state::Core;

/// Every hour: forgets old events.
pub fn spawn_sweeper(core: Core) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut every_hour = tokio::time::interval(Duration::from_secs(3600));
        loop {
            every_hour.tick().await;
            if let Err(err) = crate::events::sweep(&core.db, crate::accounts::unix_now()).await {
                tracing::warn!(error = %err, "could not sweep old events");
            }
        }
    })
}
