//! The object storage interface on S3-compatible object storage (Garage, MinIO, a provider),
//! through the `object_store` crate (docs/decisions.md, "Object storage").
//!
//! Location `s3://bucket/prefix`; endpoint, region and credentials come from the environment only
//! (`S3Config::from_env`), never from argv, and the secret is never printed: not in errors, not
//! in `Debug`.

use std::fmt;
use std::ops::Range;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use futures_util::stream::{self, StreamExt, TryStreamExt};
use object_store::aws::{AmazonS3, AmazonS3Builder};
use object_store::buffered::BufWriter;
use object_store::client::{HttpError, HttpErrorKind};
use object_store::path::Path as ObjectPath;
use object_store::{
    BackoffConfig, ClientOptions, GetOptions, GetRange, ObjectStore, ObjectStoreExt, PutMode,
    PutOptions, PutPayload, RetryConfig,
};
use tokio::io::AsyncWriteExt;
use zeroize::Zeroizing;

use super::backend::{
    ByteStream, Capacity, Created, Listed, ObjectStorage, StoreError, StoreErrorKind, StoreFuture,
    StoreOp, StoreResult,
};
use super::key::{KeyPrefix, ObjectKey};

pub const ENDPOINT_VAR: &str = "CLOISTER_S3_ENDPOINT";
pub const REGION_VAR: &str = "CLOISTER_S3_REGION";
pub const QUOTA_VAR: &str = "CLOISTER_STORAGE_QUOTA_BYTES";
pub const ACCESS_KEY_VAR: &str = "AWS_ACCESS_KEY_ID";
pub const SECRET_KEY_VAR: &str = "AWS_SECRET_ACCESS_KEY";

/// How long `open` waits for its one probe request before calling the storage unreachable.
const OPEN_TIMEOUT: Duration = Duration::from_secs(10);
/// A connection that is not up by then is not coming: the request fails (and is retried).
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
/// A whole request, including streaming a body to or from a slow peer.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(300);
/// How old the tally of stored bytes may be before a write under a quota lists the bucket again.
const USED_TALLY_TTL: Duration = Duration::from_secs(30);
/// `put_file` sends files up to this size in one PUT, larger ones as a multipart upload of parts
/// this size (S3's minimum part is 5 MiB).
const UPLOAD_PART: usize = 8 * 1024 * 1024;

/// Where and how to reach the object storage.
pub struct S3Config {
    /// `s3://bucket` or `s3://bucket/prefix`.
    pub url: String,
    /// e.g. `https://s3.example.org` or `http://127.0.0.1:3900`; `None` for AWS itself.
    pub endpoint: Option<String>,
    pub region: String,
    pub access_key_id: String,
    pub secret_access_key: Zeroizing<String>,
    /// Bytes the storage may hold; `None`: no limit known.
    pub quota_bytes: Option<u64>,
}

impl fmt::Debug for S3Config {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("S3Config")
            .field("url", &self.url)
            .field("endpoint", &self.endpoint)
            .field("region", &self.region)
            .field("quota_bytes", &self.quota_bytes)
            .finish_non_exhaustive()
    }
}

impl S3Config {
    /// The configuration for `url` from `CLOISTER_S3_ENDPOINT`, `CLOISTER_S3_REGION`,
    /// `AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY` and `CLOISTER_STORAGE_QUOTA_BYTES`.
    pub fn from_env(url: &str) -> StoreResult<Self> {
        let var = |name: &str| std::env::var(name).ok().filter(|v| !v.is_empty());
        let missing = |name: &str| {
            StoreError::new(
                StoreOp::Open,
                url,
                StoreErrorKind::Other,
                format!(
                    "{name} is not set (object storage takes its credentials from the environment)"
                ),
            )
        };
        let quota_bytes = match var(QUOTA_VAR) {
            None => None,
            Some(v) => Some(v.trim().parse::<u64>().map_err(|_| {
                StoreError::new(
                    StoreOp::Open,
                    url,
                    StoreErrorKind::Other,
                    format!("{QUOTA_VAR} must be a whole number of bytes, not {v:?}"),
                )
            })?),
        };
        Ok(Self {
            url: url.to_owned(),
            endpoint: var(ENDPOINT_VAR),
            region: var(REGION_VAR).unwrap_or_else(|| "us-east-1".to_owned()),
            access_key_id: var(ACCESS_KEY_VAR).ok_or_else(|| missing(ACCESS_KEY_VAR))?,
            secret_access_key: Zeroizing::new(
                var(SECRET_KEY_VAR).ok_or_else(|| missing(SECRET_KEY_VAR))?,
            ),
            quota_bytes,
        })
    }
}

