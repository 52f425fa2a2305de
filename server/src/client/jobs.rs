//! Jobs and the server's load, from the client's side.

use cloister_shared::api::jobs::{JobInfo, JobList, LoadStatus};
use reqwest::Method;

use super::{ApiClient, ClientError};
use cloister_shared::protocol::paths;

impl ApiClient {
    /// Active jobs, or the last ones of every state with `all`.
    pub async fn jobs(&self, all: bool) -> Result<JobList, ClientError> {
        let path = paths::jobs(!all);
        self.call(self.request(Method::GET, path)).await
    }

    pub async fn job(&self, id: i64) -> Result<JobInfo, ClientError> {
        self.call(self.request(Method::GET, &paths::job(id))).await
    }

    pub async fn load_status(&self) -> Result<LoadStatus, ClientError> {
        self.call(self.request(Method::GET, paths::STATUS_LOAD))
            .await
    }
}
