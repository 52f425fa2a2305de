//! Reading videos from the client's side: one video's metadata and its sealed original.

use cloister_shared::api::downloads::{DownloadInfo, StartDownloadRequest};
use cloister_shared::api::trash::{TrashList, TrashState};
use cloister_shared::api::VideoSummary;
use cloister_shared::VideoId;
use reqwest::Method;

use super::{ApiClient, ClientError};
use cloister_shared::protocol::paths;

impl ApiClient {
    pub async fn video(&self, video: &VideoId) -> Result<VideoSummary, ClientError> {
        self.call(self.request(Method::GET, &paths::video(video)))
            .await
    }

    /// The sealed original as a streaming response: the caller reads it piece by piece.
    pub async fn sealed_original(&self, video: &VideoId) -> Result<reqwest::Response, ClientError> {
        self.stream(&paths::video_original(video)).await
    }

    /// Asks the server to decrypt `video` for one download (server custody of the DEK).
    pub async fn start_download(
        &self,
        video: &VideoId,
        request: &StartDownloadRequest,
    ) -> Result<DownloadInfo, ClientError> {
        self.post(Method::POST, &paths::video_download(video), request)
            .await
    }

    /// A ready download's decrypted bytes as a streaming response.
    pub async fn download_file(&self, url: &str) -> Result<reqwest::Response, ClientError> {
        self.stream(url).await
    }

    /// Moves `video` to the trash (docs/api.md, "Trash").
    pub async fn trash_video(&self, video: &VideoId) -> Result<TrashState, ClientError> {
        self.call(self.request(Method::POST, &paths::video_trash(video)))
            .await
    }

    pub async fn restore_video(&self, video: &VideoId) -> Result<TrashState, ClientError> {
        self.call(self.request(Method::POST, &paths::video_restore(video)))
            .await
    }

    /// Deletes `video` for good (`DELETE`, answered with no body).
    pub async fn purge_video(&self, video: &VideoId) -> Result<(), ClientError> {
        let response = self
            .request(Method::DELETE, &paths::video(video))
            .send()
            .await
            .map_err(|err| self.unreachable(&err))?;
        let status = response.status();
        if status.is_success() {
            return Ok(());
        }
        let body = response
            .bytes()
            .await
            .map_err(|err| self.unreachable(&err))?;
        Err(self.api_error(status, &body))
    }

    pub async fn trash(&self) -> Result<TrashList, ClientError> {
        self.call(self.request(Method::GET, paths::TRASH)).await
    }

    async fn stream(&self, path: &str) -> Result<reqwest::Response, ClientError> {
        let response = self
            .request(Method::GET, path)
            .send()
            .await
            .map_err(|err| self.unreachable(&err))?;
        let status = response.status();
        if status.is_success() {
            return Ok(response);
        }
        let bytes = response
            .bytes()
            .await
            .map_err(|err| self.unreachable(&err))?;
        Err(self.api_error(status, &bytes))
    }
}
