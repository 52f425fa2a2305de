//! Accounts: users and their password hashes, sessions, sign-in throttling and invites.
//!
//! Domain functions take a `&Db` (or an executor) and return `AppError`s, so the HTTP
//! handlers in `routes` and the `cloister user ...` commands run the very same code.

pub mod extract;
pub mod invites;
pub mod limiter;
pub mod passwords;
pub mod removal;
pub mod routes;
pub mod sessions;
pub mod setup;
pub mod setup_store;
pub mod store;
pub mod users;

use std::time::{Duration, SystemTime, UNIX_EPOCH};

pub use extract::{AdminUser, CurrentUser};
pub use limiter::LoginLimiter;
pub use routes::router;
pub use users::User;

use crate::state::AppState;

/// Seconds since the Unix epoch, the unit of every time in the database.
pub fn unix_now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
}

/// Every hour: drops expired sessions and invites, and forgets throttling state of addresses and
/// usernames that have been quiet, so neither the table nor the limiter grows without bound.
pub fn spawn_sweeper(state: AppState) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut every_hour = tokio::time::interval(Duration::from_secs(3600));
        loop {
            every_hour.tick().await;
            if let Err(err) = sessions::delete_expired(&state.db).await {
                tracing::warn!(error = %err, "could not sweep expired sessions");
            }
            if let Err(err) = invites::delete_expired(&state.db).await {
                tracing::warn!(error = %err, "could not sweep expired invites");
            }
            state.login_limiter.sweep();
        }
    })
}
