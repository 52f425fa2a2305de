//! Calls from the browser to the server's JSON API. Every call returns either the decoded answer
//! or an [`ApiError`] whose message can be shown to a person as it is.

mod admin;
mod client;
mod comments;
mod downloads;
mod edit;
mod keys;
mod rotation;
mod setup;
mod shares;
mod trash;

use cloister_shared::api::{
    AcceptInviteRequest, ChunkStored, CompleteUploadRequest, CreateInviteRequest,
    CreateUploadRequest, CreateUserRequest, InviteCreated, JobInfo, JobList, LoginRequest,
    LoginResponse, Me, SessionStatus, UploadCompleted, UploadCreated, UploadState, UserInfo,
    UserList, VideoPage, VideoSummary,
};
use cloister_shared::VideoId;
use serde::Deserialize;

pub use admin::*;
pub use client::ApiError;
use client::{delete, get, post, put_bytes};
use cloister_shared::protocol::paths;
pub use comments::{comments, delete_comment, post_comment};
#[cfg(feature = "hydrate")]
pub use downloads::sealed_range;
pub use downloads::{cancel_download, download, downloads, load_status, start_download};
pub use edit::{duplicates_of, edit_video};
pub use keys::*;
pub use rotation::*;
pub use setup::{set_up, setup_needed};
pub use shares::*;
pub use trash::*;

#[derive(Debug, Clone, Deserialize)]
pub struct Health {
    pub status: String,
    pub version: String,
    pub database: String,
}

pub async fn health() -> Result<Health, ApiError> {
    get("/api/health").await
}

/// Who is signed in; `Ok(None)` when nobody is.
pub async fn me() -> Result<Option<Me>, ApiError> {
    get::<SessionStatus>("/api/auth/session")
        .await
        .map(|status| status.user)
}

pub async fn login(username: String, password: String) -> Result<LoginResponse, ApiError> {
    post(paths::LOGIN, &LoginRequest { username, password }).await
}

pub async fn logout() -> Result<(), ApiError> {
    post::<_, serde_json::Value>("/api/auth/logout", &serde_json::json!({}))
        .await
        .map(|_| ())
}

pub async fn users() -> Result<Vec<UserInfo>, ApiError> {
    get::<UserList>("/api/admin/users")
        .await
        .map(|list| list.users)
}

pub async fn create_user(request: &CreateUserRequest) -> Result<UserInfo, ApiError> {
    post("/api/admin/users", request).await
}

pub async fn create_invite(request: &CreateInviteRequest) -> Result<InviteCreated, ApiError> {
    post("/api/admin/invites", request).await
}

pub async fn accept_invite(request: &AcceptInviteRequest) -> Result<LoginResponse, ApiError> {
    post("/api/invites/accept", request).await
}

pub async fn create_upload(request: &CreateUploadRequest) -> Result<UploadCreated, ApiError> {
    post(paths::UPLOADS, request).await
}

/// The caller's unfinished upload of the file with this fingerprint, if the server holds one.
pub async fn find_upload(fingerprint_hex: &str) -> Result<Option<UploadState>, ApiError> {
    match get::<UploadState>(&paths::upload_by_fingerprint(fingerprint_hex)).await {
        Ok(state) => Ok(Some(state)),
        Err(err) if err.status == 404 => Ok(None),
        Err(err) => Err(err),
    }
}

/// One of the caller's uploads by id (`Ok(None)` once it is gone: removed, swept, or not theirs).
pub async fn upload_state(video_id: &str) -> Result<Option<UploadState>, ApiError> {
    match get::<UploadState>(&paths::upload(video_id)).await {
        Ok(state) => Ok(Some(state)),
        Err(err) if err.status == 404 => Ok(None),
        Err(err) => Err(err),
    }
}

pub async fn put_chunk(video_id: &str, index: u64, sealed: &[u8]) -> Result<ChunkStored, ApiError> {
    put_bytes(&paths::upload_chunk(video_id, index), sealed).await
}

pub async fn complete_upload(
    video_id: &str,
    request: &CompleteUploadRequest,
) -> Result<UploadCompleted, ApiError> {
    post(&paths::upload_complete(video_id), request).await
}

