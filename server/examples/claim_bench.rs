//! Claim throughput benchmark (docs/benchmarks.md, "Claiming jobs"; issue 16): jobs per second
//! that P worker processes take through the queue, each on its own pool, with no processing work,
//! so what is measured is the queue itself.
//!
//!     cargo build --release -p cloister --example claim_bench
//!     target/release/examples/claim_bench --jobs 1000 --processes 1,4 --runs 5
//!
//! Each run fills a fresh library (a new temp data directory; on PostgreSQL also a new database)
//! with M queued jobs the way completed uploads leave them: members made by `users::create`, and
//! per job, in batched transactions, the `videos` row by `uploads::store::insert_upload`,
//! `mark_uploaded`, the admission check `jobs::store::admit`, the job by `queue_job` holding a DEK
//! wrapped by `custody::wrap_dek`, and its `job_queued` event by `events::record`. Then it starts P
//! copies of this program in a child mode, each opening the library as `cloister worker` does
//! (`AppState::open`, its own pool). Once every child is ready, all are told to go at once, and
//! each loops over what a worker's step does (`jobs::worker`), minus the resource gate and the
//! pipeline: `mark_interrupted_jobs`, `transitions::recover_lapsed`, `eta::seconds_per_gb`, then
//! `transitions::pick` and `claim_picked` (the claim), then `transitions::finish` and
//! `eta::record`; until `pick` finds nothing due. A run's throughput is M over the time from "go"
//! to the last child finding the queue empty.
//!
//! After every run it checks, from the database and the children's reports, that every job is
//! `done` with one attempt, held by the child that says it claimed it, with exactly one
//! `job_started` and one `job_done` event, claimed by exactly one child; that every child claimed
//! at least one job; and that no step failed. It exits non-zero if any check failed.
//!
//! Runs alternate over the process counts (1, 4, 1, 4, ...), each on a fresh queue; the table
//! gives the median jobs/s of each count, its ratio to the first count's median, and the p50/p99
//! of one claim (`pick` + `claim_picked`) over all runs. Each run also reports the CPU time its
//! worker processes and the PostgreSQL cluster used (per job in the table), and how busy the whole
//! machine was. Times are wall clock on whatever else the machine runs, so the cores and the
//! 1/5/15-minute load averages are printed beside them; nothing asserts on speed.
//!
//! The library is SQLite unless `--postgres-admin` / `CLOISTER_BENCH_POSTGRES` names an admin URL
//! of a PostgreSQL cluster where it may create (and afterwards drop) one database per run
//! (`scripts/bench-claims.sh --postgres` runs it beside a throwaway cluster).

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant, SystemTime};

use anyhow::{bail, ensure, Context};
use clap::Parser;
use cloister::accounts::{unix_now, users};
use cloister::config::Config;
use cloister::db::{Backend, Db};
use cloister::jobs::worker::mark_interrupted_jobs;
use cloister::jobs::{eta, transitions};
use cloister::uploads::store::{self as upload_store, NewUpload};
use cloister::AppState;
use cloister_shared::api::{Event, Role};
use cloister_shared::{Dek, VideoId};
use serde_json::{json, Value};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader, Lines};
use tokio::process::{Child, ChildStdout};
use zeroize::Zeroizing;

const PASSWORD: &str = "benchmark password";
const CHUNK_SIZE: i64 = 4 << 20;
/// A sealed stream's header (shared/docs/format.md), a wrapped DEK, a sealed title of ~40 bytes.
const STREAM_HEADER_LEN: usize = 41;
const WRAPPED_DEK_LEN: usize = 60;
const TITLE_LEN: usize = 97;
/// Failed steps a child tolerates (each is reported) before it gives up.
const MAX_ERRORS: u64 = 50;
/// How long a child may take to open the library and say it is ready.
const READY_WITHIN: Duration = Duration::from_secs(60);

