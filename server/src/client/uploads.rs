//! The upload protocol and the library listing, from the client's side.

use bytes::Bytes;
use cloister_shared::api::{
    ChunkStored, CompleteUploadRequest, CreateUploadRequest, UploadCompleted, UploadCreated,
    UploadState, VideoPage,
};
use cloister_shared::VideoId;
use reqwest::{Method, StatusCode};

use super::{ApiClient, ClientError};
use cloister_shared::protocol::paths;

impl ApiClient {
    pub async fn create_upload(
        &self,
        body: &CreateUploadRequest,
    ) -> Result<UploadCreated, ClientError> {
        self.post(Method::POST, paths::UPLOADS, body).await
    }

    /// The caller's unfinished upload with this fingerprint, if there is one.
    pub async fn find_upload(
        &self,
        fingerprint_hex: &str,
    ) -> Result<Option<UploadState>, ClientError> {
        let path = paths::upload_by_fingerprint(fingerprint_hex);
        match self.call(self.request(Method::GET, &path)).await {
            Ok(state) => Ok(Some(state)),
            Err(ClientError::Api { status, .. }) if status == StatusCode::NOT_FOUND => Ok(None),
            Err(err) => Err(err),
        }
    }

    /// Sends one sealed chunk (`Bytes`, so a retry does not copy it).
    pub async fn put_chunk(
        &self,
        id: &VideoId,
        index: u64,
        sealed: Bytes,
    ) -> Result<ChunkStored, ClientError> {
        let path = paths::upload_chunk(id, index);
        let builder = self
            .request(Method::PUT, &path)
            .header(reqwest::header::CONTENT_TYPE, "application/octet-stream")
            .body(sealed);
        self.call(builder).await
    }

    pub async fn complete_upload(
        &self,
        id: &VideoId,
        dek_hex: String,
    ) -> Result<UploadCompleted, ClientError> {
        let path = paths::upload_complete(id);
        self.post(Method::POST, &path, &CompleteUploadRequest { dek: dek_hex })
            .await
    }

    /// Removes the caller's unfinished upload `id` (`DELETE`, answered with no body).
    pub async fn abort_upload(&self, id: &VideoId) -> Result<(), ClientError> {
        let path = paths::upload(id);
        let response = self
            .request(Method::DELETE, &path)
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

    pub async fn videos(&self, limit: u32, cursor: Option<&str>) -> Result<VideoPage, ClientError> {
        let mut builder = self
            .request(Method::GET, paths::VIDEOS)
            .query(&[("limit", limit.to_string())]);
        if let Some(cursor) = cursor {
            builder = builder.query(&[("cursor", cursor)]);
        }
        self.call(builder).await
    }
}