/// `s3://bucket/prefix`, checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct S3Location {
    pub bucket: String,
    /// Without leading or trailing `/`; empty for the bucket's root.
    pub prefix: String,
}

impl S3Location {
    pub fn parse(url: &str) -> Result<Self, String> {
        let rest = url
            .strip_prefix("s3://")
            .ok_or_else(|| format!("{url:?} is not an s3://bucket/prefix location"))?;
        let (bucket, prefix) = rest.split_once('/').unwrap_or((rest, ""));
        let bucket_ok = (3..=63).contains(&bucket.len())
            && bucket
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'.' || b == b'-')
            && !bucket.starts_with(['.', '-'])
            && !bucket.ends_with(['.', '-']);
        if !bucket_ok {
            return Err(format!(
                "{bucket:?} is not a bucket name (3 to 63 of a-z, 0-9, '.' and '-')"
            ));
        }
        let prefix = prefix.trim_end_matches('/');
        let prefix_ok = prefix.is_empty()
            || prefix.split('/').all(|part| {
                !part.is_empty()
                    && part != "."
                    && part != ".."
                    && part
                        .bytes()
                        .all(|b| b.is_ascii_alphanumeric() || b"-_.".contains(&b))
            });
        if !prefix_ok {
            return Err(format!(
                "{prefix:?} is not a key prefix (parts of A-Z, a-z, 0-9, '-', '_' and '.', separated by '/')"
            ));
        }
        Ok(Self {
            bucket: bucket.to_owned(),
            prefix: prefix.to_owned(),
        })
    }
}

impl fmt::Display for S3Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.prefix.is_empty() {
            write!(f, "s3://{}", self.bucket)
        } else {
            write!(f, "s3://{}/{}", self.bucket, self.prefix)
        }
    }
}

/// The endpoint's URL, and whether plain http is allowed: only to this machine.
fn check_endpoint(endpoint: &str) -> Result<bool, String> {
    let url = reqwest::Url::parse(endpoint)
        .map_err(|err| format!("{ENDPOINT_VAR} {endpoint:?} is not a URL: {err}"))?;
    match url.scheme() {
        "https" => Ok(false),
        "http" => {
            let loopback = match url.host_str() {
                Some("localhost") => true,
                Some(host) => host
                    .trim_start_matches('[')
                    .trim_end_matches(']')
                    .parse::<std::net::IpAddr>()
                    .is_ok_and(|ip| ip.is_loopback()),
                None => false,
            };
            if loopback {
                Ok(true)
            } else {
                Err(format!(
                    "{ENDPOINT_VAR} {endpoint:?}: plain http is allowed only to this machine \
                     (127.0.0.1, ::1, localhost); use https"
                ))
            }
        }
        other => Err(format!(
            "{ENDPOINT_VAR} {endpoint:?}: the scheme must be https (or http to this machine), not {other}"
        )),
    }
}

/// Bytes stored under the prefix as last counted, plus what this process wrote since.
struct UsedTally {
    bytes: u64,
    counted_at: Instant,
}

pub struct S3Storage {
    store: Arc<AmazonS3>,
    location: S3Location,
    endpoint: String,
    quota_bytes: Option<u64>,
    /// Only to keep it out of error messages.
    secret: Zeroizing<String>,
    used: tokio::sync::Mutex<Option<UsedTally>>,
}

impl fmt::Debug for S3Storage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("S3Storage")
            .field("location", &self.location.to_string())
            .field("endpoint", &self.endpoint)
            .field("quota_bytes", &self.quota_bytes)
            .finish_non_exhaustive()
    }
}

