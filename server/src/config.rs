//! Server configuration: every setting is a flag with an environment variable behind it, and the
//! defaults are the seed's numbers (docs/architecture.md).

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::Args;

const MIB: u64 = 1024 * 1024;
const GIB: u64 = 1024 * MIB;

/// Storage quota of a new account unless said otherwise.
pub const DEFAULT_QUOTA_BYTES: u64 = 50 * GIB;

#[derive(Debug, Clone, Args)]
pub struct Config {
    /// Where the database, the server key, temp files and sealed videos live.
    #[arg(long, env = "CLOISTER_DATA_DIR", default_value = "./data")]
    pub data_dir: PathBuf,

    /// The database: the SQLite file in the data directory unless this names one
    /// (`postgres://user@host/db`, or `sqlite://path`). Give it in the environment, not as a
    /// flag, when it holds a password.
    #[arg(long, env = "CLOISTER_DATABASE_URL", hide_env_values = true)]
    pub database_url: Option<String>,

    /// Address to listen on. Keep it on loopback behind a TLS reverse proxy in production.
    #[arg(long, env = "CLOISTER_ADDR", default_value = "127.0.0.1:3000")]
    pub addr: SocketAddr,

    /// The built browser bundle (`cargo leptos build` writes it to target/site).
    #[arg(long, env = "LEPTOS_SITE_ROOT", default_value = "target/site")]
    pub site_root: PathBuf,

    #[command(flatten)]
    pub gate: GateConfig,

    #[command(flatten)]
    pub limits: LimitsConfig,

    #[command(flatten)]
    pub accounts: AccountsConfig,

    #[command(flatten)]
    pub uploads: UploadsConfig,

    #[command(flatten)]
    pub jobs: JobsConfig,

    #[command(flatten)]
    pub http: HttpConfig,

    #[command(flatten)]
    pub trash: TrashConfig,
}

/// How long deleted videos wait in the trash (docs/operations.md, "Trash").
#[derive(Debug, Clone, Args)]
pub struct TrashConfig {
    /// Days a deleted video stays in the trash, restorable, before it is purged for good.
    #[arg(long, env = "CLOISTER_TRASH_DAYS", default_value_t = 30,
          value_parser = clap::value_parser!(u32).range(1..=3650))]
    pub trash_days: u32,
}

/// Connections: how long a client may take, and how many it may hold (docs/operations.md).
#[derive(Debug, Clone, Args)]
pub struct HttpConfig {
    /// Time a client has to send a request's headers; also how long an idle keep-alive
    /// connection is kept open (seconds). Never cuts off a response, a download or a WebSocket.
    #[arg(long, env = "CLOISTER_HTTP_HEADER_TIMEOUT_SECS", default_value_t = 30,
          value_parser = clap::value_parser!(u64).range(1..=3600))]
    pub header_timeout_secs: u64,

    /// Longest wait between two pieces of a request body, e.g. an upload chunk (seconds).
    #[arg(long, env = "CLOISTER_HTTP_BODY_TIMEOUT_SECS", default_value_t = 60,
          value_parser = clap::value_parser!(u64).range(1..=3600))]
    pub body_timeout_secs: u64,

    /// Open connections at most (WebSockets included); more wait to be accepted. Lowered to fit
    /// the open-file limit (`ulimit -n`, systemd's LimitNOFILE) if that is smaller.
    #[arg(long, env = "CLOISTER_MAX_CONNECTIONS", default_value_t = 512,
          value_parser = clap::value_parser!(u32).range(1..=1_000_000))]
    pub max_connections: u32,
}

/// The upload protocol's housekeeping.
#[derive(Debug, Clone, Args)]
pub struct UploadsConfig {
    /// Warn an uploader that processing will be late when more than this many videos are queued.
    #[arg(long, env = "CLOISTER_QUEUE_WARN_LENGTH", default_value_t = 5)]
    pub queue_warn_length: u64,

    /// Remove an unfinished upload after this many hours without a new chunk.
    #[arg(long, env = "CLOISTER_ABANDONED_UPLOAD_HOURS", default_value_t = 24,
          value_parser = clap::value_parser!(u64).range(1..=24 * 365))]
    pub abandoned_upload_hours: u64,
}

/// Sessions, the origin the server is reached at, and sign-in throttling.
#[derive(Debug, Clone, Args)]
pub struct AccountsConfig {
    /// The address members use, e.g. https://videos.example.org. An https:// address marks the
    /// session cookie Secure, and it is an accepted Origin for mutating requests.
    #[arg(long, env = "CLOISTER_PUBLIC_URL", value_parser = parse_public_url)]
    pub public_url: Option<String>,

