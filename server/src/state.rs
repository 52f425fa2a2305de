//! What every request handler can reach.

use std::sync::Arc;

use axum::extract::FromRef;
use leptos::config::LeptosOptions;
use sqlx::SqlitePool;

use crate::accounts::LoginLimiter;
use crate::config::Config;
use crate::data_dir::DataDir;

#[derive(Clone)]
pub struct AppState {
    pub db: SqlitePool,
    pub config: Arc<Config>,
    pub data: DataDir,
    pub leptos: LeptosOptions,
    /// Sign-in throttling, per username and per client address; lives as long as the server.
    pub login_limiter: Arc<LoginLimiter>,
}

impl FromRef<AppState> for LeptosOptions {
    fn from_ref(state: &AppState) -> Self {
        state.leptos.clone()
    }
}

impl AppState {
    /// Prepares the data directory and database for `config`: what `serve` and tests both call.
    pub async fn open(config: Config) -> anyhow::Result<Self> {
        let data = DataDir::prepare(&config.data_dir).map_err(|err| {
            anyhow::anyhow!(
                "cannot prepare data directory {}: {err}",
                config.data_dir.display()
            )
        })?;
        data.load_or_create_server_key()
            .map_err(|err| anyhow::anyhow!("cannot read or create the server key: {err}"))?;
        let db = crate::db::open(data.root()).await.map_err(|err| {
            anyhow::anyhow!(
                "cannot open the database in {}: {err}",
                data.root().display()
            )
        })?;
        let leptos = LeptosOptions::builder()
            .output_name("cloister")
            .site_root(config.site_root.to_string_lossy().as_ref())
            .site_pkg_dir("pkg")
            .site_addr(config.addr)
            .build();
        let login_limiter = Arc::new(LoginLimiter::new(
            config.accounts.login_burst,
            std::time::Duration::from_secs(config.accounts.login_refill_secs),
        ));
        Ok(Self {
            db,
            login_limiter,
            config: Arc::new(config),
            data,
            leptos,
        })
    }
}
