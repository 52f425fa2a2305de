//! What the workers of this process share with the HTTP handlers: a wake-up for new work, and the
//! cancel handles of running jobs so a cancel stops ffmpeg at once (a worker in another process
//! notices at its next heartbeat instead).

use std::collections::HashMap;
use std::sync::Mutex;

use tokio::sync::watch;
use tokio_util::sync::CancellationToken;

pub struct JobRuntime {
    wake: watch::Sender<u64>,
    running: Mutex<HashMap<i64, CancellationToken>>,
}

impl Default for JobRuntime {
    fn default() -> Self {
        Self {
            wake: watch::channel(0).0,
            running: Mutex::new(HashMap::new()),
        }
    }
}

impl JobRuntime {
    /// New work may be there: idle workers look now. (A watch cannot lose a wake-up between a
    /// worker's check and its wait.)
    pub fn wake_workers(&self) {
        self.wake.send_modify(|n| *n = n.wrapping_add(1));
    }

    pub fn subscribe(&self) -> watch::Receiver<u64> {
        self.wake.subscribe()
    }

    /// Makes a running job cancellable from here until the returned guard is dropped.
    pub fn register(&self, job_id: i64, token: CancellationToken) -> Registered<'_> {
        if let Ok(mut running) = self.running.lock() {
            running.insert(job_id, token);
        }
        Registered {
            runtime: self,
            job_id,
        }
    }

    fn unregister(&self, job_id: i64) {
        if let Ok(mut running) = self.running.lock() {
            running.remove(&job_id);
        }
    }

    /// Stops the job's ffmpeg if it runs in this process; true if it did.
    pub fn cancel_running(&self, job_id: i64) -> bool {
        let token = self
            .running
            .lock()
            .ok()
            .and_then(|running| running.get(&job_id).cloned());
        token.map(|t| t.cancel()).is_some()
    }
}

/// A job registered as running in this process; unregistered when dropped, however the attempt
/// ended.
pub struct Registered<'a> {
    runtime: &'a JobRuntime,
    job_id: i64,
}

impl Drop for Registered<'_> {
    fn drop(&mut self) {
        self.runtime.unregister(self.job_id);
    }
}
