//! The object storage interface's contract, one story run against each backend: the local
//! filesystem always, S3-compatible object storage when `CLOISTER_TEST_S3` names a bucket
//! (scripts/test runs this under scripts/with-garage, a throwaway Garage).

use std::collections::BTreeSet;
use std::ops::Range;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use cloister::storage::{
    Capacity, Created, KeyPrefix, LocalStorage, ObjectKey, ObjectStorage, RenditionId, S3Config,
    S3Storage, SettableDiskSpace, StoreError, StoreErrorKind, StoredObject,
};
use cloister_shared::VideoId;
use futures_util::TryStreamExt;
use zeroize::Zeroizing;

/// A sealed chunk at the default chunk size: 4 MiB of ciphertext and its 16-byte tag.
const SEALED_CHUNK: usize = 4 * 1024 * 1024 + 16;
/// Bigger than one S3 upload part (8 MiB), so `put_file` takes the multipart path there.
const RENDITION_FILE: usize = 9 * 1024 * 1024 + 3;

/// Bytes that differ at every offset a test reads, so a wrong offset shows.
fn pattern(len: usize, seed: u8) -> Bytes {
    (0..len)
        .map(|i| (i as u32).wrapping_mul(2_654_435_761).to_le_bytes()[1] ^ seed)
        .collect::<Vec<u8>>()
        .into()
}

async fn read(
    storage: &dyn ObjectStorage,
    key: &ObjectKey,
    range: Range<u64>,
) -> Result<Vec<u8>, StoreError> {
    let stream = storage.read_range(key, range).await?;
    let pieces: Vec<Bytes> = stream.try_collect().await?;
    Ok(pieces.concat())
}

fn slice(bytes: &Bytes, range: Range<usize>) -> &[u8] {
    bytes.get(range).expect("range within the test's data")
}

fn keys(listed: Vec<cloister::storage::Listed>) -> BTreeSet<String> {
    listed.into_iter().map(|l| l.key.path()).collect()
}

