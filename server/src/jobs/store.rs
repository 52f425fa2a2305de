//! Reading jobs: one row, a video's jobs, or the active queue, as the API's `JobInfo` with queue
//! positions and estimates filled in; and the checks around them that are not state changes of
//! their own: admitting a new job to the queue, confirming a lease before publishing, and marking
//! the jobs of a dead process interrupted.

use crate::db::Db;
use cloister_shared::api::jobs::{JobInfo, JobKind, JobPhase, JobStatus};
use cloister_shared::api::Event;
use cloister_shared::VideoId;
use sqlx::AnyConnection;

use super::eta;
use super::transitions::{commit_announcing, video_of};
use crate::accounts::unix_now;
use crate::error::{AppError, AppResult};
use crate::state::Core;

/// Files under this size may jump ahead of larger ones in the processing queue.
pub const SMALL_FILE_BYTES: u64 = 100 * 1024 * 1024;
/// How long a member told the queue is full is asked to wait before trying again.
const QUEUE_FULL_RETRY_SECS: u64 = 60;

/// Processing jobs not finished yet.
pub const ACTIVE: &str = "('queued', 'waiting_resource', 'running')";

const COLUMNS: &str = "j.id, j.video_id, j.kind, j.status, j.phase, j.percent, j.attempts,
    j.priority, j.queued_at, j.started_at, j.finished_at, j.retry_at, j.eta_seconds, j.error,
    j.wait_reason, j.deferred_since, j.size_bytes, u.username, v.owner_id";

/// A job row as stored.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct JobRow {
    pub id: i64,
    pub video_id: String,
    pub kind: String,
    pub status: String,
    pub phase: Option<String>,
    pub percent: f64,
    pub attempts: i64,
    pub priority: i64,
    pub queued_at: i64,
    pub started_at: Option<i64>,
    pub finished_at: Option<i64>,
    pub retry_at: Option<i64>,
    pub eta_seconds: Option<i64>,
    pub error: Option<String>,
    pub wait_reason: Option<String>,
    pub deferred_since: Option<i64>,
    pub size_bytes: i64,
    pub username: String,
    pub owner_id: i64,
}

impl JobRow {
    pub fn status(&self) -> AppResult<JobStatus> {
        JobStatus::parse(&self.status)
            .ok_or_else(|| AppError::Internal(format!("job {} has a bad status", self.id)))
    }

    pub fn video(&self) -> AppResult<VideoId> {
        VideoId::parse(&self.video_id)
            .map_err(|_| AppError::Internal(format!("job {} has a bad video id", self.id)))
    }
}

/// Decodes the stored reasons (a JSON array of strings).
pub fn decode_reasons(stored: Option<&str>) -> Vec<String> {
    stored
        .and_then(|s| serde_json::from_str(s).ok())
        .unwrap_or_default()
}

/// What list and estimate need to know about the machine and the rules.
#[derive(Debug, Clone, Copy)]
pub struct QueueRules {
    pub max_attempts: u32,
    pub overdue_after_secs: u64,
    pub workers: u32,
}

#[tracing::instrument(level = "debug", skip_all, fields(job = job_id))]
pub async fn load(db: &Db, job_id: i64) -> AppResult<JobRow> {
    sqlx::query_as(&format!(
        "SELECT {COLUMNS} FROM jobs j JOIN videos v ON v.id = j.video_id
         JOIN users u ON u.id = v.owner_id WHERE j.id = $1"
    ))
    .bind(job_id)
    .fetch_optional(db)
    .await?
    .ok_or_else(|| AppError::NotFound("There is no such job.".to_owned()))
}

/// The active queue in the order workers take it, then the rest of what was asked for.
async fn rows(db: &Db, video: Option<&VideoId>, active_only: bool) -> AppResult<Vec<JobRow>> {
    let mut sql = format!(
        "SELECT {COLUMNS} FROM jobs j JOIN videos v ON v.id = j.video_id
         JOIN users u ON u.id = v.owner_id WHERE j.kind = 'process'"
    );
    if active_only {
        sql.push_str(&format!(" AND j.status IN {ACTIVE}"));
    }
    if video.is_some() {
        sql.push_str(" AND j.video_id = $1");
    }
    sql.push_str(" ORDER BY j.id DESC LIMIT 500");
    let mut query = sqlx::query_as(&sql);
    if let Some(video) = video {
        query = query.bind(video.to_string());
    }
    Ok(query.fetch_all(db).await?)
}