impl S3Storage {
    /// Builds the client and checks, with one listing request within a few seconds, that the
    /// bucket is reachable and the credentials work.
    pub async fn open(config: S3Config) -> StoreResult<Self> {
        let fail = |kind, detail: String| StoreError::new(StoreOp::Open, &config.url, kind, detail);
        let location =
            S3Location::parse(&config.url).map_err(|e| fail(StoreErrorKind::Other, e))?;
        let mut builder = AmazonS3Builder::new()
            .with_bucket_name(&location.bucket)
            .with_region(&config.region)
            .with_access_key_id(&config.access_key_id)
            .with_secret_access_key(config.secret_access_key.as_str())
            // Path-style requests: self-hosted servers rarely have a DNS name per bucket.
            .with_virtual_hosted_style_request(false)
            .with_retry(RetryConfig {
                backoff: BackoffConfig::default(),
                max_retries: 3,
                retry_timeout: Duration::from_secs(30),
            })
            .with_client_options(
                ClientOptions::new()
                    .with_connect_timeout(CONNECT_TIMEOUT)
                    .with_timeout(REQUEST_TIMEOUT),
            );
        let endpoint = match &config.endpoint {
            Some(endpoint) => {
                let allow_http =
                    check_endpoint(endpoint).map_err(|e| fail(StoreErrorKind::Other, e))?;
                builder = builder.with_endpoint(endpoint).with_allow_http(allow_http);
                endpoint.clone()
            }
            None => format!("https://s3.{}.amazonaws.com", config.region),
        };
        let store = builder.build().map_err(|err| {
            fail(
                StoreErrorKind::Other,
                scrub(&err.to_string(), &config.secret_access_key),
            )
        })?;
        let storage = Self {
            store: Arc::new(store),
            location,
            endpoint,
            quota_bytes: config.quota_bytes,
            secret: config.secret_access_key,
            used: tokio::sync::Mutex::new(None),
        };
        storage.probe().await?;
        Ok(storage)
    }

    async fn probe(&self) -> StoreResult<()> {
        let root = self.root_path();
        let here = self.location.to_string();
        match tokio::time::timeout(OPEN_TIMEOUT, self.store.list_with_delimiter(root.as_ref()))
            .await
        {
            Ok(Ok(_)) => Ok(()),
            Ok(Err(object_store::Error::NotFound { .. })) => Err(StoreError::new(
                StoreOp::Open,
                here,
                StoreErrorKind::Unavailable,
                format!(
                    "object storage at {} has no bucket {:?}",
                    self.endpoint, self.location.bucket
                ),
            )),
            Ok(Err(err)) => Err(self.error(StoreOp::Open, here, &err)),
            Err(_) => Err(StoreError::new(
                StoreOp::Open,
                here,
                StoreErrorKind::Unavailable,
                format!(
                    "cannot reach object storage at {}: no answer within {} s",
                    self.endpoint,
                    OPEN_TIMEOUT.as_secs()
                ),
            )),
        }
    }

    pub fn location(&self) -> &S3Location {
        &self.location
    }

    /// The bucket key for a key or prefix path below the configured prefix.
    fn object_path(&self, rel: &str, op: StoreOp) -> StoreResult<ObjectPath> {
        let full = if self.location.prefix.is_empty() {
            rel.to_owned()
        } else {
            format!("{}/{rel}", self.location.prefix)
        };
        ObjectPath::parse(&full).map_err(|err| {
            StoreError::new(
                op,
                rel,
                StoreErrorKind::Other,
                format!("not a valid key: {err}"),
            )
        })
    }

    fn root_path(&self) -> Option<ObjectPath> {
        (!self.location.prefix.is_empty())
            .then(|| ObjectPath::parse(&self.location.prefix).ok())
            .flatten()
    }