    /// Trust X-Forwarded-For and X-Forwarded-Proto from a reverse proxy in front of Cloister.
    /// Leave off unless a proxy you control sets (and overwrites) these headers.
    #[arg(long, env = "CLOISTER_TRUST_PROXY", default_value_t = false)]
    pub trust_proxy: bool,

    /// How long a sign-in lasts (days).
    #[arg(long, env = "CLOISTER_SESSION_DAYS", default_value_t = 30,
          value_parser = clap::value_parser!(u32).range(1..=365))]
    pub session_days: u32,

    /// Sign-in attempts allowed at once per username and per client address...
    #[arg(long, env = "CLOISTER_LOGIN_BURST", default_value_t = 5,
          value_parser = clap::value_parser!(u32).range(1..=10_000))]
    pub login_burst: u32,

    /// ... after which one more attempt is allowed every this many seconds.
    #[arg(long, env = "CLOISTER_LOGIN_REFILL_SECS", default_value_t = 30,
          value_parser = clap::value_parser!(u64).range(1..=86_400))]
    pub login_refill_secs: u64,
}

fn parse_public_url(value: &str) -> Result<String, String> {
    let uri: axum::http::Uri = value.parse().map_err(|_| format!("{value} is not a URL"))?;
    match (uri.scheme_str(), uri.host()) {
        (Some("http" | "https"), Some(_)) => Ok(value.trim_end_matches('/').to_owned()),
        _ => Err(format!(
            "{value} must start with http:// or https:// and name a host"
        )),
    }
}

/// The resource gate's thresholds: a job starts only when every one of them holds.
#[derive(Debug, Clone, Args)]
pub struct GateConfig {
    /// Start a job only if more than this much RAM is available (MB).
    #[arg(long, env = "CLOISTER_MIN_AVAILABLE_RAM_MB", default_value_t = 600)]
    pub min_available_ram_mb: u64,

    /// ... and RAM use is below this percentage.
    #[arg(long, env = "CLOISTER_MAX_RAM_PERCENT", default_value_t = 72.0)]
    pub max_ram_percent: f64,

    /// ... and less than this much swap is in use (MB).
    #[arg(long, env = "CLOISTER_MAX_SWAP_USED_MB", default_value_t = 200)]
    pub max_swap_used_mb: u64,

    /// ... and the 1-minute load average is below this. Default: the number of cores
    /// (the seed's 2.0 on a two-core machine with one worker).
    #[arg(long, env = "CLOISTER_MAX_LOAD")]
    pub max_load: Option<f64>,

    /// Disk that must stay free beyond twice a job's size (bytes).
    #[arg(long, env = "CLOISTER_DISK_RESERVE_BYTES", default_value_t = GIB)]
    pub disk_reserve_bytes: u64,

    /// Free space no upload chunk may take, whatever was reserved: room for the database to
    /// commit when the disk fills from outside (bytes).
    #[arg(long, env = "CLOISTER_DISK_FLOOR_BYTES", default_value_t = 64 * MIB)]
    pub disk_floor_bytes: u64,

    /// How long a job the gate held back waits before the gate is asked again (seconds).
    #[arg(long, env = "CLOISTER_GATE_RECHECK_SECS", default_value_t = 30,
          value_parser = clap::value_parser!(u64).range(1..=3600))]
    pub recheck_secs: u64,

    /// A job held back for longer than this is overdue: its uploader is told, and an admin may
    /// run it anyway (seconds).
    #[arg(long, env = "CLOISTER_OVERDUE_AFTER_SECS", default_value_t = 3600,
          value_parser = clap::value_parser!(u64).range(1..=30 * 86_400))]
    pub overdue_after_secs: u64,

    /// For testing a busy server: while this file exists, its JSON readings replace the machine's.
    #[arg(long, env = "CLOISTER_GATE_READINGS_FILE", hide = true)]
    pub readings_file: Option<PathBuf>,
}

