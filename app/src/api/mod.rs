//! Calls from the browser to the server's JSON API. Every call returns either the decoded answer
//! or an [`ApiError`] whose message can be shown to a person as it is.

mod client;

use cloister_shared::api::{
    AcceptInviteRequest, ChangePassphraseRequest, CreateInviteRequest, CreateUserRequest,
    InitLibraryRequest, InviteCreated, LibraryStatus, LoginRequest, LoginResponse, Me, SessionStatus, UserInfo,
    UserList,
};
use serde::Deserialize;

pub use client::ApiError;
use client::{delete, get, post, put};

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
    get::<SessionStatus>("/api/auth/session").await.map(|status| status.user)
}

pub async fn login(username: String, password: String) -> Result<LoginResponse, ApiError> {
    post("/api/auth/login", &LoginRequest { username, password }).await
}

pub async fn logout() -> Result<(), ApiError> {
    post::<_, serde_json::Value>("/api/auth/logout", &serde_json::json!({}))
        .await
        .map(|_| ())
}

pub async fn library() -> Result<LibraryStatus, ApiError> {
    get("/api/library").await
}

pub async fn init_library(request: &InitLibraryRequest) -> Result<LibraryStatus, ApiError> {
    post("/api/library", request).await
}

pub async fn change_passphrase(
    request: &ChangePassphraseRequest,
) -> Result<LibraryStatus, ApiError> {
    put("/api/library/passphrase", request).await
}

pub async fn users() -> Result<Vec<UserInfo>, ApiError> {
    get::<UserList>("/api/admin/users")
        .await
        .map(|list| list.users)
}

pub async fn create_user(request: &CreateUserRequest) -> Result<UserInfo, ApiError> {
    post("/api/admin/users", request).await
}

pub async fn remove_user(username: &str) -> Result<(), ApiError> {
    delete(&format!("/api/admin/users/{username}")).await
}

pub async fn create_invite(request: &CreateInviteRequest) -> Result<InviteCreated, ApiError> {
    post("/api/admin/invites", request).await
}

pub async fn accept_invite(request: &AcceptInviteRequest) -> Result<LoginResponse, ApiError> {
    post("/api/invites/accept", request).await
}