/// The active queue, every job, in the order workers will take it.
async fn queue(db: &Db) -> AppResult<Vec<JobRow>> {
    Ok(sqlx::query_as(&format!(
        "SELECT {COLUMNS} FROM jobs j JOIN videos v ON v.id = j.video_id
         JOIN users u ON u.id = v.owner_id
         WHERE j.kind = 'process' AND j.status IN {ACTIVE}
         ORDER BY j.status = 'running' DESC, j.priority DESC, j.queued_at, j.id"
    ))
    .fetch_all(db)
    .await?)
}

/// Positions and estimates for every active job, computed together: a queued job's wait is the
/// work ahead of it shared among the workers.
struct Estimates {
    by_job: std::collections::HashMap<i64, (Option<u64>, u64)>,
}

impl Estimates {
    async fn compute(db: &Db, rules: QueueRules) -> AppResult<Self> {
        let per_gb = eta::seconds_per_gb(db)
            .await?
            .unwrap_or(eta::DEFAULT_SECONDS_PER_GB);
        let now = unix_now();
        let workers = u64::from(rules.workers.max(1));
        let mut by_job = std::collections::HashMap::new();
        let mut work_ahead: u64 = 0;
        let mut position = 0;
        for row in queue(db).await? {
            let size = u64::try_from(row.size_bytes).unwrap_or(0);
            let own = eta::processing_seconds(size, per_gb);
            if row.status == "running" {
                let elapsed = u64::try_from(now - row.started_at.unwrap_or(now)).unwrap_or(0);
                let left = eta::remaining_seconds(own, elapsed, row.percent as f32);
                work_ahead += left;
                by_job.insert(row.id, (None, left));
            } else {
                position += 1;
                let wait_for_gate = u64::try_from(row.retry_at.unwrap_or(now) - now).unwrap_or(0);
                let wait = (work_ahead / workers).max(wait_for_gate);
                by_job.insert(row.id, (Some(position), wait + own));
                work_ahead += own;
            }
        }
        Ok(Self { by_job })
    }
}

fn info(row: JobRow, estimates: &Estimates, rules: QueueRules) -> AppResult<JobInfo> {
    let status = row.status()?;
    let (queue_position, eta_seconds) = match estimates.by_job.get(&row.id) {
        Some((position, eta)) => (*position, Some(*eta)),
        None => (None, None),
    };
    let now = unix_now();
    let overdue = status == JobStatus::WaitingResource
        && row.deferred_since.is_some_and(|since| {
            u64::try_from(now - since).unwrap_or(0) >= rules.overdue_after_secs
        });
    Ok(JobInfo {
        job_id: row.id,
        video_id: row.video()?,
        kind: if row.kind == "download" {
            JobKind::Download
        } else {
            JobKind::Process
        },
        status,
        phase: row.phase.as_deref().and_then(JobPhase::parse),
        percent: row.percent as f32,
        attempts: u32::try_from(row.attempts).unwrap_or(0),
        max_attempts: rules.max_attempts,
        priority: row.priority,
        queued_at: row.queued_at,
        started_at: row.started_at,
        finished_at: row.finished_at,
        retry_at: row.retry_at.filter(|_| !status.is_final()),
        eta_seconds: eta_seconds.filter(|_| !status.is_final()),
        queue_position,
        error: row.error,
        wait_reasons: if status == JobStatus::WaitingResource {
            decode_reasons(row.wait_reason.as_deref())
        } else {
            Vec::new()
        },
        overdue,
        size_bytes: u64::try_from(row.size_bytes).unwrap_or(0),
        owner: row.username,
    })
}

#[tracing::instrument(level = "debug", skip_all, fields(job = job_id))]
pub async fn one(db: &Db, job_id: i64, rules: QueueRules) -> AppResult<JobInfo> {
    let row = load(db, job_id).await?;
    let estimates = Estimates::compute(db, rules).await?;
    info(row, &estimates, rules)
}

/// Newest first: the active queue, or a video's jobs, or the last 500 jobs.
#[tracing::instrument(level = "debug", skip_all, fields(video = video.map(tracing::field::display), active_only = active_only))]
pub async fn list(
    db: &Db,
    video: Option<&VideoId>,
    active_only: bool,
    rules: QueueRules,
) -> AppResult<Vec<JobInfo>> {
    let estimates = Estimates::compute(db, rules).await?;
    rows(db, video, active_only)
        .await?
        .into_iter()
        .map(|row| info(row, &estimates, rules))
        .collect()
}

