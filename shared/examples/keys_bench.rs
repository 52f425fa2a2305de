//! How long keys for people take on this machine (docs/benchmarks.md, "Keys: unlock and key
//! change"): unlocking (Argon2id at the floor, m = 64 MiB, t = 3, then opening the private key and
//! the grant) and a key change over 1,000 videos (the new key sealed to the holders and the
//! recovery key, then every video key re-wrapped in batches of 200, as the admin's tab does).
//! Reports medians of five runs; asserts nothing about time.
//!
//! `cargo run --release -p cloister-shared --example keys_bench`

use std::time::{Duration, Instant};

use cloister_shared::api::keys::{
    KeyHolder, LibraryMode, LibraryStatus, RotationBatch, RotationBatchItem, RotationPlan,
    RotationProgress,
};
use cloister_shared::crypto::keys::{wrap_dek, Dek};
use cloister_shared::keyring::{self, rewrap_batch, start_rotation};
use cloister_shared::VideoId;

const VIDEOS: usize = 1_000;
const BATCH: usize = 200;
const RUNS: usize = 5;
const PASSPHRASE: &str = "a long passphrase of several words";

fn median(mut times: Vec<Duration>) -> Duration {
    times.sort();
    times[times.len() / 2]
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let (request, admin, _recovery) = keyring::new_library(PASSPHRASE)?;
    let status = LibraryStatus {
        mode: LibraryMode::Members,
        generation: 1,
        me: Some(request.keys.clone()),
        my_grant: Some(request.grant.clone()),
        previous: None,
        shared: None,
        recovery_set: true,
        rotation: None,
        rotation_needed: vec![],
        waiting: vec![],
        holders: vec![],
    };

    let mut unlock_times = Vec::new();
    for _ in 0..RUNS {
        let start = Instant::now();
        keyring::unlock(PASSPHRASE, &status)?;
        unlock_times.push(start.elapsed());
    }

    // Ten holders, as a family's library might have.
    let holders: Vec<KeyHolder> = (0..10)
        .map(|i| {
            keyring::new_member_keys(PASSPHRASE).map(|(keys, _)| KeyHolder {
                username: format!("member{i}"),
                public_key: keys.public_key,
            })
        })
        .collect::<Result<_, _>>()?;
    let plan = RotationPlan {
        generation: 1,
        holders,
        recovery_public_key: Some(request.recovery.public_key),
        needed_for: vec!["gone".to_owned()],
        running: None,
    };
    let videos: Vec<RotationBatchItem> = (0..VIDEOS)
        .map(|_| -> Result<_, Box<dyn std::error::Error>> {
            let video_id = VideoId::random()?;
            let dek = Dek::generate()?;
            Ok(RotationBatchItem {
                video_id,
                wrapped_dek: wrap_dek(&admin.library_key, &video_id, &dek)?,
            })
        })
        .collect::<Result<_, _>>()?;

    let mut rotation_times = Vec::new();
    for _ in 0..RUNS {
        let start = Instant::now();
        let (_, next) = start_rotation(&admin, &plan)?;
        for chunk in videos.chunks(BATCH) {
            let batch = RotationBatch {
                to_generation: 2,
                items: chunk.to_vec(),
                progress: RotationProgress {
                    from_generation: 1,
                    to_generation: 2,
                    done: 0,
                    total: VIDEOS as u64,
                    started_by: None,
                    started_at: 0,
                    finished: false,
                },
            };
            rewrap_batch(&next, &batch)?;
        }
        rotation_times.push(start.elapsed());
    }

    println!(
        "unlock (Argon2id m=64 MiB t=3 p=1, private key, grant): median {:.0} ms of {RUNS}",
        median(unlock_times).as_secs_f64() * 1e3
    );
    println!(
        "key change, {VIDEOS} videos in batches of {BATCH} (crypto only, no network): median {:.1} ms of {RUNS}",
        median(rotation_times).as_secs_f64() * 1e3
    );
    Ok(())
}
