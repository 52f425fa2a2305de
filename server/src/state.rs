//! What the server's parts can reach (docs/architecture.md, "State"): `Core` is what the domain
//! code and the worker need, and all `cloister worker` builds; `AppState` is what request
//! handlers add to it (page rendering, sign-in throttling, upload locks, download runtime), and
//! derefs to its core so a handler reads `state.db` either way.

use std::ops::Deref;
use std::sync::Arc;

use crate::db::Db;
use axum::extract::FromRef;
use leptos::config::LeptosOptions;

use crate::accounts::sessions::LiveSessions;
use crate::accounts::LoginLimiter;
use crate::config::Config;
use crate::data_dir::{DataDir, SERVER_KEY_LEN};
use crate::downloads::DownloadRuntime;
use crate::events::EventHub;
use crate::gate::{Gate, ReadingsFile, ResourceMonitor, SystemMonitor};
use crate::jobs::JobRuntime;
use crate::key_check::KeyChecks;
use crate::media::MediaTools;
use crate::storage::{DiskSpace, FsStorage, StatvfsDiskSpace, VideoStorage};
use crate::uploads::UploadLocks;

/// The database, sealed files, the server key, events, the job runtime, the resource gate and the
/// media tools: everything a job needs, and nothing tied to HTTP.
#[derive(Clone)]
pub struct Core {
    pub db: Db,
    pub config: Arc<Config>,
    pub data: DataDir,
    /// Where sealed files live.
    pub storage: Arc<dyn VideoStorage>,
    /// Free-space readings of the data directory's filesystem (tests inject a fixed one).
    pub disk: Arc<dyn DiskSpace>,
    /// Wraps DEKs held for jobs (docs/format.md, server custody).
    pub server_key: Arc<zeroize::Zeroizing<[u8; SERVER_KEY_LEN]>>,
    /// Relays recorded events to this process's WebSockets.
    pub events: Arc<EventHub>,
    /// Wakes this process's workers and reaches their running jobs.
    pub jobs: Arc<JobRuntime>,
    /// May a job start now?
    pub gate: Gate,
    /// ffmpeg and ffprobe, and how they are run.
    pub media: Arc<MediaTools>,
}

/// What every request handler can reach: the core and the HTTP layer's own parts.
#[derive(Clone)]
pub struct AppState {
    pub core: Core,
    pub leptos: LeptosOptions,
    /// Sign-in throttling, per username and per client address; lives as long as the server.
    pub login_limiter: Arc<LoginLimiter>,
    /// Keeps a chunk write and the completion or removal of the same upload apart.
    pub upload_locks: Arc<UploadLocks>,
    /// Bounds the checks of keys members hand over (upload complete, retry, downloads).
    pub key_checks: Arc<KeyChecks>,
    /// Sockets and download streams of signed-in sessions, closed when the session ends.
    pub live_sessions: Arc<LiveSessions>,
    /// Links being streamed by this process, and the download dispatcher's wake-up.
    pub downloads: Arc<DownloadRuntime>,
}

impl Deref for AppState {
    type Target = Core;

    fn deref(&self) -> &Core {
        &self.core
    }
}

impl FromRef<AppState> for LeptosOptions {
    fn from_ref(state: &AppState) -> Self {
        state.leptos.clone()
    }
}

impl Core {
    /// Prepares the data directory and database for `config`: what `serve`, `worker` and tests
    /// call.
    pub async fn open(config: Config) -> anyhow::Result<Self> {
        let data = DataDir::prepare(&config.data_dir).map_err(|err| {
            anyhow::anyhow!(
                "cannot prepare data directory {}: {err}",
                config.data_dir.display()
            )
        })?;
        let server_key = data
            .load_or_create_server_key()
            .map_err(|err| anyhow::anyhow!("cannot read or create the server key: {err}"))?;
        let db = crate::db::open(data.root(), config.database_url.as_deref())
            .await
            .map_err(|err| {
                anyhow::anyhow!(
                    "cannot open the database in {}: {err}",
                    data.root().display()
                )
            })?;
        let disk: Arc<dyn DiskSpace> = Arc::new(StatvfsDiskSpace);
        let machine: Arc<dyn ResourceMonitor> =
            Arc::new(SystemMonitor::new(disk.clone(), data.root().to_path_buf()));
        let monitor: Arc<dyn ResourceMonitor> = match &config.gate.readings_file {
            Some(path) => {
                tracing::warn!(file = %path.display(), "resource readings may come from a test file");
                Arc::new(ReadingsFile {
                    path: path.clone(),
                    fallback: machine,
                })
            }
            None => machine,
        };
        Ok(Self {
            db,
            storage: Arc::new(FsStorage::new(data.videos())),
            disk,
            events: Arc::new(EventHub::default()),
            jobs: Arc::new(JobRuntime::default()),
            gate: Gate::new(monitor, config.gate.clone()),
            media: Arc::new(MediaTools::from_path()),
            server_key: Arc::new(server_key),
            config: Arc::new(config),
            data,
        })
    }
}

impl AppState {
    /// The core for `config`, and what serving HTTP adds to it.
    pub async fn open(config: Config) -> anyhow::Result<Self> {
        let core = Core::open(config).await?;
        let leptos = LeptosOptions::builder()
            .output_name("cloister")
            .site_root(core.config.site_root.to_string_lossy().as_ref())
            .site_pkg_dir("pkg")
            .site_addr(core.config.addr)
            // The built file names carry content hashes when cargo-leptos left `hash.txt` beside
            // this binary (docs/decisions.md, "The first visit").
            .hash_files(crate::http::static_files::hash_file_beside_binary())
            .build();
        let login_limiter = Arc::new(LoginLimiter::new(
            core.config.accounts.login_burst,
            std::time::Duration::from_secs(core.config.accounts.login_refill_secs),
        ));
        Ok(Self {
            core,
            leptos,
            login_limiter,
            upload_locks: Arc::new(UploadLocks::default()),
            key_checks: Arc::new(KeyChecks::default()),
            live_sessions: Arc::new(LiveSessions::default()),
            downloads: Arc::new(DownloadRuntime::default()),
        })
    }
}
