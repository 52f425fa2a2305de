//! A small client of Cloister's HTTP API for the command line (`login`, `library`, and later
//! `upload`, `ls`, `download`). It keeps the session cookie for the life of one command and sends
//! the `X-Cloister-Request` header the server's CSRF guard asks of every mutating request.

mod admin;
mod jobs;
pub mod unlock;
mod uploads;
mod videos;

use cloister_shared::api::keys::{
    ChangeMyPassphraseRequest, CreateLibraryRequest, GrantRequest, LibraryStatus,
    RecoveryChallenge, RecoveryRestoreRequest, SetMyKeysRequest, SetRecoveryRequest,
};
use cloister_shared::api::{
    ErrorBody, LoginRequest, LoginResponse, Me, REQUEST_HEADER, REQUEST_HEADER_VALUE,
};
use cloister_shared::protocol::paths;
use reqwest::header::{HeaderMap, HeaderValue};
use reqwest::{Method, RequestBuilder, StatusCode};
use serde::de::DeserializeOwned;
use serde::Serialize;

/// Why a call to the server failed, worded for the person running the command.
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    #[error("{0} is not a server address; use one like http://127.0.0.1:3000")]
    BadServer(String),
    #[error("Cannot reach the Cloister server at {server} ({detail}). Is it running? Set CLOISTER_SERVER or --server.")]
    Unreachable { server: String, detail: String },
    /// The server's own error message, e.g. "Wrong username or password.".
    #[error("{message}")]
    Api {
        status: StatusCode,
        code: String,
        message: String,
    },
    #[error("The server at {server} did not answer like a Cloister server ({detail}).")]
    Protocol { server: String, detail: String },
}

/// Cheap to clone: clones share one connection pool and cookie store.
#[derive(Clone)]
pub struct ApiClient {
    server: String,
    http: reqwest::Client,
}

impl ApiClient {
    /// A client for the server at `server` (e.g. `http://127.0.0.1:3000`).
    pub fn new(server: &str) -> Result<Self, ClientError> {
        let server = server.trim_end_matches('/').to_owned();
        let valid = (server.starts_with("http://") || server.starts_with("https://"))
            && reqwest::Url::parse(&server).is_ok();
        if !valid {
            return Err(ClientError::BadServer(server));
        }
        let mut headers = HeaderMap::new();
        headers.insert(
            REQUEST_HEADER,
            HeaderValue::from_static(REQUEST_HEADER_VALUE),
        );
        let http = reqwest::Client::builder()
            .cookie_store(true)
            .default_headers(headers)
            .user_agent(concat!("cloister-cli/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|err| ClientError::Protocol {
                server: server.clone(),
                detail: root_cause(&err),
            })?;
        Ok(Self { server, http })
    }

    pub fn server(&self) -> &str {
        &self.server
    }

    fn request(&self, method: Method, path: &str) -> RequestBuilder {
        self.http.request(method, format!("{}{path}", self.server))
    }

    async fn call<T: DeserializeOwned>(&self, builder: RequestBuilder) -> Result<T, ClientError> {
        let response = builder.send().await.map_err(|err| self.unreachable(&err))?;
        let status = response.status();
        let bytes = response
            .bytes()
            .await
            .map_err(|err| self.unreachable(&err))?;
        if status.is_success() {
            return serde_json::from_slice(&bytes).map_err(|err| self.protocol(err.to_string()));
        }
        Err(self.api_error(status, &bytes))
    }

    /// A failed answer: the server's own JSON error, or a protocol error if it sent none.
    fn api_error(&self, status: StatusCode, body: &[u8]) -> ClientError {
        match serde_json::from_slice::<ErrorBody>(body) {
            Ok(body) => ClientError::Api {
                status,
                code: body.error.code,
                message: body.error.message,
            },
            Err(_) => self.protocol(format!("HTTP {status}")),
        }
    }

    fn unreachable(&self, err: &reqwest::Error) -> ClientError {
        ClientError::Unreachable {
            server: self.server.clone(),
            detail: root_cause(err),
        }
    }

    fn protocol(&self, detail: String) -> ClientError {
        ClientError::Protocol {
            server: self.server.clone(),
            detail,
        }
    }

    async fn post<B: Serialize, T: DeserializeOwned>(
        &self,
        method: Method,
        path: &str,
        body: &B,
    ) -> Result<T, ClientError> {
        self.call(self.request(method, path).json(body)).await
    }

    /// Signs in; the session cookie is kept for the following calls.
    pub async fn login(
        &self,
        username: &str,
        password: &str,
    ) -> Result<LoginResponse, ClientError> {
        let body = LoginRequest {
            username: username.to_owned(),
            password: password.to_owned(),
        };
        self.post(Method::POST, paths::LOGIN, &body).await
    }

    pub async fn me(&self) -> Result<Me, ClientError> {
        self.call(self.request(Method::GET, paths::ME)).await
    }

    pub async fn library(&self) -> Result<LibraryStatus, ClientError> {
        self.call(self.request(Method::GET, paths::LIBRARY)).await
    }

    pub async fn create_library(
        &self,
        body: &CreateLibraryRequest,
    ) -> Result<LibraryStatus, ClientError> {
        self.post(Method::POST, paths::LIBRARY, body).await
    }

    pub async fn set_my_keys(&self, body: &SetMyKeysRequest) -> Result<LibraryStatus, ClientError> {
        self.post(Method::PUT, paths::LIBRARY_ME, body).await
    }

    pub async fn change_my_passphrase(
        &self,
        body: &ChangeMyPassphraseRequest,
    ) -> Result<LibraryStatus, ClientError> {
        self.post(Method::PUT, paths::LIBRARY_PASSPHRASE, body)
            .await
    }

    pub async fn grant(&self, body: &GrantRequest) -> Result<(), ClientError> {
        self.call_no_content(self.request(Method::POST, paths::LIBRARY_GRANTS).json(body))
            .await
    }

    pub async fn set_recovery(&self, body: &SetRecoveryRequest) -> Result<(), ClientError> {
        self.call_no_content(
            self.request(Method::POST, paths::LIBRARY_RECOVERY)
                .json(body),
        )
        .await
    }

    pub async fn recovery_challenge(&self) -> Result<RecoveryChallenge, ClientError> {
        self.call(self.request(Method::POST, paths::RECOVERY_CHALLENGE))
            .await
    }

    pub async fn recovery_restore(
        &self,
        body: &RecoveryRestoreRequest,
    ) -> Result<LibraryStatus, ClientError> {
        self.post(Method::POST, paths::RECOVERY_RESTORE, body).await
    }

    /// A call answered with 204 No Content on success.
    async fn call_no_content(&self, builder: RequestBuilder) -> Result<(), ClientError> {
        let response = builder.send().await.map_err(|err| self.unreachable(&err))?;
        let status = response.status();
        if status.is_success() {
            return Ok(());
        }
        let bytes = response
            .bytes()
            .await
            .map_err(|err| self.unreachable(&err))?;
        Err(self.api_error(status, &bytes))
    }
}

/// The innermost cause ("Connection refused (os error 111)"), which says more than reqwest's
/// "error sending request for url".
fn root_cause(err: &reqwest::Error) -> String {
    let mut cause: &dyn std::error::Error = err;
    while let Some(source) = cause.source() {
        cause = source;
    }
    cause.to_string()
}
