//! Reading jobs: one row, a video's jobs, or the active queue, as the API's `JobInfo` with queue
//! positions and estimates filled in.

use cloister_shared::api::jobs::{JobInfo, JobKind, JobPhase, JobStatus};
use cloister_shared::VideoId;
use sqlx::SqlitePool;

use super::eta;
use crate::accounts::unix_now;
use crate::error::{AppError, AppResult};

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

pub async fn load(db: &SqlitePool, job_id: i64) -> AppResult<JobRow> {
    sqlx::query_as(&format!(
        "SELECT {COLUMNS} FROM jobs j JOIN videos v ON v.id = j.video_id
         JOIN users u ON u.id = v.owner_id WHERE j.id = ?"
    ))
    .bind(job_id)
    .fetch_optional(db)
    .await?
    .ok_or_else(|| AppError::NotFound("There is no such job.".to_owned()))
}

/// The active queue in the order workers take it, then the rest of what was asked for.
async fn rows(
    db: &SqlitePool,
    video: Option<&VideoId>,
    active_only: bool,
) -> AppResult<Vec<JobRow>> {
    let mut sql = format!(
        "SELECT {COLUMNS} FROM jobs j JOIN videos v ON v.id = j.video_id
         JOIN users u ON u.id = v.owner_id WHERE j.kind = 'process'"
    );
    if active_only {
        sql.push_str(&format!(" AND j.status IN {ACTIVE}"));
    }
    if video.is_some() {
        sql.push_str(" AND j.video_id = ?");
    }
    sql.push_str(" ORDER BY j.id DESC LIMIT 500");
    let mut query = sqlx::query_as(&sql);
    if let Some(video) = video {
        query = query.bind(video.to_string());
    }
    Ok(query.fetch_all(db).await?)
}

/// The active queue, every job, in the order workers will take it.
async fn queue(db: &SqlitePool) -> AppResult<Vec<JobRow>> {
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
    async fn compute(db: &SqlitePool, rules: QueueRules) -> AppResult<Self> {
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

pub async fn one(db: &SqlitePool, job_id: i64, rules: QueueRules) -> AppResult<JobInfo> {
    let row = load(db, job_id).await?;
    let estimates = Estimates::compute(db, rules).await?;
    info(row, &estimates, rules)
}

/// Newest first: the active queue, or a video's jobs, or the last 500 jobs.
pub async fn list(
    db: &SqlitePool,
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
pub async fn counts(db: &SqlitePool) -> AppResult<(u64, u64)> {
    let (active, running): (i64, i64) = sqlx::query_as(&format!(
        "SELECT COUNT(*), COALESCE(SUM(status = 'running'), 0) FROM jobs
         WHERE kind = 'process' AND status IN {ACTIVE}"
    ))
    .fetch_one(db)
    .await?;
    Ok((
        u64::try_from(active).unwrap_or(0),
        u64::try_from(running).unwrap_or(0),
    ))
}
