//! The one check of a DEK a member hands the server (upload complete, an admin's retry, a
//! server-side download): the stored original must have the length and header on record, and the
//! key must open its first chunk. Each check reads and decrypts up to a 4 MiB chunk, so checks run
//! one at a time with a few more allowed to wait; beyond that, and beyond a member's allowance,
//! the answer is 429 at once rather than a queue that grows with the requests
//! (docs/threat-model.md, "Guarantees").

use std::time::Duration;

use cloister_shared::crypto::stream::{sealed_chunk_len, sealed_len, HEADER_LEN};
use cloister_shared::{Dek, Purpose, StreamHeader, StreamOpener, VideoId};
use tokio::sync::Semaphore;

use crate::error::{AppError, AppResult};
use crate::member_limiter::MemberLimiter;
use crate::state::AppState;
use crate::uploads::blocking;

/// Checks running at once: one chunk in memory (read, then decrypted) per check.
const RUNNING: usize = 1;
/// Checks that may wait for the running one; any more are told to come back.
const WAITING: usize = 4;
/// Key checks one member may start at once before the limit applies...
pub const CHECK_BURST: u32 = 30;
/// ...then one more per this period (30 a minute): far more than uploads or downloads need.
pub const CHECK_REFILL: Duration = Duration::from_secs(2);

pub struct KeyChecks {
    running: Semaphore,
    admitted: Semaphore,
    by_member: MemberLimiter,
}

impl Default for KeyChecks {
    fn default() -> Self {
        Self::new(CHECK_BURST, CHECK_REFILL)
    }
}

/// A sealed original as recorded: what the file on disk must match.
pub struct SealedOriginal {
    pub video: VideoId,
    /// The sealed-stream header on record (the file must begin with it).
    pub header: Vec<u8>,
    /// Plaintext size in bytes.
    pub size: u64,
}

/// What a check found; a file that does not match its record is an error, not a verdict.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyVerdict {
    Opens,
    WrongKey,
}

enum Found {
    Verdict(KeyVerdict),
    Mismatch(String),
}

impl KeyChecks {
    pub fn new(burst: u32, refill: Duration) -> Self {
        Self {
            running: Semaphore::new(RUNNING),
            admitted: Semaphore::new(RUNNING + WAITING),
            by_member: MemberLimiter::new(burst, refill, "Too many key checks from your account."),
        }
    }
}

fn busy() -> AppError {
    AppError::TooManyRequests {
        message: "The server is busy checking other keys. Try again in a moment.".to_owned(),
        retry_after_secs: 2,
    }
}

/// Checks `dek` against the stored original of `original.video` for member `user_id`.
/// 429 when the member's allowance is spent or enough checks are already running or waiting;
/// 409 (and a log line) when the file does not match its record, which is the server's fault.
pub async fn check(
    state: &AppState,
    user_id: i64,
    original: SealedOriginal,
    dek: &Dek,
) -> AppResult<KeyVerdict> {
    let checks = &state.key_checks;
    // Charged before any work: requests in flight together cannot all slip through.
    checks.by_member.check(user_id)?;
    let _admitted = checks.admitted.try_acquire().map_err(|_| busy())?;
    let _running = checks
        .running
        .acquire()
        .await
        .map_err(|_| AppError::Internal("key checks closed".to_owned()))?;
    let storage = state.storage.clone();
    let dek = dek.clone();
    let video = original.video;
    let found = blocking(move || {
        let header = match StreamHeader::parse(&original.header) {
            Ok(header) => header,
            Err(err) => return Ok(Found::Mismatch(format!("bad header on record: {err}"))),
        };
        let expected_len = sealed_len(original.size, header.chunk_size);
        let len = storage.original_len(&original.video)?;
        if len != expected_len {
            return Ok(Found::Mismatch(format!(
                "{len} bytes on disk, not {expected_len}"
            )));
        }
        let first_len = sealed_chunk_len(original.size, header.chunk_size, 0).unwrap_or(0);
        let want = HEADER_LEN + usize::try_from(first_len).unwrap_or(0);
        let bytes = storage.read_original(&original.video, 0, want)?;
        let Some((head, chunk)) = bytes.split_at_checked(HEADER_LEN) else {
            return Ok(Found::Mismatch("truncated".to_owned()));
        };
        if head != original.header.as_slice() {
            return Ok(Found::Mismatch(
                "another header on disk than recorded".to_owned(),
            ));
        }
        let chunks = cloister_shared::crypto::stream::chunk_count(original.size, header.chunk_size);
        let opened = StreamOpener::new(&dek, &original.video, &Purpose::Original, &header)
            .and_then(|opener| opener.open_chunk(0, chunk, chunks <= 1));
        Ok(Found::Verdict(if opened.is_ok() {
            KeyVerdict::Opens
        } else {
            KeyVerdict::WrongKey
        }))
    })
    .await?;
    match found {
        Found::Verdict(verdict) => Ok(verdict),
        Found::Mismatch(detail) => {
            tracing::error!(video = %video, "stored original does not match its record: {detail}");
            Err(AppError::Conflict(
                "The stored file does not match its record; it cannot be checked.".to_owned(),
            ))
        }
    }
}
