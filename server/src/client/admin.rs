//! The admin console's API, from the client's side (`cloister admin …`).

use cloister_shared::api::admin::{
    AdminJob, AdminJobList, CleanRequest, CleanResult, CleanupKind, HousekeepingReport,
    MachineStatus, PriorityRequest, RetryJobRequest, SpeedHistory, StorageReport,
};
use cloister_shared::api::JobInfo;
use reqwest::Method;

use super::{ApiClient, ClientError};
use cloister_shared::protocol::paths;

impl ApiClient {
    pub async fn admin_jobs(&self, active_only: bool) -> Result<AdminJobList, ClientError> {
        let path = paths::admin_jobs(active_only);
        self.call(self.request(Method::GET, path)).await
    }

    /// `dek_hex` goes in the body, never in the URL.
    pub async fn retry_job(&self, id: i64, dek_hex: String) -> Result<AdminJob, ClientError> {
        let body = RetryJobRequest { dek: dek_hex };
        self.post(Method::POST, &paths::admin_job_retry(id), &body)
            .await
    }

    pub async fn kill_job(&self, id: i64) -> Result<AdminJob, ClientError> {
        self.call(self.request(Method::POST, &paths::admin_job_kill(id)))
            .await
    }

    pub async fn cancel_job(&self, id: i64) -> Result<JobInfo, ClientError> {
        self.call(self.request(Method::POST, &paths::job_cancel(id)))
            .await
    }

    pub async fn set_job_priority(
        &self,
        id: i64,
        request: PriorityRequest,
    ) -> Result<AdminJob, ClientError> {
        self.post(Method::POST, &paths::admin_job_priority(id), &request)
            .await
    }

    pub async fn machine(&self) -> Result<MachineStatus, ClientError> {
        self.call(self.request(Method::GET, paths::ADMIN_MACHINE))
            .await
    }

    pub async fn speed_history(&self) -> Result<SpeedHistory, ClientError> {
        self.call(self.request(Method::GET, paths::ADMIN_SPEED))
            .await
    }

    pub async fn storage_report(&self) -> Result<StorageReport, ClientError> {
        self.call(self.request(Method::GET, paths::ADMIN_STORAGE))
            .await
    }

    pub async fn housekeeping(&self) -> Result<HousekeepingReport, ClientError> {
        self.call(self.request(Method::GET, paths::ADMIN_HOUSEKEEPING))
            .await
    }

    pub async fn clean(&self, kind: CleanupKind) -> Result<CleanResult, ClientError> {
        self.post(
            Method::POST,
            paths::ADMIN_HOUSEKEEPING_CLEAN,
            &CleanRequest { kind },
        )
        .await
    }
}