/// Processing jobs queued, waiting or running; and of those, running.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn counts(db: &Db) -> AppResult<(u64, u64)> {
    let (active, running): (i64, i64) = sqlx::query_as(&format!(
        "SELECT COUNT(*),
                CAST(COALESCE(SUM(CASE WHEN status = 'running' THEN 1 ELSE 0 END), 0) AS BIGINT)
         FROM jobs
         WHERE kind = 'process' AND status IN {ACTIVE}"
    ))
    .fetch_one(db)
    .await?;
    Ok((
        u64::try_from(active).unwrap_or(0),
        u64::try_from(running).unwrap_or(0),
    ))
}

/// Admits a new processing job of `owner` for a file of `size_bytes`, inside the transaction that
/// queues it: SQLite's write lock, or on PostgreSQL a lock on the owner's row (`lock_owner`), keeps
/// two completes from both squeezing under the limit. Refuses with 429 when the owner has `max_active` jobs queued, waiting or running.
/// Returns the job's priority: the small-file bonus goes to a member's small file only while no
/// other small file of theirs holds it in the queue, so a flood of tiny uploads gets one place
/// ahead, not all of them (docs/decisions.md).
#[tracing::instrument(level = "debug", skip_all, fields(owner = owner, size = size_bytes))]
pub async fn admit(
    conn: &mut AnyConnection,
    owner: i64,
    size_bytes: u64,
    max_active: u32,
) -> AppResult<i64> {
    lock_owner(conn, owner).await?;
    let (active, bonus_held): (i64, i64) = sqlx::query_as(&format!(
        "SELECT COUNT(*),
                CAST(COALESCE(SUM(CASE WHEN j.status <> 'running' AND j.priority >= 1
                                        AND j.size_bytes < $1 THEN 1 ELSE 0 END), 0) AS BIGINT)
         FROM jobs j JOIN videos v ON v.id = j.video_id
         WHERE v.owner_id = $2 AND j.kind = 'process' AND j.status IN {ACTIVE}"
    ))
    .bind(i64::try_from(SMALL_FILE_BYTES).unwrap_or(i64::MAX))
    .bind(owner)
    .fetch_one(&mut *conn)
    .await?;
    if active >= i64::from(max_active) {
        return Err(AppError::TooManyRequests {
            message: format!(
                "You already have {active} video{} waiting to be processed (at most {max_active}). \
                 Your upload is kept: complete it again once some of them are done.",
                if active == 1 { "" } else { "s" }
            ),
            retry_after_secs: QUEUE_FULL_RETRY_SECS,
        });
    }
    Ok(i64::from(size_bytes < SMALL_FILE_BYTES && bonus_held == 0))
}

/// Whether `conn` talks to PostgreSQL, where concurrent writers need explicit locks.
pub fn on_postgres(conn: &AnyConnection) -> bool {
    conn.backend_name() == "PostgreSQL"
}

/// On PostgreSQL, locks `owner`'s users row until the transaction ends, so checks of what the
/// owner holds (quota, active jobs) and the write they admit cannot interleave with another
/// request of theirs. SQLite needs nothing: a writing transaction already excludes every other.
#[tracing::instrument(level = "debug", skip_all, fields(owner = owner))]
pub async fn lock_owner(conn: &mut AnyConnection, owner: i64) -> AppResult<()> {
    if on_postgres(conn) {
        sqlx::query("SELECT id FROM users WHERE id = $1 FOR NO KEY UPDATE")
            .bind(owner)
            .fetch_optional(&mut *conn)
            .await?;
    }
    Ok(())
}

/// Now, for leases: on PostgreSQL the database's clock, so workers on several hosts measure
/// every lease by one clock; on SQLite (one host) this process's.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn clock(conn: &mut AnyConnection) -> AppResult<i64> {
    if !on_postgres(conn) {
        return Ok(unix_now());
    }
    Ok(
        sqlx::query_scalar("SELECT CAST(FLOOR(EXTRACT(EPOCH FROM now())) AS BIGINT)")
            .fetch_one(conn)
            .await?,
    )
}