    /// A bucket key back to the key below the configured prefix.
    fn relative<'p>(&self, path: &'p ObjectPath) -> Option<&'p str> {
        let path = path.as_ref();
        if self.location.prefix.is_empty() {
            Some(path)
        } else {
            path.strip_prefix(self.location.prefix.as_str())?
                .strip_prefix('/')
        }
    }

    /// Classifies an `object_store` error; the detail never holds the secret.
    fn error(&self, op: StoreOp, key: impl fmt::Display, err: &object_store::Error) -> StoreError {
        let text = scrub(&err.to_string(), &self.secret);
        let (kind, detail) = match err {
            object_store::Error::NotFound { .. } => {
                (StoreErrorKind::NotFound, "no such object".to_owned())
            }
            object_store::Error::Unauthenticated { .. }
            | object_store::Error::PermissionDenied { .. } => self.refused(&text),
            _ if credentials_refused(&text) => self.refused(&text),
            _ if unreachable(err) => (
                StoreErrorKind::Unavailable,
                format!("cannot reach object storage at {}: {text}", self.endpoint),
            ),
            _ if storage_full(&text) => (
                StoreErrorKind::StorageFull,
                format!("object storage at {} is full: {text}", self.endpoint),
            ),
            _ if server_error(&text) => (
                StoreErrorKind::Unavailable,
                format!("object storage at {} failed: {text}", self.endpoint),
            ),
            _ => (StoreErrorKind::Other, text),
        };
        StoreError::new(op, key, kind, detail)
    }

    /// The credentials were refused (a kind of unavailability: nothing works until they change).
    fn refused(&self, text: &str) -> (StoreErrorKind, String) {
        (
            StoreErrorKind::Unavailable,
            format!(
                "object storage refused the credentials for {} at {} (check {ACCESS_KEY_VAR} \
                 and {SECRET_KEY_VAR}){}",
                self.location,
                self.endpoint,
                s3_code(text).map(|c| format!(": {c}")).unwrap_or_default()
            ),
        )
    }

    /// Bytes stored under the prefix: all of them, including names that are not Cloister's.
    async fn count_used(&self) -> StoreResult<u64> {
        let root = self.root_path();
        let mut listing = self.store.list(root.as_ref());
        let mut total = 0u64;
        while let Some(meta) = listing.next().await {
            let meta = meta.map_err(|e| self.error(StoreOp::Capacity, &self.location, &e))?;
            total = total.saturating_add(meta.size);
        }
        Ok(total)
    }

    /// Refuses a write of `len` bytes that would take the stored bytes past the quota. The tally
    /// is recounted when older than `USED_TALLY_TTL`, so a second process writing to the same
    /// bucket can overshoot the quota by what it wrote in that time at most.
    async fn ensure_room(&self, key: &ObjectKey, len: u64) -> StoreResult<()> {
        let Some(quota) = self.quota_bytes else {
            return Ok(());
        };
        let mut used = self.used.lock().await;
        let stored = match &*used {
            Some(tally) if tally.counted_at.elapsed() < USED_TALLY_TTL => tally.bytes,
            _ => {
                let bytes = self.count_used().await?;
                *used = Some(UsedTally {
                    bytes,
                    counted_at: Instant::now(),
                });
                bytes
            }
        };
        if stored.saturating_add(len) > quota {
            return Err(StoreError::new(
                StoreOp::Write,
                key,
                StoreErrorKind::StorageFull,
                format!(
                    "the storage quota ({QUOTA_VAR}) of {quota} bytes is reached: {stored} bytes \
                     stored, {len} more asked for"
                ),
            ));
        }
        Ok(())
    }

    async fn wrote(&self, len: u64) {
        if let Some(tally) = self.used.lock().await.as_mut() {
            tally.bytes = tally.bytes.saturating_add(len);
        }
    }

    /// After a delete the tally is recounted at the next write.
    async fn forget_tally(&self) {
        *self.used.lock().await = None;
    }

    async fn put_opts(&self, key: &ObjectKey, bytes: Bytes, mode: PutMode) -> StoreResult<Created> {
        let len = bytes.len() as u64;
        // Some stores ignore `If-None-Match: *` on PUT (Garage 2.5 does) and would replace the
        // object: look first, so a create after a create is always seen (docs/decisions.md).
        if matches!(mode, PutMode::Create) && self.len(key).await?.is_some() {
            return Ok(Created::AlreadyThere);
        }
        self.ensure_room(key, len).await?;
        let path = self.object_path(&key.path(), StoreOp::Write)?;
        let options = PutOptions {
            mode,
            ..PutOptions::default()
        };
        match self
            .store
            .put_opts(&path, PutPayload::from(bytes), options)
            .await
        {
            Ok(_) => {
                self.wrote(len).await;
                Ok(Created::Created)
            }
            Err(
                object_store::Error::AlreadyExists { .. }
                | object_store::Error::Precondition { .. },
            ) => Ok(Created::AlreadyThere),
            Err(err) => Err(self.error(StoreOp::Write, key, &err)),
        }
    }

    async fn put_file_inner(&self, key: &ObjectKey, from: &Path) -> StoreResult<()> {
        let io = |e: std::io::Error| StoreError::io(StoreOp::Write, key, &e);
        let mut file = tokio::fs::File::open(from).await.map_err(io)?;
        let len = file.metadata().await.map_err(io)?.len();
        self.ensure_room(key, len).await?;
        let path = self.object_path(&key.path(), StoreOp::Write)?;
        let store: Arc<dyn ObjectStore> = self.store.clone();
        let mut writer = BufWriter::with_capacity(store, path, UPLOAD_PART).with_max_concurrency(2);
        let copied = async {
            tokio::io::copy(&mut file, &mut writer).await?;
            writer.shutdown().await
        }
        .await;
        if let Err(err) = copied {
            let _ = writer.abort().await;
            // BufWriter reports object_store's errors as io::Error wrapping them.
            let error = match err
                .get_ref()
                .and_then(|inner| inner.downcast_ref::<object_store::Error>())
            {
                Some(inner) => self.error(StoreOp::Write, key, inner),
                None => StoreError::io(StoreOp::Write, key, &err),
            };
            return Err(error);
        }
        self.wrote(len).await;
        tokio::fs::remove_file(from).await.map_err(io)
    }
}

