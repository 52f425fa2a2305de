//! `cloister`: the server and its command-line tools in one binary.

use clap::{Parser, Subcommand};
use cloister::cli::library::LibraryCommand;
use cloister::cli::remote::LoginArgs;
use cloister::cli::user::UserCommand;
use cloister::config::Config;
use cloister::state::Core;
use cloister::{accounts, cli, downloads, jobs, router, tools, uploads, AppState};
use tokio_util::sync::CancellationToken;
use tracing_subscriber::EnvFilter;

#[derive(Parser)]
#[command(
    name = "cloister",
    version,
    about = "End-to-end-encrypted video sharing for a small group"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the web server (and, by default, the processing worker).
    Serve(Config),
    /// Run only the processing workers, against the same data directory and database as `serve`
    /// (start `serve` with `--workers 0` then).
    Worker(Config),
    /// Manage accounts in the data directory's database (works with the server stopped).
    User {
        #[command(subcommand)]
        command: UserCommand,
    },
    /// A new one-time link to create the first admin in the browser, while nobody has an account
    /// (works with the server stopped).
    SetupLink(cli::setup_link::SetupLinkArgs),
    /// Sign in to a server and unlock the library: `cloister login --check`.
    Login(LoginArgs),
    /// The library's keys on a server: set up, let members in, your own passphrase, recovery.
    Library {
        #[command(subcommand)]
        command: LibraryCommand,
    },
    /// Encrypt video files on this machine and upload them (resumes an interrupted upload).
    Upload(cli::upload::UploadArgs),
    /// List the library, with titles decrypted here.
    Ls(cli::ls::LsArgs),
    /// Download a video and decrypt it on this machine.
    Download(cli::download::DownloadArgs),
    /// The processing queue and the server's load.
    Jobs(cli::jobs::JobsArgs),
    /// Move videos to the trash (`--purge`: delete them for good).
    Rm(cli::trash::RmArgs),
    /// List the trash, with titles decrypted here.
    Trash(cli::trash::TrashArgs),
    /// Bring videos back from the trash.
    Restore(cli::trash::RestoreArgs),
    /// Copy the data directory consistently, while the server runs: `--to DIR` (on PostgreSQL,
    /// the sealed files only: the database is backed up with pg_dump).
    Backup(cli::backup::BackupArgs),
    /// Move the library's database from SQLite to an empty PostgreSQL database (the server must
    /// be stopped).
    ///
    /// Stop the server (`cloister serve`, and any `cloister worker`) first: the command refuses
    /// while the SQLite file is in use, but it cannot see a server that is about to start. Give
    /// the target in CLOISTER_MIGRATE_TO (`postgres://user@host/database`) rather than --to when
    /// it holds a password. The target must be empty: the schema is created there, every table
    /// copied in one transaction and row counts checked; on any error nothing is committed. The
    /// sealed files and server.key stay in the data directory. Then start the server with
    /// CLOISTER_DATABASE_URL set to the same database (docs/operations.md).
    MigrateDb(cli::migrate_db::MigrateDbArgs),
    /// The admin console: jobs and their overrides, the machine, storage and housekeeping.
    Admin {
        #[command(subcommand)]
        command: cli::admin::AdminCommand,
    },
    /// Write Brotli and gzip copies beside the built site's files (run after `cargo leptos build`).
    CompressSite(cloister::http::precompress::CompressSiteArgs),
}

fn main() -> std::process::ExitCode {
    limit_malloc_arenas();
    match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime.block_on(run()),
        Err(err) => {
            eprintln!("cloister: cannot start the async runtime: {err}");
            std::process::ExitCode::FAILURE
        }
    }
}

/// glibc gives every thread that allocates its own malloc arena and keeps freed memory in each, so
/// a server streaming 4 MiB chunks on a few threads sits at ~100 MB RSS for nothing. Two arenas
/// keep it near half that with no measurable cost in throughput (docs/benchmarks.md). A fixed
/// mmap threshold makes every buffer of 1 MiB or more (chunks, segments) its own mapping, handed
/// back to the system when freed; left dynamic, glibc raises the threshold after the first such
/// free and keeps later chunks in the heap, where freed memory stays resident. Set before any
/// thread exists.
fn limit_malloc_arenas() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: mallopt only tunes the allocator; called once, before other threads are started.
    unsafe {
        libc::mallopt(libc::M_ARENA_MAX, 2);
        libc::mallopt(libc::M_MMAP_THRESHOLD, 1024 * 1024);
    }
}

