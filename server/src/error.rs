//! One error type for every request path. Each variant maps to a status and a message a person can
//! act on; internal causes are logged and never sent to the client.

use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Serialize;
use tower_http::classify::{
    ClassifiedResponse, ClassifyResponse, NeverClassifyEos, ServerErrorsAsFailures,
    ServerErrorsFailureClass, SharedClassifier,
};

/// SQLite's primary result code for "database or disk is full".
const SQLITE_FULL: i64 = 13;

#[derive(Debug, thiserror::Error)]
pub enum AppError {
    #[error("{0}")]
    BadRequest(String),
    #[error("Please sign in first.")]
    Unauthorized,
    #[error("Wrong username or password.")]
    WrongCredentials,
    #[error("{0}")]
    Forbidden(String),
    #[error("{0}")]
    NotFound(String),
    #[error("{0}")]
    Conflict(String),
    /// Something that existed is gone for good (a used or expired download link).
    #[error("{0}")]
    Gone(String),
    #[error("{0}")]
    PayloadTooLarge(String),
    /// 507: the server's disk cannot take this upload.
    #[error("{0}")]
    InsufficientStorage(String),
    #[error("That byte range is not in this file ({len} bytes).")]
    RangeNotSatisfiable { len: u64 },
    #[error("{message}")]
    TooManyRequests {
        message: String,
        retry_after_secs: u64,
    },
    #[error("{message}")]
    Unavailable {
        message: String,
        retry_after_secs: Option<u64>,
    },
    /// No slot for a server-side decrypted download now (docs/architecture.md).
    #[error("{}", cloister_shared::api::downloads::DOWNLOAD_UNAVAILABLE_MESSAGE)]
    DownloadBusy,
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
    #[error("i/o error: {0}")]
    Io(#[from] std::io::Error),
    #[error("{0}")]
    Internal(String),
}

/// The JSON body of every error response.
#[derive(Debug, Serialize)]
pub struct ErrorBody {
    pub error: ErrorDetail,
}

#[derive(Debug, Serialize)]
pub struct ErrorDetail {
    /// Stable, machine-readable: clients branch on this, never on the message.
    pub code: &'static str,
    /// For people.
    pub message: String,
}

impl AppError {
    pub fn status(&self) -> StatusCode {
        match self {
            Self::BadRequest(_) => StatusCode::BAD_REQUEST,
            Self::Unauthorized | Self::WrongCredentials => StatusCode::UNAUTHORIZED,
            Self::Forbidden(_) => StatusCode::FORBIDDEN,
            Self::NotFound(_) => StatusCode::NOT_FOUND,
            Self::Conflict(_) => StatusCode::CONFLICT,
            Self::Gone(_) => StatusCode::GONE,
            Self::PayloadTooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            Self::InsufficientStorage(_) => StatusCode::INSUFFICIENT_STORAGE,
            Self::RangeNotSatisfiable { .. } => StatusCode::RANGE_NOT_SATISFIABLE,
            Self::TooManyRequests { .. } => StatusCode::TOO_MANY_REQUESTS,
            Self::Unavailable { .. } | Self::DownloadBusy => StatusCode::SERVICE_UNAVAILABLE,
            Self::Database(_) | Self::Io(_) | Self::Internal(_) => {
                StatusCode::INTERNAL_SERVER_ERROR
            }
        }
    }

    pub fn code(&self) -> &'static str {
        match self {
            Self::BadRequest(_) => "bad_request",
            Self::Unauthorized => "unauthorized",
            Self::WrongCredentials => "wrong_credentials",
            Self::Forbidden(_) => "forbidden",
            Self::NotFound(_) => "not_found",
            Self::Conflict(_) => "conflict",
            Self::Gone(_) => "gone",
            Self::PayloadTooLarge(_) => "payload_too_large",
            Self::InsufficientStorage(_) => "insufficient_storage",
            Self::RangeNotSatisfiable { .. } => "range_not_satisfiable",
            Self::TooManyRequests { .. } => "too_many_requests",
            Self::Unavailable { .. } => "unavailable",
            Self::DownloadBusy => cloister_shared::api::downloads::DOWNLOAD_BUSY_CODE,
            Self::Database(_) | Self::Io(_) | Self::Internal(_) => "internal",
        }
    }

