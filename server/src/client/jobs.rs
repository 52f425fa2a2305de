//! Jobs and the server's load, from the client's side.

use cloister_shared::api::jobs::{JobInfo, JobList, LoadStatus};
use reqwest::Method;

use super::{ApiClient, ClientError};

impl ApiClient {
    /// Active jobs, or the last ones of every state with `all`.
    pub async fn jobs(&self, all: bool) -> Result<JobList, ClientError> {
        let path = if all {
            "/api/jobs"
        } else {
            "/api/jobs?active=true"
        };
        self.call(self.request(Method::GET, path)).await
    }

    pub async fn job(&self, id: i64) -> Result<JobInfo, ClientError> {
        self.call(self.request(Method::GET, &format!("/api/jobs/{id}")))
            .await
    }

    pub async fn load_status(&self) -> Result<LoadStatus, ClientError> {
        self.call(self.request(Method::GET, "/api/status/load"))
            .await
    }
}
