//! Who holds a running job: worker ids that stay unique across restarts, and telling when the
//! process behind one is gone, so its job shows "interrupted, resuming" (docs/processing.md).

use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::OnceLock;

use super::store;
use crate::error::AppResult;
use crate::state::Core;

static WORKER_SERIAL: AtomicU32 = AtomicU32::new(0);

/// This process among all that ever ran here: its start time. A pid alone is not enough, since a
/// restarted container often gets the same one.
fn process_instance() -> &'static str {
    static INSTANCE: OnceLock<String> = OnceLock::new();
    INSTANCE.get_or_init(|| {
        let started = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos());
        format!("{started:x}")
    })
}

fn host_name() -> String {
    rustix::system::uname()
        .nodename()
        .to_string_lossy()
        .into_owned()
}

/// `<host>:<pid>:<instance>:<n>`: unique among the workers sharing a database, ever.
pub(super) fn worker_id() -> String {
    let n = WORKER_SERIAL.fetch_add(1, Ordering::Relaxed);
    format!(
        "{}:{}:{}:{n}",
        host_name(),
        std::process::id(),
        process_instance()
    )
}

/// Whether `worker` was a worker of a process of this host that is no longer running. Workers of
/// other hosts, or ids in another form, are left to their lease.
fn holder_is_gone(worker: &str) -> bool {
    let mut parts = worker.rsplitn(4, ':');
    let (Some(_n), Some(instance), Some(pid), Some(host)) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return false;
    };
    let Some(pid) = pid.parse::<u32>().ok() else {
        return false;
    };
    if host != host_name() {
        return false;
    }
    if pid == std::process::id() {
        return instance != process_instance();
    }
    let Some(pid) = i32::try_from(pid)
        .ok()
        .and_then(rustix::process::Pid::from_raw)
    else {
        return false;
    };
    // No such process; a process of another user (EPERM) still runs.
    matches!(
        rustix::process::test_kill_process(pid),
        Err(rustix::io::Errno::SRCH)
    )
}

/// Running jobs whose worker process of this host is gone show "interrupted, resuming" at once
/// rather than their last phase until the lease lapses.
pub async fn mark_interrupted_jobs(core: &Core) -> AppResult<()> {
    for (job, worker) in store::running_holders(&core.db).await? {
        if holder_is_gone(&worker) && store::mark_interrupted(core, job, &worker).await? {
            tracing::warn!(
                job,
                "the process running this job is gone; it will be resumed"
            );
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_a_gone_process_of_this_host_counts_as_gone() {
        let mine = worker_id();
        assert!(!holder_is_gone(&mine), "this process's own worker");
        let pid = std::process::id();
        let host = host_name();
        assert!(
            holder_is_gone(&format!("{host}:{pid}:0:0")),
            "this pid under another start: a restarted container"
        );
        assert!(!holder_is_gone(&format!("elsewhere-{host}:{pid}:0:0")));
        assert!(!holder_is_gone("dead:1:0"), "another form");
        assert!(!holder_is_gone(&format!("{host}:x:0:0")));
    }
}