/// Removes every occurrence of the secret, in case a message ever quotes it.
fn scrub(text: &str, secret: &str) -> String {
    if secret.is_empty() {
        text.to_owned()
    } else {
        text.replace(secret, "[secret]")
    }
}

/// The `<Code>` of an S3 error body quoted in `text`, e.g. `SignatureDoesNotMatch`.
fn s3_code(text: &str) -> Option<&str> {
    let start = text.find("<Code>")? + "<Code>".len();
    let len = text.get(start..)?.find("</Code>")?;
    text.get(start..start + len)
}

/// The request never got an answer: no connection, a timeout, a dropped connection.
fn unreachable(err: &object_store::Error) -> bool {
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(err);
    while let Some(current) = source {
        if let Some(http) = current.downcast_ref::<HttpError>() {
            return matches!(
                http.kind(),
                HttpErrorKind::Connect
                    | HttpErrorKind::Request
                    | HttpErrorKind::Timeout
                    | HttpErrorKind::Interrupted
            );
        }
        source = current.source();
    }
    false
}

// object_store keeps the HTTP status of an answer it does not map to a variant of its own only in
// its message ("Server returned non-2xx status code: 507 Insufficient Storage: <body>").
fn status_in(text: &str) -> Option<u16> {
    let start = text.find("status code: ")? + "status code: ".len();
    text.get(start..start + 3)?.parse().ok()
}

/// 507, or an error code for a full store (MinIO's `XMinioStorageFull`, Garage's quota).
fn storage_full(text: &str) -> bool {
    status_in(text) == Some(507)
        || s3_code(text).is_some_and(|code| {
            code.contains("StorageFull")
                || code.contains("QuotaExceeded")
                || code == "EntityTooLarge"
        })
}

/// 401 or 403, or an S3 code that says the key or its signature is wrong. object_store maps only
/// some requests' refusals to its own variants; a refused listing reaches us as a generic error
/// (seen with Garage 2.5: "403 Forbidden … AccessDenied … Invalid signature").
fn credentials_refused(text: &str) -> bool {
    matches!(status_in(text), Some(401 | 403))
        || s3_code(text).is_some_and(|code| {
            matches!(
                code,
                "AccessDenied" | "InvalidAccessKeyId" | "SignatureDoesNotMatch"
            )
        })
}