/// Right before publishing: renews the lease of attempt `attempt` of `job_id` if `worker` still
/// holds it, live. False when the lease lapsed or went to another attempt: the caller must not
/// publish.
#[tracing::instrument(level = "debug", skip_all, fields(job = job_id, worker = worker, attempt = attempt))]
pub async fn renew_before_publishing(
    db: &Db,
    job_id: i64,
    worker: &str,
    attempt: u32,
    lease_secs: u64,
) -> AppResult<bool> {
    let mut conn = db.acquire().await?;
    let now = clock(&mut conn).await?;
    let updated = sqlx::query(
        "UPDATE jobs SET lease_until = $1
         WHERE id = $2 AND worker_id = $3 AND attempts = $4 AND status = 'running'
           AND lease_until >= $5",
    )
    .bind(now + i64::try_from(lease_secs).unwrap_or(30))
    .bind(job_id)
    .bind(worker)
    .bind(i64::from(attempt))
    .bind(now)
    .execute(&mut *conn)
    .await?;
    Ok(updated.rows_affected() == 1)
}

/// Running jobs not yet marked interrupted, with the worker holding each.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn running_holders(db: &Db) -> AppResult<Vec<(i64, String)>> {
    Ok(sqlx::query_as(
        "SELECT id, worker_id FROM jobs
         WHERE kind = 'process' AND status = 'running' AND worker_id IS NOT NULL
           AND COALESCE(phase, '') <> 'interrupted'",
    )
    .fetch_all(db)
    .await?)
}

/// The worker holding `job_id` is gone: the job shows "interrupted, resuming" until its lease
/// lapses and a worker takes it up again. True if it was marked.
#[tracing::instrument(level = "debug", skip_all, fields(job = job_id, worker = worker))]
pub async fn mark_interrupted(core: &Core, job_id: i64, worker: &str) -> AppResult<bool> {
    let now = unix_now();
    let mut tx = core.db.begin().await?;
    let video: Option<String> = sqlx::query_scalar(
        "UPDATE jobs SET phase = $1, percent = 0, eta_seconds = NULL
         WHERE id = $2 AND worker_id = $3 AND status = 'running'
           AND COALESCE(phase, '') <> 'interrupted'
         RETURNING video_id",
    )
    .bind(JobPhase::Interrupted.as_str())
    .bind(job_id)
    .bind(worker)
    .fetch_optional(&mut *tx)
    .await?;
    let Some(video) = video else {
        return Ok(false);
    };
    let event = Event::JobProgress {
        job_id,
        video_id: video_of(&video)?,
        phase: JobPhase::Interrupted,
        percent: 0.0,
        eta_seconds: None,
    };
    commit_announcing(core, tx, event, now).await?;
    Ok(true)
}

/// The rendition `video` plays. An error when it has none yet (the column is NULL): callers
/// treat that like a missing video.
#[tracing::instrument(level = "debug", skip_all, fields(video = %video))]
pub async fn published_rendition(db: &Db, video: &VideoId) -> sqlx::Result<Option<String>> {
    sqlx::query_scalar("SELECT rendition FROM videos WHERE id = $1")
        .bind(video.to_string())
        .fetch_optional(db)
        .await
}

/// The rendition of `job_id` if it is running under a lease still live at `now`.
#[tracing::instrument(level = "debug", skip_all, fields(job = job_id))]
pub async fn live_rendition(db: &Db, job_id: i64, now: i64) -> AppResult<Option<Option<String>>> {
    Ok(sqlx::query_scalar(
        "SELECT rendition FROM jobs WHERE id = $1 AND status = 'running' AND lease_until >= $2",
    )
    .bind(job_id)
    .bind(now)
    .fetch_optional(db)
    .await?)
}

/// (size_bytes, chunk_size) of `video`'s original, if the video exists.
#[tracing::instrument(level = "debug", skip_all, fields(video = %video))]
pub async fn original_layout(db: &Db, video: &VideoId) -> sqlx::Result<Option<(i64, i64)>> {
    sqlx::query_as("SELECT size_bytes, chunk_size FROM videos WHERE id = $1")
        .bind(video.to_string())
        .fetch_optional(db)
        .await
}

/// When the longest-waiting job the gate holds back was first deferred, if any waits.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn oldest_deferral(db: &Db) -> AppResult<Option<i64>> {
    Ok(sqlx::query_scalar(
        "SELECT MIN(deferred_since) FROM jobs
         WHERE kind = 'process' AND status = 'waiting_resource'",
    )
    .fetch_one(db)
    .await?)
}