    /// Whether this failure is the disk filling up: a write that found no space (ENOSPC, a quota),
    /// or SQLite's "database or disk is full".
    pub fn is_disk_full(&self) -> bool {
        let io_full = |err: &std::io::Error| {
            matches!(
                err.kind(),
                std::io::ErrorKind::StorageFull | std::io::ErrorKind::QuotaExceeded
            )
        };
        match self {
            Self::Io(err) | Self::Database(sqlx::Error::Io(err)) => io_full(err),
            Self::Database(sqlx::Error::Database(db)) => db
                .code()
                .and_then(|code| code.parse::<i64>().ok())
                .is_some_and(|code| code & 0xff == SQLITE_FULL),
            _ => false,
        }
    }

    fn public_message(&self) -> String {
        match self {
            Self::Database(_) | Self::Io(_) | Self::Internal(_) => {
                "Something went wrong on the server. The details are in the server log.".to_owned()
            }
            other => other.to_string(),
        }
    }
}

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        let status = self.status();
        // A full server is an expected answer, not a fault: it must not look like one in the log.
        // A refusal for storage was logged once, with its figures, where it was decided.
        match &self {
            Self::DownloadBusy => tracing::info!("download refused: no slot or the gate is closed"),
            Self::InsufficientStorage(_) => {}
            _ if status.is_server_error() => tracing::error!(error = %self, "request failed"),
            _ => {}
        }
        let retry_after = match &self {
            Self::TooManyRequests {
                retry_after_secs, ..
            } => Some(*retry_after_secs),
            Self::Unavailable {
                retry_after_secs, ..
            } => *retry_after_secs,
            Self::DownloadBusy => Some(30),
            _ => None,
        };
        let body = ErrorBody {
            error: ErrorDetail {
                code: self.code(),
                message: self.public_message(),
            },
        };
        let mut response = (status, Json(body)).into_response();
        if let Some(secs) = retry_after {
            response
                .headers_mut()
                .insert("retry-after", HeaderValue::from(secs));
        }
        if let Self::RangeNotSatisfiable { len } = &self {
            if let Ok(value) = HeaderValue::from_str(&format!("bytes */{len}")) {
                response.headers_mut().insert("content-range", value);
            }
        }
        response.extensions_mut().insert(AlreadyLogged);
        response
    }
}

/// Marks a response whose error was logged (or deliberately not) when it was made.
#[derive(Debug, Clone, Copy)]
struct AlreadyLogged;

/// The request trace's classifier: a 5xx is logged as a failure unless it is an `AppError`,
/// which logged itself. One line per failure, and none at ERROR for a refusal the server made on
/// purpose (507 storage low, 503 busy).
#[derive(Debug, Clone, Copy, Default)]
pub struct UnloggedServerErrors;

impl UnloggedServerErrors {
    pub fn make() -> SharedClassifier<Self> {
        SharedClassifier::new(Self)
    }
}

impl ClassifyResponse for UnloggedServerErrors {
    type FailureClass = ServerErrorsFailureClass;
    type ClassifyEos = NeverClassifyEos<ServerErrorsFailureClass>;

    fn classify_response<B>(
        self,
        res: &axum::http::Response<B>,
    ) -> ClassifiedResponse<Self::FailureClass, Self::ClassifyEos> {
        if res.extensions().get::<AlreadyLogged>().is_some() {
            ClassifiedResponse::Ready(Ok(()))
        } else {
            ServerErrorsAsFailures::new().classify_response(res)
        }
    }

    fn classify_error<E: std::fmt::Display + 'static>(self, error: &E) -> Self::FailureClass {
        ServerErrorsAsFailures::new().classify_error(error)
    }
}

pub type AppResult<T> = Result<T, AppError>;
