//! The API's paths as both clients call them (docs/api.md lists what each does). Ids are
//! formatted as given: callers pass parsed ids (`VideoId`) or text they received from the server.

use std::fmt::Display;

pub const LOGIN: &str = "/api/auth/login";
pub const ME: &str = "/api/auth/me";
pub const LIBRARY: &str = "/api/library";
pub const LIBRARY_ME: &str = "/api/library/me";
pub const LIBRARY_PASSPHRASE: &str = "/api/library/me/passphrase";
pub const LIBRARY_GRANTS: &str = "/api/library/grants";
pub const LIBRARY_RECOVERY: &str = "/api/library/recovery";
pub const RECOVERY_CHALLENGE: &str = "/api/library/recovery/challenge";
pub const RECOVERY_RESTORE: &str = "/api/library/recovery/restore";
pub const UPLOADS: &str = "/api/uploads";
pub const VIDEOS: &str = "/api/videos";
pub const TRASH: &str = "/api/trash";
pub const STATUS_LOAD: &str = "/api/status/load";
pub const ADMIN_MACHINE: &str = "/api/admin/machine";
pub const ADMIN_SPEED: &str = "/api/admin/speed";
pub const ADMIN_STORAGE: &str = "/api/admin/storage";
pub const ADMIN_HOUSEKEEPING: &str = "/api/admin/housekeeping";
pub const ADMIN_HOUSEKEEPING_CLEAN: &str = "/api/admin/housekeeping/clean";

/// The caller's unfinished upload of the file whose fingerprint is `fingerprint_hex`.
pub fn upload_by_fingerprint(fingerprint_hex: &str) -> String {
    format!("{UPLOADS}?fingerprint={fingerprint_hex}")
}

pub fn upload(id: impl Display) -> String {
    format!("{UPLOADS}/{id}")
}

pub fn upload_chunk(id: impl Display, index: u64) -> String {
    format!("{UPLOADS}/{id}/chunks/{index}")
}

pub fn upload_complete(id: impl Display) -> String {
    format!("{UPLOADS}/{id}/complete")
}

pub fn video(id: impl Display) -> String {
    format!("{VIDEOS}/{id}")
}

pub fn video_original(id: impl Display) -> String {
    format!("{VIDEOS}/{id}/original")
}

pub fn video_download(id: impl Display) -> String {
    format!("{VIDEOS}/{id}/download")
}

pub fn video_trash(id: impl Display) -> String {
    format!("{VIDEOS}/{id}/trash")
}

pub fn video_restore(id: impl Display) -> String {
    format!("{VIDEOS}/{id}/restore")
}

/// The caller's jobs (`active`: only those not finished).
pub fn jobs(active: bool) -> &'static str {
    if active {
        "/api/jobs?active=true"
    } else {
        "/api/jobs"
    }
}

pub fn job(id: i64) -> String {
    format!("/api/jobs/{id}")
}

pub fn job_cancel(id: i64) -> String {
    format!("/api/jobs/{id}/cancel")
}

/// Every member's jobs, for admins (`active`: only those not finished).
pub fn admin_jobs(active: bool) -> &'static str {
    if active {
        "/api/admin/jobs?active=true"
    } else {
        "/api/admin/jobs"
    }
}

pub fn admin_job_retry(id: i64) -> String {
    format!("/api/admin/jobs/{id}/retry")
}

pub fn admin_job_kill(id: i64) -> String {
    format!("/api/admin/jobs/{id}/kill")
}

pub fn admin_job_priority(id: i64) -> String {
    format!("/api/admin/jobs/{id}/priority")
}