/// The job queue's timing.
#[derive(Debug, Clone, Args)]
pub struct JobsConfig {
    /// A running job's lease: a worker renews it every third of this; a job whose lease lapsed
    /// (crash, kill, power loss) is taken up again (seconds).
    #[arg(long, env = "CLOISTER_JOB_LEASE_SECS", default_value_t = 30,
          value_parser = clap::value_parser!(u64).range(3..=3600))]
    pub lease_secs: u64,

    /// Wait before the first retry of a failed job; each further retry waits twice as long
    /// (seconds).
    #[arg(long, env = "CLOISTER_RETRY_BACKOFF_SECS", default_value_t = 30,
          value_parser = clap::value_parser!(u64).range(1..=86_400))]
    pub retry_backoff_secs: u64,

    /// An idle worker looks for work at least this often, even unprompted (seconds); jobs queued
    /// by the same process wake it at once.
    #[arg(long, env = "CLOISTER_WORKER_POLL_SECS", default_value_t = 5,
          value_parser = clap::value_parser!(u64).range(1..=3600))]
    pub poll_secs: u64,

    /// Processing jobs one member may have queued, waiting or running; completing another upload
    /// is refused (429) until some are done, the upload kept. A bound on floods, not on a batch:
    /// a member's folder of holiday clips fits.
    #[arg(long, env = "CLOISTER_MAX_QUEUED_JOBS_PER_MEMBER", default_value_t = 100,
          value_parser = clap::value_parser!(u32).range(1..=100_000))]
    pub max_queued_jobs_per_member: u32,
}

/// Sizes, counts and retries.
#[derive(Debug, Clone, Args)]
pub struct LimitsConfig {
    /// Processing workers run at once by `serve` (0 runs none: use `cloister worker`).
    #[arg(long, env = "CLOISTER_WORKERS", default_value_t = 1)]
    pub workers: u32,

    /// Server-side decrypted downloads allowed at once.
    #[arg(long, env = "CLOISTER_MAX_DOWNLOADS", default_value_t = 2)]
    pub max_downloads: u32,

    /// How long a ready download link works if nobody uses it (a transfer under way is never
    /// cut off; one that stops short keeps the link this long again, to resume).
    #[arg(long, env = "CLOISTER_DOWNLOAD_LINK_SECS", default_value_t = 600)]
    pub download_link_secs: u64,

    /// Retries of a failed processing job before it is marked failed (the original is kept).
    #[arg(long, env = "CLOISTER_MAX_RETRIES", default_value_t = 2)]
    pub max_retries: u32,

    /// Largest video accepted (bytes of plaintext).
    #[arg(long, env = "CLOISTER_MAX_UPLOAD_BYTES", default_value_t = 20 * GIB)]
    pub max_upload_bytes: u64,

    /// Storage quota given to new members (bytes).
    #[arg(long, env = "CLOISTER_DEFAULT_QUOTA_BYTES", default_value_t = DEFAULT_QUOTA_BYTES)]
    pub default_quota_bytes: u64,
}

impl GateConfig {
    /// The load ceiling: configured, or one unit per core.
    pub fn load_ceiling(&self, cores: usize) -> f64 {
        self.max_load.unwrap_or(cores.max(1) as f64)
    }
}

impl Config {
    /// A configuration with every default, rooted at `data_dir`: what tests start from.
    pub fn with_data_dir(data_dir: impl Into<PathBuf>) -> Self {
        #[derive(clap::Parser)]
        struct Defaults {
            #[command(flatten)]
            config: Config,
        }
        let mut config = <Defaults as clap::Parser>::parse_from(["cloister"]).config;
        config.data_dir = data_dir.into();
        config
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_the_seeds_numbers() {
        let config = Config::with_data_dir("/tmp/x");
        assert_eq!(config.gate.min_available_ram_mb, 600);
        assert_eq!(config.gate.max_ram_percent, 72.0);
        assert_eq!(config.gate.max_swap_used_mb, 200);
        assert_eq!(config.gate.disk_reserve_bytes, GIB);
        assert_eq!(config.gate.load_ceiling(2), 2.0);
        assert_eq!(config.limits.workers, 1);
        assert_eq!(config.limits.max_downloads, 2);
        assert_eq!(config.limits.max_retries, 2);
        assert_eq!(config.addr.to_string(), "127.0.0.1:3000");
        assert_eq!(config.accounts.session_days, 30);
        assert_eq!(config.accounts.login_burst, 5);
        assert_eq!(config.accounts.login_refill_secs, 30);
        assert!(!config.accounts.trust_proxy);
        assert!(config.accounts.public_url.is_none());
        assert_eq!(config.uploads.queue_warn_length, 5);
        assert_eq!(config.uploads.abandoned_upload_hours, 24);
        assert_eq!(config.gate.recheck_secs, 30);
        assert_eq!(config.gate.overdue_after_secs, 3600);
        assert_eq!(config.jobs.lease_secs, 30);
        assert_eq!(config.jobs.retry_backoff_secs, 30);
        assert_eq!(config.http.header_timeout_secs, 30);
        assert_eq!(config.http.body_timeout_secs, 60);
        assert_eq!(config.http.max_connections, 512);
        assert_eq!(config.trash.trash_days, 30);
    }
}