#[derive(Parser)]
struct Args {
    /// Jobs queued for each run.
    #[arg(long, default_value_t = 1000, value_parser = clap::value_parser!(u32).range(1..=1_000_000))]
    jobs: u32,
    /// Worker process counts to compare; the first is the baseline of the ratios.
    #[arg(long, value_delimiter = ',', default_value = "1,4")]
    processes: Vec<u32>,
    /// Runs of each process count, alternating, each on a fresh queue.
    #[arg(long, default_value_t = 5, value_parser = clap::value_parser!(u32).range(1..=1000))]
    runs: u32,
    /// Members owning the videos.
    #[arg(long, default_value_t = 4, value_parser = clap::value_parser!(u32).range(1..=50))]
    members: u32,
    /// Jobs queued per transaction while filling.
    #[arg(long, default_value_t = 500, value_parser = clap::value_parser!(u32).range(1..=100_000))]
    batch: u32,
    /// Admin URL of a PostgreSQL cluster to make a fresh database in for each run, instead of
    /// SQLite in the temp data directory.
    #[arg(long, env = "CLOISTER_BENCH_POSTGRES", hide_env_values = true)]
    postgres_admin: Option<String>,
    /// Child mode: be worker process INDEX on the data directory `--data` (the database from
    /// `CLOISTER_DATABASE_URL`), reading "go" on stdin and printing a JSON report on stdout.
    #[arg(long, hide = true)]
    child: Option<u32>,
    #[arg(long, hide = true, requires = "child")]
    data: Option<PathBuf>,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    if let Some(index) = args.child {
        let data = args.data.context("--child needs --data")?;
        return child(index, &data).await;
    }
    ensure!(
        !args.processes.is_empty() && args.processes.iter().all(|&p| (1..=64).contains(&p)),
        "--processes takes counts from 1 to 64"
    );
    let cores = std::thread::available_parallelism().map_or(0, usize::from);
    println!("cores: {cores}; load average at start: {}", load_average()?);
    println!(
        "{} jobs per run; {} runs of each of {:?} worker processes, alternating",
        args.jobs, args.runs, args.processes
    );

    let mut results: HashMap<u32, Vec<RunResult>> = HashMap::new();
    let mut failures = Vec::new();
    for run in 1..=args.runs {
        for &processes in &args.processes {
            let label = format!("run {run}/{}, {processes} process(es)", args.runs);
            let result = one_run(&args, run, processes)
                .await
                .with_context(|| label.clone())?;
            println!(
                "{label}: filled in {:.1} s; {:.1} jobs/s ({} jobs in {:.3} s; per process {:?}; \
                 lost claims {}); load before {}",
                result.fill_secs,
                result.jobs_per_sec,
                args.jobs,
                result.elapsed.as_secs_f64(),
                result.per_process,
                result.lost,
                result.load_before,
            );
            println!(
                "  CPU: worker processes {:.2} s, PostgreSQL {:.2} s; the machine busy {:.2} of \
                 {cores} cores (everything on it)",
                result.cpu.workers,
                result.cpu.postgres,
                result.cpu.machine_busy / result.cpu.machine_wall.max(1e-9) * cores as f64,
            );
            for problem in &result.problems {
                println!("  CHECK FAILED: {problem}");
                failures.push(format!("{label}: {problem}"));
            }
            results.entry(processes).or_default().push(result);
        }
    }
    print_table(&args, &results);
    println!("\nload average at end: {}", load_average()?);
    if !failures.is_empty() {
        bail!(
            "{} check(s) failed:\n{}",
            failures.len(),
            failures.join("\n")
        );
    }
    println!("checks: every job done once, by one process; every process claimed a job");
    Ok(())
}

/// What one run measured and found wrong.
struct RunResult {
    fill_secs: f64,
    elapsed: Duration,
    jobs_per_sec: f64,
    per_process: Vec<usize>,
    lost: u64,
    claim: Vec<Duration>,
    bookkeeping: Vec<Duration>,
    finish: Vec<Duration>,
    load_before: String,
    cpu: Cpu,
    problems: Vec<String>,
}