/// Everything the interface promises, on one backend. `atomic_create`: whether two concurrent
/// put-if-absent calls are checked too (not on Garage, which ignores `If-None-Match: *`).
async fn story(storage: &dyn ObjectStorage, scratch: &std::path::Path, atomic_create: bool) {
    let video = VideoId::random().expect("random");
    let rendition = RenditionId::generate().expect("random");
    let header = ObjectKey::original_header(video);
    let chunk0 = ObjectKey::original_chunk(video, 0);
    let chunk1 = ObjectKey::original_chunk(video, 1);
    let manifest = ObjectKey::processed(video, StoredObject::Manifest);
    let thumb = ObjectKey::processed(video, StoredObject::Thumb);
    let init = ObjectKey::processed(
        video,
        StoredObject::Init {
            rendition: rendition.clone(),
        },
    );
    let segment = ObjectKey::processed(
        video,
        StoredObject::Segment {
            rendition: rendition.clone(),
            index: 0,
        },
    );

    // A missing object: no length, and a read fails as not-found, naming the key.
    assert_eq!(storage.len(&manifest).await.expect("len"), None);
    let missing = read(storage, &manifest, 0..1).await.expect_err("missing");
    assert_eq!(missing.kind, StoreErrorKind::NotFound, "{missing}");
    assert!(missing.to_string().contains(&manifest.path()), "{missing}");
    assert!(storage
        .list(&KeyPrefix::Video(video))
        .await
        .expect("list")
        .is_empty());

    // Put and read back: the header and a full-size sealed chunk, whole and by ranges.
    let header_bytes = pattern(41, 1);
    let chunk_bytes = pattern(SEALED_CHUNK, 2);
    let last_chunk = pattern(1000, 3);
    storage
        .put(&header, header_bytes.clone())
        .await
        .expect("put header");
    storage
        .put(&chunk0, chunk_bytes.clone())
        .await
        .expect("put chunk 0");
    storage
        .put(&chunk1, last_chunk.clone())
        .await
        .expect("put chunk 1");
    assert_eq!(
        read(storage, &header, 0..41).await.expect("read"),
        header_bytes
    );
    let end = SEALED_CHUNK as u64;
    assert_eq!(
        read(storage, &chunk0, 0..end).await.expect("read"),
        chunk_bytes
    );
    assert_eq!(
        read(storage, &chunk0, 0..1).await.expect("first byte"),
        slice(&chunk_bytes, 0..1)
    );
    let middle = SEALED_CHUNK / 2;
    assert_eq!(
        read(storage, &chunk0, middle as u64..middle as u64 + 300_000)
            .await
            .expect("middle"),
        slice(&chunk_bytes, middle..middle + 300_000)
    );
    assert_eq!(
        read(storage, &chunk0, end - 1..end)
            .await
            .expect("last byte"),
        slice(&chunk_bytes, SEALED_CHUNK - 1..SEALED_CHUNK)
    );
    for past in [end - 1..end + 1, end..end + 1, end + 10..end + 20, 5..5] {
        let err = read(storage, &chunk0, past.clone())
            .await
            .expect_err("past the end");
        assert_eq!(err.kind, StoreErrorKind::OutOfRange, "{past:?}: {err}");
        assert!(err.to_string().contains(&chunk0.path()), "{err}");
    }
    assert_eq!(storage.len(&chunk0).await.expect("len"), Some(end));
    assert_eq!(storage.len(&chunk1).await.expect("len"), Some(1000));
    assert_eq!(storage.len(&header).await.expect("len"), Some(41));

    // Put replaces.
    storage
        .put(&manifest, Bytes::from_static(b"first"))
        .await
        .expect("put");
    storage
        .put(&manifest, Bytes::from_static(b"second!"))
        .await
        .expect("replace");
    assert_eq!(
        read(storage, &manifest, 0..7).await.expect("read"),
        b"second!"
    );

    // Put-if-absent: once created, then already there and left as it was; of two at once,
    // exactly one creates.
    assert_eq!(
        storage
            .put_if_absent(&thumb, Bytes::from_static(b"one"))
            .await
            .expect("create"),
        Created::Created
    );
    assert_eq!(
        storage
            .put_if_absent(&thumb, Bytes::from_static(b"two"))
            .await
            .expect("again"),
        Created::AlreadyThere
    );
    assert_eq!(read(storage, &thumb, 0..3).await.expect("read"), b"one");
    if atomic_create {
        let (a, b) = tokio::join!(
            storage.put_if_absent(&init, Bytes::from_static(b"AAAA")),
            storage.put_if_absent(&init, Bytes::from_static(b"BBBB")),
        );
        let mut outcomes = [a.expect("one racer"), b.expect("the other")];
        outcomes.sort_by_key(|c| *c == Created::AlreadyThere);
        assert_eq!(outcomes, [Created::Created, Created::AlreadyThere]);
    } else {
        assert_eq!(
            storage
                .put_if_absent(&init, Bytes::from_static(b"AAAA"))
                .await
                .expect("create"),
            Created::Created
        );
    }

    // Put from a file: the file's bytes become the object, and the file is consumed.
    let made = scratch.join("segment.tmp");
    let segment_bytes = pattern(RENDITION_FILE, 4);
    std::fs::write(&made, &segment_bytes).expect("write temp file");
    storage.put_file(&segment, &made).await.expect("put file");
    assert!(!made.exists(), "put_file consumes its file");
    assert_eq!(
        storage.len(&segment).await.expect("len"),
        Some(RENDITION_FILE as u64)
    );
    assert_eq!(
        read(storage, &segment, 0..RENDITION_FILE as u64)
            .await
            .expect("read"),
        segment_bytes
    );

    // Listing: a video, its original, one rendition.
    let all: BTreeSet<String> = [
        &header, &chunk0, &chunk1, &manifest, &thumb, &init, &segment,
    ]
    .iter()
    .map(|k| k.path())
    .collect();
    let listed = storage.list(&KeyPrefix::Video(video)).await.expect("list");
    assert!(
        listed.iter().any(|l| l.key == chunk0 && l.len == end),
        "{listed:?}"
    );
    assert_eq!(keys(listed), all);
    assert_eq!(
        keys(
            storage
                .list(&KeyPrefix::Original(video))
                .await
                .expect("list")
        ),
        [&header, &chunk0, &chunk1]
            .iter()
            .map(|k| k.path())
            .collect()
    );
    let in_rendition = KeyPrefix::Rendition(video, rendition.clone());
    assert_eq!(
        keys(storage.list(&in_rendition).await.expect("list")),
        [&init, &segment].iter().map(|k| k.path()).collect()
    );

    // Delete: absent afterwards, and deleting what is absent is fine.
    storage.delete(&chunk1).await.expect("delete");
    storage.delete(&chunk1).await.expect("delete again");
    assert_eq!(storage.len(&chunk1).await.expect("len"), None);
    let err = read(storage, &chunk1, 0..1).await.expect_err("deleted");
    assert_eq!(err.kind, StoreErrorKind::NotFound, "{err}");

    // Delete all of a rendition, then all of the video.
    storage
        .delete_all(&in_rendition)
        .await
        .expect("delete rendition");
    assert!(storage.list(&in_rendition).await.expect("list").is_empty());
    assert_eq!(storage.len(&manifest).await.expect("len"), Some(7));
    storage
        .delete_all(&KeyPrefix::Video(video))
        .await
        .expect("delete video");
    storage
        .delete_all(&KeyPrefix::Video(video))
        .await
        .expect("delete video again");
    assert!(storage
        .list(&KeyPrefix::Video(video))
        .await
        .expect("list")
        .is_empty());
    assert_eq!(storage.len(&header).await.expect("len"), None);
}

