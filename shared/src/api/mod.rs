//! Request and response bodies of Cloister's HTTP API (docs/api.md).
//!
//! Plain serde types and the input rules both sides check, with no I/O: the server, the browser
//! and the command-line client build and read the very same structs.

pub mod admin;
pub mod auth;
pub mod comments;
pub mod downloads;
pub mod edit;
pub mod events;
pub mod jobs;
pub mod keys;
pub mod library;
pub mod shares;
pub mod trash;
pub mod uploads;
pub mod users;
pub mod videos;

use serde::{Deserialize, Serialize};

pub use auth::{LoginRequest, LoginResponse, Me, Role, SessionStatus, UserSummary};
pub use comments::{CommentInfo, CommentPage, NewComment};
pub use events::{Event, EventFrame};
pub use jobs::{JobInfo, JobKind, JobList, JobPhase, JobStatus, LoadStatus, ResourceReadings};
pub use library::{ChangePassphraseRequest, InitLibraryRequest, KdfInfo, LibraryStatus};
pub use uploads::{
    ChunkStored, CompleteUploadRequest, CreateUploadRequest, UploadCompleted, UploadCreated,
    UploadState,
};
pub use users::{
    AcceptInviteRequest, CreateInviteRequest, CreateUserRequest, InviteCreated, UserInfo, UserList,
};
pub use videos::{IndexEntry, VideoIndex, VideoMetadata, VideoPage, VideoStatus, VideoSummary};

/// Every mutating request (POST, PUT, PATCH, DELETE) under `/api` must carry this header with the
/// value [`REQUEST_HEADER_VALUE`]. A cross-site form cannot set it, and a cross-origin `fetch` that
/// sets it needs a CORS preflight the server never grants: that is the CSRF defence.
pub const REQUEST_HEADER: &str = "x-cloister-request";
pub const REQUEST_HEADER_VALUE: &str = "1";

/// Name of the HttpOnly session cookie.
pub const SESSION_COOKIE: &str = "cloister_session";

/// The JSON body of every error response: `{"error": {"code", "message"}}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorBody {
    pub error: ErrorDetail,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorDetail {
    /// Stable and machine-readable (`unauthorized`, `conflict`, ...): branch on this.
    pub code: String,
    /// Written for people: show it as it is.
    pub message: String,
}

/// `YYYY-MM-DD` (UTC) from Unix seconds; times out of range show as "unknown date".
pub fn utc_date(unix_seconds: i64) -> String {
    time::OffsetDateTime::from_unix_timestamp(unix_seconds)
        .map_or_else(|_| "unknown date".to_owned(), |t| t.date().to_string())
}

#[cfg(test)]
mod tests {
    #[test]
    fn dates_are_utc_calendar_days() {
        assert_eq!(super::utc_date(0), "1970-01-01");
        assert_eq!(super::utc_date(951_782_400), "2000-02-29");
        assert_eq!(super::utc_date(1_795_996_800), "2026-11-30");
        assert_eq!(super::utc_date(i64::MAX), "unknown date");
    }
}