pub async fn abort_upload(video_id: &str) -> Result<(), ApiError> {
    delete(&paths::upload(video_id)).await
}

/// One page of the library, newest first; `cursor` is the previous page's `next_cursor`.
pub async fn videos(limit: u32, cursor: Option<&str>) -> Result<VideoPage, ApiError> {
    let mut url = format!("/api/videos?limit={limit}");
    if let Some(cursor) = cursor {
        url.push_str("&cursor=");
        url.push_str(&query_escape(cursor));
    }
    get(&url).await
}

/// Every video the member may see, sealed, for the gallery's search (docs/api.md, "Find").
pub async fn video_index() -> Result<cloister_shared::api::VideoIndex, ApiError> {
    get("/api/videos/index").await
}

/// One video, as the listing shows it (the published rendition included once it is ready).
pub async fn video(id: &VideoId) -> Result<VideoSummary, ApiError> {
    get(&paths::video(id)).await
}

/// A sealed file of a processed video (manifest, init or media segment), byte for byte as stored.
/// `abort` cancels the request (the player's seeking); it then fails like a lost connection.
#[cfg(feature = "hydrate")]
pub async fn sealed_file(
    url: &str,
    abort: Option<&web_sys::AbortSignal>,
) -> Result<Vec<u8>, ApiError> {
    fetch_bytes(gloo_net::http::Request::get(url), abort).await
}

/// Sends a GET for bytes: the body, or the server's error as an [`ApiError`].
#[cfg(feature = "hydrate")]
async fn fetch_bytes(
    request: gloo_net::http::RequestBuilder,
    abort: Option<&web_sys::AbortSignal>,
) -> Result<Vec<u8>, ApiError> {
    use cloister_shared::api::ErrorBody;
    // The same words as the JSON calls' (client.rs) for a server that cannot be reached.
    let unreachable = || ApiError {
        status: 0,
        code: "network".to_owned(),
        message: "The server could not be reached. Check your connection and try again.".to_owned(),
    };
    let response = request
        .abort_signal(abort)
        .send()
        .await
        .map_err(|_| unreachable())?;
    let status = response.status();
    if response.ok() {
        // A body cut off halfway is a network failure too.
        return response.binary().await.map_err(|_| unreachable());
    }
    Err(match response.json::<ErrorBody>().await {
        Ok(body) => ApiError {
            status,
            code: body.error.code,
            message: body.error.message,
        },
        Err(_) => ApiError {
            status,
            code: "http".to_owned(),
            message: format!("The server answered with status {status}. Try again in a moment."),
        },
    })
}

/// Processing jobs that are queued, waiting for resources or running.
pub async fn active_jobs() -> Result<Vec<JobInfo>, ApiError> {
    get::<JobList>("/api/jobs?active=true")
        .await
        .map(|list| list.jobs)
}

/// Every job of one video, newest first.
pub async fn video_jobs(video: &VideoId) -> Result<Vec<JobInfo>, ApiError> {
    get::<JobList>(&format!("/api/jobs?video_id={video}"))
        .await
        .map(|list| list.jobs)
}

pub async fn cancel_job(job_id: i64) -> Result<JobInfo, ApiError> {
    post(&paths::job_cancel(job_id), &serde_json::json!({})).await
}

/// Admins only: starts an overdue job although the resource gate is closed.
pub async fn run_job_anyway(job_id: i64) -> Result<JobInfo, ApiError> {
    post(
        &format!("/api/jobs/{job_id}/run-anyway"),
        &serde_json::json!({}),
    )
    .await
}

/// Percent-encodes everything but the unreserved characters, for a value in a query string.
fn query_escape(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for byte in value.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'.' | b'_' | b'~') {
            out.push(char::from(byte));
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn query_values_are_escaped() {
        assert_eq!(super::query_escape("1700000000.ab12"), "1700000000.ab12");
        assert_eq!(super::query_escape("a b&c=d/é"), "a%20b%26c%3Dd%2F%C3%A9");
    }
}
