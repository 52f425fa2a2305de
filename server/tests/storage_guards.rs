//! Upload admission against free disk, in process over real SQLite and files: what admitted
//! uploads and queued jobs still need is reserved, every chunk is checked again, and a chunk
//! index has one spelling. The free-space reading is the only fake (behind `DiskSpace`); the
//! real full disk is in `disk_full.rs`.

mod common;

use std::sync::Arc;

use axum::http::StatusCode;
use cloister::storage::SettableDiskSpace;
use cloister_shared::api::Role;

use common::uploads::{SealedFile, CHUNK};
use common::{message, TestApp};

const MIB: u64 = 1 << 20;
const STORAGE_LOW: &str =
    "Upload cannot be accepted — server storage is low. Try smaller file or contact admin.";

/// A test app whose free disk reads `free` bytes until the test says otherwise, with no reserve
/// and a floor of `floor` bytes.
async fn app_with_disk(free: u64, floor: u64) -> (TestApp, Arc<SettableDiskSpace>) {
    let disk = Arc::new(SettableDiskSpace::new(free));
    let reading = disk.clone();
    let app = TestApp::spawn_with_state(
        |config| {
            config.gate.disk_reserve_bytes = 0;
            config.gate.disk_floor_bytes = floor;
        },
        move |state| state.core.disk = reading,
    )
    .await;
    (app, disk)
}

fn assert_storage_low(status: StatusCode, body: &serde_json::Value) {
    assert_eq!(status, StatusCode::INSUFFICIENT_STORAGE, "{body}");
    assert_eq!(message(body), STORAGE_LOW);
    assert_eq!(body["error"]["code"], "insufficient_storage");
}

#[tokio::test]
async fn an_upload_is_admitted_only_if_the_space_held_by_open_uploads_and_queued_jobs_leaves_room()
{
    // Each 8 MiB upload needs 16 MiB (original + processing); 30 MiB are free.
    let (app, _disk) = app_with_disk(30 * MIB, MIB).await;
    let alice = app.signed_in("alice", Role::Member).await;
    let first = SealedFile::new(2 * CHUNK);
    let second = SealedFile::new(2 * CHUNK);
    assert_eq!(
        app.create_upload(&alice, &first).await.0,
        StatusCode::CREATED
    );

    // The first upload has written nothing yet, but holds 16 MiB: 16 + 16 > 30.
    let (status, body) = app.create_upload(&alice, &second).await;
    assert_storage_low(status, &body);

    // Complete, it holds only its job's working space (8 MiB): 8 + 16 < 30.
    for index in 0..first.chunk_count() {
        assert_eq!(app.put_chunk(&alice, &first, index).await.0, StatusCode::OK);
    }
    let (status, body) = app
        .complete_upload(&alice, &first.id, &first.dek_hex())
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(
        app.create_upload(&alice, &second).await.0,
        StatusCode::CREATED
    );

    // Now the queued job (8) and the open upload (16) hold 24 MiB: a 3 MiB upload (6) is too much.
    let (status, body) = app
        .create_upload(&alice, &SealedFile::new(3 * MIB as usize))
        .await;
    assert_storage_low(status, &body);
}

#[tokio::test]
async fn a_chunk_is_refused_with_507_when_the_disk_has_filled_since_the_upload_began() {
    let (app, disk) = app_with_disk(100 * MIB, 8 * MIB).await;
    let alice = app.signed_in("alice", Role::Member).await;
    let file = SealedFile::new(2 * CHUNK);
    assert_eq!(
        app.create_upload(&alice, &file).await.0,
        StatusCode::CREATED
    );
    assert_eq!(app.put_chunk(&alice, &file, 0).await.0, StatusCode::OK);

    // Something else filled the disk: the chunk would eat into the database's floor.
    disk.set(8 * MIB + CHUNK as u64);
    let (status, body) = app.put_chunk(&alice, &file, 1).await;
    assert_storage_low(status, &body);
    let (_, _, state) = app
        .call(
            axum::http::Method::GET,
            &format!("/api/uploads/{}", file.id),
            Some(&alice),
            None,
        )
        .await;
    assert_eq!(state["received"], serde_json::json!([0]), "{state}");

    // Space came back: the same chunk goes through.
    disk.set(100 * MIB);
    assert_eq!(app.put_chunk(&alice, &file, 1).await.0, StatusCode::OK);
}

#[tokio::test]
async fn a_chunk_index_has_one_spelling_canonical_decimal() {
    let (app, _disk) = app_with_disk(1 << 40, 0).await;
    let alice = app.signed_in("alice", Role::Member).await;
    let file = SealedFile::new(CHUNK + 10);
    app.create_upload(&alice, &file).await;
    let chunk = file.chunk(1);
    for bad in ["+1", "01", "-1", "abc", "1.0"] {
        let (status, body) = app
            .put_bytes(
                &format!("/api/uploads/{}/chunks/{bad}", file.id),
                Some(&alice),
                chunk.clone(),
                Some(chunk.len()),
            )
            .await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{bad}: {body}");
        assert_eq!(
            message(&body),
            format!(
                "Chunk index {bad} is not a chunk number: write it in decimal without a sign or \
                 leading zeros; this upload has chunks 0 to 1."
            )
        );
    }
    assert_eq!(app.put_chunk(&alice, &file, 1).await.0, StatusCode::OK);
}