fn server_error(text: &str) -> bool {
    status_in(text).is_some_and(|status| (500..600).contains(&status))
}

impl ObjectStorage for S3Storage {
    fn put<'a>(&'a self, key: &'a ObjectKey, bytes: Bytes) -> StoreFuture<'a, ()> {
        Box::pin(async move {
            self.put_opts(key, bytes, PutMode::Overwrite).await?;
            Ok(())
        })
    }

    fn put_if_absent<'a>(&'a self, key: &'a ObjectKey, bytes: Bytes) -> StoreFuture<'a, Created> {
        Box::pin(self.put_opts(key, bytes, PutMode::Create))
    }

    fn put_file<'a>(&'a self, key: &'a ObjectKey, from: &'a Path) -> StoreFuture<'a, ()> {
        Box::pin(self.put_file_inner(key, from))
    }

    fn read_range<'a>(
        &'a self,
        key: &'a ObjectKey,
        range: Range<u64>,
    ) -> StoreFuture<'a, ByteStream> {
        Box::pin(async move {
            if range.start >= range.end {
                return Err(StoreError::new(
                    StoreOp::Read,
                    key,
                    StoreErrorKind::OutOfRange,
                    format!("bytes {}..{}: an empty range", range.start, range.end),
                ));
            }
            let path = self.object_path(&key.path(), StoreOp::Read)?;
            let options = GetOptions {
                range: Some(GetRange::Bounded(range.clone())),
                ..GetOptions::default()
            };
            let result = match self.store.get_opts(&path, options).await {
                Ok(result) => result,
                Err(err) => {
                    let error = self.error(StoreOp::Read, key, &err);
                    // A range that starts past the end (416): say so, with the length.
                    if error.kind == StoreErrorKind::Other {
                        if let Ok(Some(len)) = self.len(key).await {
                            if range.end > len {
                                return Err(StoreError::out_of_range(key, &range, len));
                            }
                        }
                    }
                    return Err(error);
                }
            };
            // S3 answers a range that runs past the end with what there is; the interface does not.
            if result.meta.size < range.end || result.range != range {
                return Err(StoreError::out_of_range(key, &range, result.meta.size));
            }
            let (name, endpoint, secret) = (
                key.to_string(),
                self.endpoint.clone(),
                Zeroizing::new(self.secret.as_str().to_owned()),
            );
            let pieces = result.into_stream().map_err(move |err| {
                let text = scrub(&err.to_string(), &secret);
                let kind = if unreachable(&err) {
                    StoreErrorKind::Unavailable
                } else {
                    StoreErrorKind::Other
                };
                StoreError::new(
                    StoreOp::Read,
                    &name,
                    kind,
                    format!("reading from object storage at {endpoint}: {text}"),
                )
            });
            Ok(pieces.boxed())
        })
    }

    fn len<'a>(&'a self, key: &'a ObjectKey) -> StoreFuture<'a, Option<u64>> {
        Box::pin(async move {
            let path = self.object_path(&key.path(), StoreOp::Measure)?;
            match self.store.head(&path).await {
                Ok(meta) => Ok(Some(meta.size)),
                Err(object_store::Error::NotFound { .. }) => Ok(None),
                Err(err) => Err(self.error(StoreOp::Measure, key, &err)),
            }
        })
    }

    fn list<'a>(&'a self, prefix: &'a KeyPrefix) -> StoreFuture<'a, Vec<Listed>> {
        Box::pin(async move {
            let path = self.object_path(&prefix.path(), StoreOp::List)?;
            let mut listing = self.store.list(Some(&path));
            let mut found = Vec::new();
            while let Some(meta) = listing.next().await {
                let meta = meta.map_err(|e| self.error(StoreOp::List, prefix, &e))?;
                if let Some(key) = self.relative(&meta.location).and_then(ObjectKey::parse) {
                    found.push(Listed {
                        key,
                        len: meta.size,
                    });
                }
            }
            Ok(found)
        })
    }

    fn delete<'a>(&'a self, key: &'a ObjectKey) -> StoreFuture<'a, ()> {
        Box::pin(async move {
            let path = self.object_path(&key.path(), StoreOp::Delete)?;
            let deleted = match self.store.delete(&path).await {
                Ok(()) | Err(object_store::Error::NotFound { .. }) => Ok(()),
                Err(err) => Err(self.error(StoreOp::Delete, key, &err)),
            };
            self.forget_tally().await;
            deleted
        })
    }

    fn delete_all<'a>(&'a self, prefix: &'a KeyPrefix) -> StoreFuture<'a, ()> {
        Box::pin(async move {
            let path = self.object_path(&prefix.path(), StoreOp::Delete)?;
            let locations: Vec<_> = self
                .store
                .list(Some(&path))
                .map_ok(|meta| meta.location)
                .try_collect()
                .await
                .map_err(|e| self.error(StoreOp::Delete, prefix, &e))?;
            let mut deleted = self
                .store
                .delete_stream(stream::iter(locations.into_iter().map(Ok)).boxed());
            let mut outcome = Ok(());
            while let Some(result) = deleted.next().await {
                match result {
                    Ok(_) | Err(object_store::Error::NotFound { .. }) => {}
                    Err(err) => {
                        outcome = Err(self.error(StoreOp::Delete, prefix, &err));
                        break;
                    }
                }
            }
            self.forget_tally().await;
            outcome
        })
    }

    fn capacity(&self) -> StoreFuture<'_, Capacity> {
        Box::pin(async move {
            let Some(quota) = self.quota_bytes else {
                return Ok(Capacity { available: None });
            };
            let used = self.count_used().await?;
            *self.used.lock().await = Some(UsedTally {
                bytes: used,
                counted_at: Instant::now(),
            });
            Ok(Capacity {
                available: Some(quota.saturating_sub(used)),
            })
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn locations_parse_strictly() {
        assert_eq!(
            S3Location::parse("s3://cloister-test/a/b/"),
            Ok(S3Location {
                bucket: "cloister-test".into(),
                prefix: "a/b".into()
            })
        );
        assert_eq!(
            S3Location::parse("s3://bucket").map(|l| l.to_string()),
            Ok("s3://bucket".to_owned())
        );
        for bad in [
            "https://bucket/x",
            "s3://",
            "s3://Bucket",
            "s3://b",
            "s3://bucket/a//b",
            "s3://bucket/../x",
            "s3://bucket/a b",
        ] {
            assert!(S3Location::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn plain_http_only_to_this_machine() {
        assert_eq!(check_endpoint("http://127.0.0.1:3900"), Ok(true));
        assert_eq!(check_endpoint("http://[::1]:3900"), Ok(true));
        assert_eq!(check_endpoint("http://localhost:3900"), Ok(true));
        assert_eq!(check_endpoint("https://s3.example.org"), Ok(false));
        assert!(check_endpoint("http://s3.example.org").is_err());
        assert!(check_endpoint("ftp://127.0.0.1").is_err());
        assert!(check_endpoint("not a url").is_err());
    }

    #[test]
    fn error_texts_are_read_for_what_they_say() {
        let full = "Server returned non-2xx status code: 507 Insufficient Storage: <Error><Code>XMinioStorageFull</Code></Error>";
        assert!(storage_full(full));
        assert_eq!(s3_code(full), Some("XMinioStorageFull"));
        assert!(server_error(
            "Server returned non-2xx status code: 503 Service Unavailable: "
        ));
        assert!(!storage_full(
            "Server returned non-2xx status code: 500 Internal Server Error: "
        ));
        assert!(credentials_refused(
            "Server returned non-2xx status code: 403 Forbidden: <?xml version=\"1.0\"?><Error><Code>AccessDenied</Code><Message>Forbidden: Invalid signature</Message></Error>"
        ));
        assert!(!credentials_refused(
            "Server returned non-2xx status code: 404 Not Found: <Error><Code>NoSuchBucket</Code></Error>"
        ));
        assert_eq!(scrub("a SECRET b", "SECRET"), "a [secret] b");
    }
}