async fn run() -> std::process::ExitCode {
    let cli = Cli::parse();
    // The server logs at info; the command-line tools only warn, so their output stays readable.
    // Logs go to stderr, keeping stdout for what a command prints.
    let default_filter = match cli.command {
        Command::Serve(_) | Command::Worker(_) => "info,sqlx=warn",
        _ => "warn",
    };
    tracing_subscriber::fmt()
        .with_env_filter(
            EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(default_filter)),
        )
        .with_writer(std::io::stderr)
        .init();
    if !matches!(cli.command, Command::Serve(_) | Command::Worker(_)) {
        cli::end_quietly_when_stdout_closes();
    }
    let result = match cli.command {
        Command::Serve(config) => serve(config).await,
        Command::Worker(config) => worker(config).await,
        Command::User { command } => cli::user::run(command).await,
        Command::SetupLink(args) => cli::setup_link::run(args).await,
        Command::Login(args) => cli::remote::login(args).await,
        Command::Library { command } => cli::library::run(command).await,
        Command::Upload(args) => cli::upload::run(args).await,
        Command::Ls(args) => cli::ls::run(args).await,
        Command::Download(args) => cli::download::run(args).await,
        Command::Jobs(args) => cli::jobs::run(args).await,
        Command::Rm(args) => cli::trash::rm(args).await,
        Command::Trash(args) => cli::trash::list(args).await,
        Command::Restore(args) => cli::trash::restore(args).await,
        Command::Backup(args) => cli::backup::run(args).await,
        Command::MigrateDb(args) => cli::migrate_db::run(args).await,
        Command::Admin { command } => cli::admin::run(command).await,
        Command::CompressSite(args) => cloister::http::precompress::run(args),
    };
    match result {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("cloister: {err:#}");
            std::process::ExitCode::FAILURE
        }
    }
}

async fn serve(config: Config) -> anyhow::Result<()> {
    let ffmpeg = tools::check_ffmpeg().await?;
    tracing::info!("{ffmpeg}");
    private_files();
    let addr = config.addr;
    let state = AppState::open(config).await?;
    tracing::info!(data_dir = %state.data.root().display(), "database ready");
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .map_err(|err| anyhow::anyhow!("cannot listen on {addr}: {err}"))?;
    // The bound address, so `--addr 127.0.0.1:0` (tests, benchmarks) says which port it got.
    let bound = listener.local_addr().unwrap_or(addr);
    tell_setup_link(&state, bound).await?;
    println!("Cloister is running at http://{bound}/");
    accounts::spawn_sweeper(state.clone());
    uploads::spawn_sweeper(state.clone());
    jobs::spawn_sweeper(state.core.clone());
    cloister::trash::purge::spawn_sweeper(state.clone());
    state.events.spawn_tail(state.db.clone());
    downloads::spawn_dispatcher(state.clone());
    let stop_workers = CancellationToken::new();
    let workers = jobs::worker::spawn(&state, state.config.limits.workers, &stop_workers);
    // The signal stops the workers at once — their jobs go back to the queue while HTTP requests
    // drain, so a long download cannot hold a job until a kill makes it cost an attempt.
    let stopping = stop_workers.clone();
    tokio::spawn(async move {
        shutdown_signal().await;
        stopping.cancel();
    });
    let handed_back = tokio::spawn(stop(stop_workers.clone(), workers));
    let http = state.config.http.clone();
    cloister::http::serve::serve(
        listener,
        router(state),
        &http,
        stop_workers.cancelled_owned(),
    )
    .await;
    let _ = handed_back.await;
    Ok(())
}

/// While nobody has an account, prints a new setup link on stderr (never through the log, which
/// may be kept or shipped elsewhere): the way to create the first admin in the browser.
async fn tell_setup_link(state: &AppState, bound: std::net::SocketAddr) -> anyhow::Result<()> {
    let base = accounts::setup::link_base(state.config.accounts.public_url.as_deref(), bound);
    if let Some(link) = accounts::setup::new_link(&state.db, &base).await? {
        eprintln!("{}", accounts::setup::no_owner_message(&link));
    }
    Ok(())
}

/// `cloister worker`: processing only, until SIGINT or SIGTERM.
async fn worker(mut config: Config) -> anyhow::Result<()> {
    let ffmpeg = tools::check_ffmpeg().await?;
    tracing::info!("{ffmpeg}");
    private_files();
    let count = config.limits.workers.max(1);
    config.limits.workers = count;
    // Only the core: a worker serves no pages and takes no uploads.
    let core = Core::open(config).await?;
    println!(
        "Cloister worker: {count} worker(s) processing jobs in {}",
        core.data.root().display()
    );
    let stop_workers = CancellationToken::new();
    let workers = jobs::worker::spawn(&core, count, &stop_workers);
    shutdown_signal().await;
    stop_workers.cancel();
    stop(stop_workers, workers).await;
    Ok(())
}

/// Once `token` is cancelled, waits for the workers to stop: running ffmpeg is killed and its job
/// handed back to the queue.
async fn stop(token: CancellationToken, workers: Vec<tokio::task::JoinHandle<()>>) {
    token.cancelled().await;
    for worker in workers {
        let _ = worker.await;
    }
}

/// Everything the server writes — decrypted temp files and ffmpeg's outputs included — is
/// readable by its own user only (docs/format.md).
fn private_files() {
    #[cfg(unix)]
    // SAFETY: umask only changes this process's file-creation mask.
    unsafe {
        libc::umask(0o077);
    }
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        if let Ok(mut signal) =
            tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        {
            signal.recv().await;
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
    tracing::info!("shutting down");
}