#[tokio::test]
async fn local_backend_keeps_the_contract() {
    let root = tempfile::tempdir().expect("temp dir");
    let scratch = tempfile::tempdir().expect("temp dir");
    let disk = Arc::new(SettableDiskSpace::new(5_000_000));
    let storage = LocalStorage::new(root.path().to_path_buf(), disk.clone());
    story(&storage, scratch.path(), true).await;

    // The keys are files at the documented paths, and no temp file is left behind.
    let video = VideoId::random().expect("random");
    let chunk = ObjectKey::original_chunk(video, 7);
    storage
        .put(&chunk, Bytes::from_static(b"sealed"))
        .await
        .expect("put");
    storage
        .put_if_absent(&chunk, Bytes::from_static(b"other"))
        .await
        .expect("put if absent");
    let dir = root.path().join(format!("videos/{video}/original"));
    let names: Vec<String> = std::fs::read_dir(&dir)
        .expect("read dir")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(names, ["7.sealed"]);
    assert_eq!(
        std::fs::read(dir.join("7.sealed")).expect("read"),
        b"sealed"
    );

    // Capacity is the storage root's free space, as the disk reading gives it.
    assert_eq!(
        storage.capacity().await.expect("capacity"),
        Capacity {
            available: Some(5_000_000)
        }
    );
    disk.set(0);
    assert_eq!(
        storage.capacity().await.expect("capacity"),
        Capacity { available: Some(0) }
    );
}

/// The S3 location for this run, or `None` (said in one line) when no object storage is set up.
fn s3_location() -> Option<String> {
    match std::env::var("CLOISTER_TEST_S3") {
        Ok(url) if !url.is_empty() => {
            // A prefix of its own, so runs and tests never see each other's objects.
            let run = VideoId::random().expect("random");
            Some(format!("{}/{run}", url.trim_end_matches('/')))
        }
        _ => {
            eprintln!("CLOISTER_TEST_S3 is not set: the S3 backend is not tested (scripts/with-garage sets it)");
            None
        }
    }
}

async fn open_s3(config: S3Config) -> Result<S3Storage, StoreError> {
    // Bounds a hang; `open` itself gives up well within this.
    tokio::time::timeout(Duration::from_secs(60), S3Storage::open(config))
        .await
        .expect("open answers")
}