/// A fresh library, filled, its jobs taken by `processes` children, checked; its database dropped.
async fn one_run(args: &Args, run: u32, processes: u32) -> anyhow::Result<RunResult> {
    let dir = tempfile::tempdir().context("cannot make a temp data directory")?;
    let database = match &args.postgres_admin {
        Some(admin) => {
            Some(FreshDatabase::create(admin, &format!("claim_bench_{run}_{processes}")).await?)
        }
        None => None,
    };
    let url = database.as_ref().map(|d| d.url.clone());
    let mut config = Config::with_data_dir(dir.path());
    config.database_url = url.clone();
    let state = AppState::open(config).await?;
    if run == 1 && processes == args.processes[0] {
        println!("{}", engine_version(&state.db).await?);
    }
    let filled = Instant::now();
    let jobs = fill(&state, args).await?;
    settle(&state.db).await?;
    let fill_secs = filled.elapsed().as_secs_f64();

    let load_before = load_average()?;
    let postmaster = postmaster_of(&state.db).await?;
    let mut children = Vec::new();
    for index in 0..processes {
        children.push(ChildProcess::start(index, dir.path(), url.as_deref()).await?);
    }
    let cpu_before = Cpu::now(postmaster)?;
    let go = SystemTime::now();
    for child in &mut children {
        child.go().await?;
    }
    let mut reports = Vec::new();
    for child in children {
        reports.push(child.report().await?);
    }
    // Lets the postmaster reap the exited children's backends, whose time it then counts.
    if postmaster.is_some() {
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
    let mut cpu = Cpu::now(postmaster)?.since(&cpu_before);
    cpu.workers = reports.iter().map(|r| r.cpu_seconds).sum();
    let last_end = reports
        .iter()
        .map(|r| r.ended)
        .max()
        .context("no child reported")?;
    let elapsed = last_end.duration_since(go).unwrap_or_default();
    let mut problems = check(&state.db, &jobs, &reports).await?;
    if elapsed.is_zero() {
        problems.push("the run took no measurable time".to_owned());
    }
    state.db.close().await;
    if let Some(database) = database {
        database.drop_it().await?;
    }
    Ok(RunResult {
        fill_secs,
        elapsed,
        jobs_per_sec: jobs.len() as f64 / elapsed.as_secs_f64().max(1e-9),
        per_process: reports.iter().map(|r| r.claimed.len()).collect(),
        lost: reports.iter().map(|r| r.lost).sum(),
        claim: reports.iter().flat_map(|r| r.claim.clone()).collect(),
        bookkeeping: reports.iter().flat_map(|r| r.bookkeeping.clone()).collect(),
        finish: reports.iter().flat_map(|r| r.finish.clone()).collect(),
        load_before,
        cpu,
        problems,
    })
}

/// A database made for one run in the cluster behind an admin URL, dropped after it.
struct FreshDatabase {
    admin: String,
    name: String,
    url: String,
}

impl FreshDatabase {
    async fn create(admin: &str, name: &str) -> anyhow::Result<Self> {
        let (base, _) = admin
            .rsplit_once('/')
            .context("the admin URL names no database")?;
        let pool = cloister::db::connect(admin)
            .await
            .context("cannot reach the PostgreSQL cluster")?;
        sqlx::raw_sql(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
            .execute(&pool)
            .await?;
        sqlx::raw_sql(&format!("CREATE DATABASE {name}"))
            .execute(&pool)
            .await
            .with_context(|| format!("cannot create database {name}"))?;
        pool.close().await;
        Ok(Self {
            admin: admin.to_owned(),
            name: name.to_owned(),
            url: format!("{base}/{name}"),
        })
    }

    async fn drop_it(self) -> anyhow::Result<()> {
        let pool = cloister::db::connect(&self.admin).await?;
        // Forced: a connection of an exited child may not have closed on the server side yet.
        sqlx::raw_sql(&format!(
            "DROP DATABASE IF EXISTS {} WITH (FORCE)",
            self.name
        ))
        .execute(&pool)
        .await
        .with_context(|| format!("cannot drop database {}", self.name))?;
        pool.close().await;
        Ok(())
    }
}

fn random_bytes(len: usize) -> anyhow::Result<Vec<u8>> {
    let mut bytes = vec![0u8; len];
    getrandom::fill(&mut bytes).map_err(|err| anyhow::anyhow!("no randomness: {err}"))?;
    Ok(bytes)
}

/// Members, then `args.jobs` completed uploads, each with its queued job, as `uploads::complete`
/// leaves them (without the files: no worker here opens them). Answers the job ids.
async fn fill(state: &AppState, args: &Args) -> anyhow::Result<Vec<i64>> {
    let mut owners = Vec::new();
    for n in 0..args.members {
        let name = format!("member{n}");
        let user = users::create(
            &state.db,
            &name,
            Zeroizing::new(PASSWORD.to_owned()),
            Role::Member,
            1 << 50,
        )
        .await
        .with_context(|| format!("cannot add {name}"))?;
        owners.push(user.id);
    }
    let mut jobs = Vec::new();
    let total = args.jobs as usize;
    while jobs.len() < total {
        let batch = (total - jobs.len()).min(args.batch as usize);
        let mut tx = state.db.begin().await?;
        for _ in 0..batch {
            let n = jobs.len();
            let owner = owners[n % owners.len()];
            // 2 MB to 2 GB, so some files get the small-file priority and most do not.
            let size = 2_000_000 + (n as i64 * 7919 % 1000) * 2_000_000;
            let id = VideoId::random().map_err(|err| anyhow::anyhow!("{err}"))?;
            let now = unix_now();
            let (wrapped, title, header, fingerprint) = (
                random_bytes(WRAPPED_DEK_LEN)?,
                random_bytes(TITLE_LEN)?,
                random_bytes(STREAM_HEADER_LEN)?,
                random_bytes(32)?,
            );
            let inserted = upload_store::insert_upload(
                &mut tx,
                &NewUpload {
                    id: &id,
                    owner_id: owner,
                    size_bytes: size,
                    quota_bytes: 1 << 50,
                    now,
                    wrapped_dek: &wrapped,
                    title: &title,
                    description: None,
                    file_name: None,
                    stream_header: &header,
                    chunk_size: CHUNK_SIZE,
                    chunk_count: (size + CHUNK_SIZE - 1) / CHUNK_SIZE,
                    fingerprint: &fingerprint,
                    resume_mac: None,
                    content_fingerprint: None,
                    key_generation: 1,
                },
            )
            .await?;
            ensure!(inserted, "the upload row of job {n} was refused");
            ensure!(
                upload_store::mark_uploaded(&mut tx, &id, now).await?,
                "upload {id} was not uploading"
            );
            let priority =
                cloister::jobs::store::admit(&mut tx, owner, u64::try_from(size)?, u32::MAX)
                    .await?;
            let dek = Dek::generate().map_err(|err| anyhow::anyhow!("{err}"))?;
            let held = cloister::custody::wrap_dek(&state.server_key, &id, &dek)
                .map_err(|err| anyhow::anyhow!("{err}"))?;
            let job_id = upload_store::queue_job(&mut tx, &id, priority, now, &held, size).await?;
            let event = Event::JobQueued {
                job_id,
                video_id: id,
                queue_position: n as u64 + 1,
            };
            cloister::events::record(&mut tx, &event, now).await?;
            jobs.push(job_id);
        }
        tx.commit().await.context("cannot commit a batch of jobs")?;
    }
    Ok(jobs)
}

/// Leaves the database as a running server's would be after the inserts: on SQLite the WAL
/// folded back; on PostgreSQL the tables vacuumed and analysed, as autovacuum does.
async fn settle(db: &Db) -> anyhow::Result<()> {
    let statement = match cloister::db::backend(db) {
        Backend::Sqlite => "PRAGMA wal_checkpoint(TRUNCATE)",
        Backend::Postgres => "VACUUM (ANALYZE) jobs, videos, job_events, users",
    };
    sqlx::raw_sql(statement)
        .execute(db)
        .await
        .with_context(|| format!("cannot run {statement}"))?;
    Ok(())
}

async fn engine_version(db: &Db) -> anyhow::Result<String> {
    Ok(match cloister::db::backend(db) {
        Backend::Sqlite => {
            let version: String = sqlx::query_scalar("SELECT sqlite_version()")
                .fetch_one(db)
                .await?;
            format!("SQLite {version}")
        }
        Backend::Postgres => sqlx::query_scalar("SELECT version()").fetch_one(db).await?,
    })
}

/// A child worker process and its stdout, read line by line.
struct ChildProcess {
    index: u32,
    process: Child,
    lines: Lines<BufReader<ChildStdout>>,
}

impl ChildProcess {
    /// Starts child `index` on `data` and waits until it has opened the library.
    async fn start(index: u32, data: &Path, url: Option<&str>) -> anyhow::Result<Self> {
        let exe = std::env::current_exe().context("cannot find this program")?;
        let mut command = tokio::process::Command::new(exe);
        command
            .arg("--child")
            .arg(index.to_string())
            .arg("--data")
            .arg(data)
            .env_remove("CLOISTER_BENCH_POSTGRES")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .kill_on_drop(true);
        // The URL goes by the environment, never the command line.
        match url {
            Some(url) => command.env("CLOISTER_DATABASE_URL", url),
            None => command.env_remove("CLOISTER_DATABASE_URL"),
        };
        let mut process = command.spawn().context("cannot start a child")?;
        let stdout = process.stdout.take().context("no stdout")?;
        let mut child = Self {
            index,
            process,
            lines: BufReader::new(stdout).lines(),
        };
        let line = tokio::time::timeout(READY_WITHIN, child.lines.next_line())
            .await
            .with_context(|| format!("child {index} was not ready in time"))??;
        ensure!(
            line.as_deref() == Some("ready"),
            "child {index} said {line:?} instead of ready"
        );
        Ok(child)
    }

    async fn go(&mut self) -> anyhow::Result<()> {
        let stdin = self.process.stdin.as_mut().context("no stdin")?;
        stdin.write_all(b"go\n").await?;
        stdin.flush().await?;
        Ok(())
    }

    /// Waits for the child's report and its exit.
    async fn report(mut self) -> anyhow::Result<Report> {
        let line = self
            .lines
            .next_line()
            .await?
            .with_context(|| format!("child {} ended without a report", self.index))?;
        let status = self.process.wait().await?;
        ensure!(
            status.success(),
            "child {} exited with {status}",
            self.index
        );
        Report::parse(&line).with_context(|| format!("child {}'s report", self.index))
    }
}

/// What a child did: the jobs it claimed, in order, and the time of each part of its steps.
struct Report {
    worker: String,
    claimed: Vec<i64>,
    lost: u64,
    errors: Vec<String>,
    not_finished: u64,
    recovered: u64,
    ended: SystemTime,
    cpu_seconds: f64,
    claim: Vec<Duration>,
    bookkeeping: Vec<Duration>,
    finish: Vec<Duration>,
}

fn micros(durations: &[Duration]) -> Vec<u64> {
    durations
        .iter()
        .map(|d| u64::try_from(d.as_micros()).unwrap_or(u64::MAX))
        .collect()
}

impl Report {
    fn to_json(&self) -> anyhow::Result<Value> {
        let ended = self.ended.duration_since(SystemTime::UNIX_EPOCH)?;
        Ok(json!({
            "worker": self.worker,
            "claimed": self.claimed,
            "lost": self.lost,
            "errors": self.errors,
            "not_finished": self.not_finished,
            "recovered": self.recovered,
            "ended_ns": u64::try_from(ended.as_nanos())?,
            "cpu_seconds": self.cpu_seconds,
            "claim_us": micros(&self.claim),
            "bookkeeping_us": micros(&self.bookkeeping),
            "finish_us": micros(&self.finish),
        }))
    }

    fn parse(line: &str) -> anyhow::Result<Self> {
        let v: Value = serde_json::from_str(line).context("not JSON")?;
        let number = |key: &str| v[key].as_u64().with_context(|| format!("no {key}"));
        let durations = |key: &str| -> anyhow::Result<Vec<Duration>> {
            v[key]
                .as_array()
                .with_context(|| format!("no {key}"))?
                .iter()
                .map(|n| {
                    n.as_u64()
                        .map(Duration::from_micros)
                        .context("not a number")
                })
                .collect()
        };
        Ok(Self {
            worker: v["worker"].as_str().context("no worker")?.to_owned(),
            claimed: v["claimed"]
                .as_array()
                .context("no claimed")?
                .iter()
                .map(|n| n.as_i64().context("not a job id"))
                .collect::<anyhow::Result<_>>()?,
            lost: number("lost")?,
            errors: v["errors"]
                .as_array()
                .context("no errors")?
                .iter()
                .map(|e| e.as_str().unwrap_or("?").to_owned())
                .collect(),
            not_finished: number("not_finished")?,
            recovered: number("recovered")?,
            ended: SystemTime::UNIX_EPOCH + Duration::from_nanos(number("ended_ns")?),
            cpu_seconds: v["cpu_seconds"].as_f64().context("no cpu_seconds")?,
            claim: durations("claim_us")?,
            bookkeeping: durations("bookkeeping_us")?,
            finish: durations("finish_us")?,
        })
    }
}

/// What one step of the loop came to.
enum Step {
    /// Nothing due: the queue is empty (on PostgreSQL: nothing another worker does not hold).
    Empty,
    /// `claim_picked` found the job taken meanwhile (SQLite, where nothing is held from the pick).
    Lost,
    Done {
        job: i64,
        finished: bool,
        bookkeeping: Duration,
        claim: Duration,
        finish: Duration,
    },
}

/// One worker step as `jobs::worker` runs it, without the gate and with empty work.
async fn step(state: &AppState, worker: &str, report: &mut Report) -> anyhow::Result<Step> {
    let started = Instant::now();
    mark_interrupted_jobs(state).await?;
    report.recovered += transitions::recover_lapsed(state).await?.len() as u64;
    let per_gb = eta::seconds_per_gb(&state.db)
        .await?
        .unwrap_or(eta::DEFAULT_SECONDS_PER_GB);
    let picking = Instant::now();
    let Some(picked) = transitions::pick(state).await? else {
        return Ok(Step::Empty);
    };
    let estimate = eta::processing_seconds(picked.candidate.size_bytes, per_gb);
    let Some(job) = transitions::claim_picked(state, picked, worker, estimate).await? else {
        return Ok(Step::Lost);
    };
    let claimed = Instant::now();
    let published = transitions::Published {
        rendition: job.rendition.clone(),
        duration_ms: 1000,
        has_thumb: true,
    };
    let finished = transitions::finish(state, &job, worker, &published).await?;
    if finished {
        let seconds = claimed.elapsed().as_secs_f64();
        eta::record(&state.db, job.id, job.size_bytes, seconds, unix_now()).await?;
    }
    let done = Instant::now();
    Ok(Step::Done {
        job: job.id,
        finished,
        bookkeeping: picking - started,
        claim: claimed - picking,
        finish: done - claimed,
    })
}

/// Child mode: opens the library as `cloister worker` does, says "ready", waits for "go", takes
/// jobs until none is due, prints its report.
async fn child(index: u32, data: &Path) -> anyhow::Result<()> {
    let mut config = Config::with_data_dir(data);
    config.database_url = std::env::var("CLOISTER_DATABASE_URL")
        .ok()
        .filter(|url| !url.is_empty());
    let state = AppState::open(config).await?;
    // Not the `<host>:<pid>:<instance>:<n>` form of real workers, which `mark_interrupted_jobs`
    // would read as a gone process of this host: left to its lease, like another host's worker.
    let worker = format!("claim-bench-{}:{index}:0", std::process::id());
    say("ready")?;
    let go = tokio::task::spawn_blocking(|| {
        let mut line = String::new();
        std::io::stdin().read_line(&mut line).map(|_| line)
    })
    .await??;
    ensure!(go.trim() == "go", "expected go, read {go:?}");
    let cpu_at_go = own_cpu_seconds();

    let mut report = Report {
        worker: worker.clone(),
        claimed: Vec::new(),
        lost: 0,
        errors: Vec::new(),
        not_finished: 0,
        recovered: 0,
        ended: SystemTime::now(),
        cpu_seconds: 0.0,
        claim: Vec::new(),
        bookkeeping: Vec::new(),
        finish: Vec::new(),
    };
    loop {
        match step(&state, &worker, &mut report).await {
            Ok(Step::Empty) => break,
            Ok(Step::Lost) => report.lost += 1,
            Ok(Step::Done {
                job,
                finished,
                bookkeeping,
                claim,
                finish,
            }) => {
                report.claimed.push(job);
                report.not_finished += u64::from(!finished);
                report.bookkeeping.push(bookkeeping);
                report.claim.push(claim);
                report.finish.push(finish);
            }
            // As the worker does: note it and carry on.
            Err(err) => {
                report.errors.push(format!("{err:#}"));
                if report.errors.len() as u64 >= MAX_ERRORS {
                    break;
                }
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
        }
    }
    report.ended = SystemTime::now();
    report.cpu_seconds = own_cpu_seconds() - cpu_at_go;
    state.db.close().await;
    say(&report.to_json()?.to_string())
}

/// One line to the parent, at once.
fn say(line: &str) -> anyhow::Result<()> {
    use std::io::Write as _;
    let mut stdout = std::io::stdout().lock();
    writeln!(stdout, "{line}")?;
    stdout.flush()?;
    Ok(())
}

/// What is wrong with a run: jobs not done exactly once, by the one child that claimed each;
/// children that claimed nothing or whose steps failed.
async fn check(db: &Db, jobs: &[i64], reports: &[Report]) -> anyhow::Result<Vec<String>> {
    let mut problems = Vec::new();
    let mut claimer: HashMap<i64, &str> = HashMap::new();
    for report in reports {
        if report.claimed.is_empty() {
            problems.push(format!("{} claimed no job", report.worker));
        }
        for job in &report.claimed {
            if let Some(other) = claimer.insert(*job, &report.worker) {
                problems.push(format!(
                    "job {job} claimed by {other} and {}",
                    report.worker
                ));
            }
        }
        for error in report.errors.iter().take(3) {
            problems.push(format!("{}: a step failed: {error}", report.worker));
        }
        if report.errors.len() > 3 {
            problems.push(format!(
                "{}: {} more failed steps",
                report.worker,
                report.errors.len() - 3
            ));
        }
        if report.not_finished > 0 {
            problems.push(format!(
                "{}: {} claimed jobs could not be finished",
                report.worker, report.not_finished
            ));
        }
        if report.recovered > 0 {
            problems.push(format!(
                "{}: took back {} lapsed jobs",
                report.worker, report.recovered
            ));
        }
    }
    let expected: HashSet<i64> = jobs.iter().copied().collect();
    let claimed: HashSet<i64> = claimer.keys().copied().collect();
    if claimed != expected {
        problems.push(format!(
            "{} jobs never claimed, {} claimed that were not queued",
            expected.difference(&claimed).count(),
            claimed.difference(&expected).count()
        ));
    }

    let rows: Vec<(i64, String, i64, Option<String>)> =
        sqlx::query_as("SELECT id, status, attempts, worker_id FROM jobs")
            .fetch_all(db)
            .await?;
    if rows.len() != jobs.len() {
        problems.push(format!("{} job rows, {} queued", rows.len(), jobs.len()));
    }
    let mut wrong = Vec::new();
    for (id, status, attempts, holder) in &rows {
        let by_claimer = holder.as_deref() == claimer.get(id).copied();
        if status != "done" || *attempts != 1 || !by_claimer {
            wrong.push(format!(
                "{id}: {status}, {attempts} attempts, held by {holder:?}"
            ));
        }
    }
    if !wrong.is_empty() {
        problems.push(format!(
            "{} jobs not done once by their claimer, e.g. {}",
            wrong.len(),
            wrong[..wrong.len().min(3)].join("; ")
        ));
    }

    let payloads: Vec<String> = sqlx::query_scalar("SELECT payload FROM job_events")
        .fetch_all(db)
        .await?;
    let mut events: HashMap<(i64, String), usize> = HashMap::new();
    for payload in payloads {
        let event: Value = serde_json::from_str(&payload).context("an event that is not JSON")?;
        if let (Some(job), Some(kind)) = (event["job_id"].as_i64(), event["type"].as_str()) {
            *events.entry((job, kind.to_owned())).or_default() += 1;
        }
    }
    let mut uneven = 0;
    for job in jobs {
        for kind in ["job_queued", "job_started", "job_done"] {
            if events.get(&(*job, kind.to_owned())).copied().unwrap_or(0) != 1 {
                uneven += 1;
            }
        }
    }
    let others = events
        .keys()
        .filter(|(_, kind)| !matches!(kind.as_str(), "job_queued" | "job_started" | "job_done"))
        .count();
    if uneven > 0 || others > 0 {
        problems.push(format!(
            "{uneven} (job, event) pairs not recorded exactly once; {others} other kinds of event"
        ));
    }
    Ok(problems)
}

/// CPU time spent so far, in seconds: by the PostgreSQL cluster (the postmaster, its live
/// children, and through the postmaster's `cutime` the backends that have ended), and by the
/// whole machine (busy and all jiffies of `/proc/stat`, all cores). The worker processes' own
/// time, from "go" to the empty queue, comes in their reports.
#[derive(Debug, Clone, Default)]
struct Cpu {
    workers: f64,
    postgres: f64,
    machine_busy: f64,
    machine_wall: f64,
}

impl Cpu {
    fn now(postmaster: Option<u32>) -> anyhow::Result<Self> {
        let ticks = clock_ticks();
        let (busy, all) = machine_jiffies()?;
        let postgres = match postmaster {
            Some(pid) => postgres_jiffies(pid)? as f64 / ticks,
            None => 0.0,
        };
        Ok(Self {
            workers: 0.0,
            postgres,
            machine_busy: busy as f64 / ticks,
            machine_wall: all as f64 / ticks,
        })
    }

    fn since(&self, before: &Self) -> Self {
        Self {
            workers: self.workers - before.workers,
            postgres: self.postgres - before.postgres,
            machine_busy: self.machine_busy - before.machine_busy,
            machine_wall: self.machine_wall - before.machine_wall,
        }
    }
}

fn clock_ticks() -> f64 {
    // SAFETY: sysconf reads a constant of the system.
    let ticks = unsafe { libc::sysconf(libc::_SC_CLK_TCK) };
    if ticks > 0 {
        ticks as f64
    } else {
        100.0
    }
}

/// User and system time of this process, all its threads.
fn own_cpu_seconds() -> f64 {
    // SAFETY: getrusage only fills in the struct it is given, which is plain data.
    let usage = unsafe {
        let mut usage: libc::rusage = std::mem::zeroed();
        libc::getrusage(libc::RUSAGE_SELF, &mut usage);
        usage
    };
    let seconds = |t: libc::timeval| t.tv_sec as f64 + t.tv_usec as f64 / 1e6;
    seconds(usage.ru_utime) + seconds(usage.ru_stime)
}

/// (busy, all) jiffies of every core since boot, from the `cpu` line of `/proc/stat`.
fn machine_jiffies() -> anyhow::Result<(u64, u64)> {
    let stat = std::fs::read_to_string("/proc/stat").context("cannot read /proc/stat")?;
    let line = stat.lines().next().context("an empty /proc/stat")?;
    let fields: Vec<u64> = line
        .split_whitespace()
        .skip(1)
        .take(8)
        .map(|f| f.parse().unwrap_or(0))
        .collect();
    let all: u64 = fields.iter().sum();
    // idle and iowait
    let idle = fields.get(3).copied().unwrap_or(0) + fields.get(4).copied().unwrap_or(0);
    Ok((all - idle, all))
}

/// (ppid, utime + stime + cutime + cstime) of a process, from `/proc/<pid>/stat`.
fn process_jiffies(pid: u32) -> Option<(u32, u64)> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // After the command name in brackets: state, ppid, ... utime is the 14th field of the line.
    let rest = &stat[stat.rfind(')')? + 1..];
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let ppid = fields.get(1)?.parse().ok()?;
    let times = fields
        .get(11..15)?
        .iter()
        .map(|f| f.parse::<u64>().unwrap_or(0))
        .sum();
    Some((ppid, times))
}

/// CPU jiffies of the cluster whose postmaster is `postmaster`: its own, and its children's, live
/// or reaped.
fn postgres_jiffies(postmaster: u32) -> anyhow::Result<u64> {
    let mut total = process_jiffies(postmaster)
        .context("the PostgreSQL postmaster is gone")?
        .1;
    for entry in std::fs::read_dir("/proc").context("cannot read /proc")? {
        let Some(pid) = entry?.file_name().to_str().and_then(|n| n.parse().ok()) else {
            continue;
        };
        if let Some((ppid, times)) = process_jiffies(pid) {
            if ppid == postmaster {
                total += times;
            }
        }
    }
    Ok(total)
}

/// On PostgreSQL on this machine, the postmaster's pid: the parent of this connection's backend.
async fn postmaster_of(db: &Db) -> anyhow::Result<Option<u32>> {
    if cloister::db::backend(db) != Backend::Postgres {
        return Ok(None);
    }
    let backend: i32 = sqlx::query_scalar("SELECT pg_backend_pid()")
        .fetch_one(db)
        .await?;
    Ok(u32::try_from(backend)
        .ok()
        .and_then(process_jiffies)
        .map(|(ppid, _)| ppid))
}

/// `/proc/loadavg`'s 1, 5 and 15-minute averages.
fn load_average() -> anyhow::Result<String> {
    let raw = std::fs::read_to_string("/proc/loadavg").context("cannot read /proc/loadavg")?;
    Ok(raw.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
}

fn median(values: &[f64]) -> f64 {
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    let n = sorted.len();
    match n {
        0 => f64::NAN,
        _ if !n.is_multiple_of(2) => sorted[n / 2],
        _ => (sorted[n / 2 - 1] + sorted[n / 2]) / 2.0,
    }
}

/// Nearest rank, in ms: the smallest sample with at least `p` of them at or below it.
fn percentile_ms(samples: &[Duration], p: f64) -> f64 {
    let mut sorted = samples.to_vec();
    sorted.sort_unstable();
    let n = sorted.len();
    let rank = ((p * n as f64).ceil() as usize).clamp(1, n.max(1));
    sorted
        .get(rank - 1)
        .map_or(f64::NAN, |d| d.as_secs_f64() * 1e3)
}

fn print_table(args: &Args, results: &HashMap<u32, Vec<RunResult>>) {
    let baseline = args.processes[0];
    let base_median = results
        .get(&baseline)
        .map_or(f64::NAN, |runs| median(&rate_of(runs)));
    println!(
        "\n| Processes | Jobs/s, median of {} | Jobs/s, each run | Ratio to {baseline} | Claim p50 ms | \
         Claim p99 ms | Bookkeeping p50 ms | Finish p50 ms | Lost claims | Worker CPU ms/job | \
         PostgreSQL CPU ms/job |",
        args.runs
    );
    println!("|---|---|---|---|---|---|---|---|---|---|---|");
    let mut seen = HashSet::new();
    for &processes in &args.processes {
        if !seen.insert(processes) {
            continue;
        }
        let Some(runs) = results.get(&processes) else {
            continue;
        };
        let rates = rate_of(runs);
        let all = |f: fn(&RunResult) -> &Vec<Duration>| -> Vec<Duration> {
            runs.iter().flat_map(|r| f(r).iter().copied()).collect()
        };
        let claim = all(|r| &r.claim);
        println!(
            "| {processes} | {:.1} | {} | {:.2} | {:.3} | {:.3} | {:.3} | {:.3} | {} | {:.3} | {:.3} |",
            median(&rates),
            rates
                .iter()
                .map(|r| format!("{r:.0}"))
                .collect::<Vec<_>>()
                .join(", "),
            median(&rates) / base_median,
            percentile_ms(&claim, 0.5),
            percentile_ms(&claim, 0.99),
            percentile_ms(&all(|r| &r.bookkeeping), 0.5),
            percentile_ms(&all(|r| &r.finish), 0.5),
            runs.iter().map(|r| r.lost).sum::<u64>(),
            per_job_ms(args, runs, |cpu| cpu.workers),
            per_job_ms(args, runs, |cpu| cpu.postgres),
        );
    }
    // The same ratio run by run: each pair measured minutes apart at most, under the same load.
    if let Some(base_runs) = results.get(&baseline) {
        for &processes in args.processes.iter().filter(|&&p| p != baseline) {
            let Some(runs) = results.get(&processes) else {
                continue;
            };
            let ratios: Vec<String> = runs
                .iter()
                .zip(base_runs)
                .map(|(r, b)| format!("{:.2}", r.jobs_per_sec / b.jobs_per_sec))
                .collect();
            println!(
                "ratio {processes}/{baseline} run by run: {}",
                ratios.join(", ")
            );
        }
    }
}

/// The median over runs of CPU seconds (as `f` picks them) per job, in ms.
fn per_job_ms(args: &Args, runs: &[RunResult], f: fn(&Cpu) -> f64) -> f64 {
    let per_job: Vec<f64> = runs
        .iter()
        .map(|r| f(&r.cpu) * 1e3 / f64::from(args.jobs))
        .collect();
    median(&per_job)
}

fn rate_of(runs: &[RunResult]) -> Vec<f64> {
    runs.iter().map(|r| r.jobs_per_sec).collect()
}
