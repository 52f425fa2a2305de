//! The one estimate members read while the server is busy: "probably within N minutes". The rule
//! (docs/decisions.md, "One place for each piece of news") gives a number only when the server
//! knows enough to mean it, and `None` otherwise, which the banner says as "when the server is
//! less busy".

use crate::db::Db;
use cloister_shared::api::{JobInfo, JobKind, JobStatus};

use crate::error::AppResult;

/// What the server knows when it is asked how long the busy spell will hold videos back.
#[derive(Debug, Clone, PartialEq)]
pub struct BusyFacts {
    /// The median pace of recent finished jobs; `None` before any finished (the built-in pace is
    /// a guess, not a measurement).
    pub measured_seconds_per_gb: Option<f64>,
    /// Each active processing job's time until done, as the queue listing estimates it: the
    /// gate's next recheck or the work ahead shared among the workers, then its own work.
    pub job_etas: Vec<Option<u64>>,
    /// A held-back job has waited past the overdue limit: the spell is not a short one.
    pub any_overdue: bool,
    /// How long the oldest held-back job has been held (seconds).
    pub busy_for_secs: u64,
    /// Free disk is among the reasons: it does not come back by itself.
    pub disk_short: bool,
    /// The machine could be read at all.
    pub readable: bool,
}

/// Seconds until everything queued now is probably processed, or `None` when an honest number
/// cannot be given. A busy spell that has lasted `t` is expected to last about `t` more (and at
/// least until the gate's next recheck, which the job estimates already count).
pub fn busy_estimate(facts: &BusyFacts) -> Option<u64> {
    if facts.measured_seconds_per_gb.is_none()
        || facts.any_overdue
        || facts.disk_short
        || !facts.readable
        || facts.job_etas.is_empty()
    {
        return None;
    }
    let mut longest = 0u64;
    for eta in &facts.job_etas {
        longest = longest.max((*eta)?);
    }
    Some(longest.saturating_add(facts.busy_for_secs))
}

/// The facts about the processing queue, from the active jobs as `GET /api/jobs` lists them.
pub async fn queue_facts(
    db: &Db,
    active_jobs: &[JobInfo],
    now: i64,
) -> AppResult<(Vec<Option<u64>>, bool, u64)> {
    let processing = || {
        active_jobs
            .iter()
            .filter(|job| job.kind == JobKind::Process)
    };
    let etas = processing().map(|job| job.eta_seconds).collect();
    let overdue = processing().any(|job| job.status == JobStatus::WaitingResource && job.overdue);
    let since = crate::jobs::store::oldest_deferral(db).await?;
    let busy_for = since.map_or(0, |since| u64::try_from(now - since).unwrap_or(0));
    Ok((etas, overdue, busy_for))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn facts() -> BusyFacts {
        BusyFacts {
            measured_seconds_per_gb: Some(120.0),
            job_etas: vec![Some(40), Some(200), Some(90)],
            any_overdue: false,
            busy_for_secs: 60,
            disk_short: false,
            readable: true,
        }
    }

    #[test]
    fn the_estimate_is_the_last_job_plus_the_spell_so_far() {
        assert_eq!(busy_estimate(&facts()), Some(260));
    }

    #[test]
    fn no_number_without_knowledge() {
        let cases = [
            BusyFacts {
                measured_seconds_per_gb: None,
                ..facts()
            },
            BusyFacts {
                any_overdue: true,
                ..facts()
            },
            BusyFacts {
                disk_short: true,
                ..facts()
            },
            BusyFacts {
                readable: false,
                ..facts()
            },
            BusyFacts {
                job_etas: Vec::new(),
                ..facts()
            },
            BusyFacts {
                job_etas: vec![Some(10), None],
                ..facts()
            },
        ];
        for case in cases {
            assert_eq!(busy_estimate(&case), None, "{case:?}");
        }
    }
}