#[tokio::test]
async fn s3_backend_keeps_the_contract() {
    let Some(url) = s3_location() else { return };
    let config = S3Config::from_env(&url).expect("S3 configuration from the environment");
    assert_eq!(config.quota_bytes, None);
    let storage = open_s3(config).await.expect("open the bucket");
    let scratch = tempfile::tempdir().expect("temp dir");
    // Garage 2.5 ignores If-None-Match on PUT (its garage_api_s3 put.rs never reads it).
    story(&storage, scratch.path(), false).await;
    assert_eq!(
        storage.capacity().await.expect("capacity"),
        Capacity { available: None },
        "no quota: unknown"
    );
}

#[tokio::test]
async fn s3_quota_fills_up() {
    let Some(url) = s3_location() else { return };
    let mut config = S3Config::from_env(&url).expect("S3 configuration from the environment");
    let quota = 2 * SEALED_CHUNK as u64 + 100;
    config.quota_bytes = Some(quota);
    let storage = open_s3(config).await.expect("open the bucket");
    assert_eq!(
        storage.capacity().await.expect("capacity"),
        Capacity {
            available: Some(quota)
        }
    );
    let video = VideoId::random().expect("random");
    let chunk = |n| ObjectKey::original_chunk(video, n);
    storage
        .put(&chunk(0), pattern(SEALED_CHUNK, 5))
        .await
        .expect("first chunk fits");
    storage
        .put(&chunk(1), pattern(SEALED_CHUNK, 6))
        .await
        .expect("second chunk fits");
    assert_eq!(
        storage.capacity().await.expect("capacity"),
        Capacity {
            available: Some(100)
        }
    );
    let full = storage
        .put(&chunk(2), pattern(SEALED_CHUNK, 7))
        .await
        .expect_err("the quota is reached");
    assert_eq!(full.kind, StoreErrorKind::StorageFull, "{full}");
    assert!(full.to_string().contains(&chunk(2).path()), "{full}");
    assert_eq!(storage.len(&chunk(2)).await.expect("len"), None);

    // Deleting makes room again.
    storage.delete(&chunk(0)).await.expect("delete");
    storage
        .put(&chunk(2), pattern(SEALED_CHUNK, 7))
        .await
        .expect("fits again");
    storage
        .delete_all(&KeyPrefix::Video(video))
        .await
        .expect("clean up");
}

#[tokio::test]
async fn s3_refuses_a_wrong_secret_without_printing_it() {
    let Some(url) = s3_location() else { return };
    let mut config = S3Config::from_env(&url).expect("S3 configuration from the environment");
    let right = config.secret_access_key.clone();
    let wrong = format!("{}x", right.as_str());
    config.secret_access_key = Zeroizing::new(wrong.clone());
    let err = open_s3(config)
        .await
        .expect_err("a wrong secret is refused");
    let message = err.to_string();
    assert_eq!(err.kind, StoreErrorKind::Unavailable, "{message}");
    assert!(
        message.contains("object storage refused the credentials"),
        "{message}"
    );
    assert!(
        !message.contains(right.as_str()) && !message.contains(&wrong),
        "{message}"
    );
}

/// Needs no object storage: nothing listens at the endpoint.
#[tokio::test]
async fn s3_unreachable_endpoint_is_unavailable() {
    let closed = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port();
    let endpoint = format!("http://127.0.0.1:{closed}");
    let secret = "not-a-real-secret-0123456789";
    let config = S3Config {
        url: "s3://cloister-test/unreachable".to_owned(),
        endpoint: Some(endpoint.clone()),
        region: "garage".to_owned(),
        access_key_id: "GK0123456789abcdef".to_owned(),
        secret_access_key: Zeroizing::new(secret.to_owned()),
        quota_bytes: None,
    };
    let err = open_s3(config).await.expect_err("nothing answers");
    let message = err.to_string();
    assert_eq!(err.kind, StoreErrorKind::Unavailable, "{message}");
    assert!(
        message.contains(&format!("cannot reach object storage at {endpoint}")),
        "{message}"
    );
    assert!(!message.contains(secret), "{message}");
}
