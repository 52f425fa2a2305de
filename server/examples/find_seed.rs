//! Fills a library with many sealed videos at once, for the search test and the search benchmark
//! (docs/benchmarks.md, "Search"; end2end/tests/find.spec.ts).
//!
//!     cargo build --release -p cloister --example find_seed
//!     CLOISTER_PASSPHRASE=… target/release/examples/find_seed --data-dir D --owner ann --count 5000
//!
//! Real uploads of thousands of videos would take an hour and queue thousands of jobs, so the
//! `videos` rows are inserted directly, as `gallery_bench` does, into the data directory of a
//! server that may be running. Everything the browser reads is real: the library key is opened
//! with the owner's own passphrase as their client does, and each video gets its own DEK wrapped
//! under it, a sealed title, a sealed description and sealed metadata (recording time, duration, picture
//! size), so `GET /api/videos/index` serves them and the gallery decrypts and searches them with
//! its real code. The rows have no media: `ready` ones have no rendition or thumbnail, so they
//! cannot be played. Titles are `<prefix> 0001` … followed by a few words; descriptions are a
//! dozen words from a fixed vocabulary (the same for a given `--seed`); `--unique` adds one more
//! video whose description holds the given words, to be searched for. `--remove` deletes what
//! it added for `--owner` before (rows whose original's header is all zeros, which no real upload
//! has), so a test can leave the shared library as it found it.

use anyhow::{ensure, Context};
use clap::Parser;
use cloister::accounts::unix_now;
use cloister_shared::api::videos::{VideoMetadata, METADATA_VERSION};
use cloister_shared::crypto::member::open_library_key;
use cloister_shared::crypto::stream::{seal_all, DEFAULT_CHUNK_SIZE};
use cloister_shared::keyring;
use cloister_shared::{wrap_dek, Dek, LibraryKey, Purpose, VideoId};

#[derive(Parser)]
struct Args {
    #[arg(long)]
    data_dir: std::path::PathBuf,
    /// The member who "uploaded" them.
    #[arg(long)]
    owner: String,
    #[arg(long, default_value_t = 0)]
    count: u32,
    /// Remove the owner's seeded videos instead of adding any.
    #[arg(long)]
    remove: bool,
    /// Titles start with this word.
    #[arg(long, default_value = "Clip")]
    prefix: String,
    /// One more video, titled "<prefix> special", whose description is these words.
    #[arg(long)]
    unique: Option<String>,
    #[arg(long, default_value_t = 1)]
    seed: u64,
}

const WORDS: &[&str] = &[
    "garden",
    "birthday",
    "beach",
    "holiday",
    "school",
    "concert",
    "picnic",
    "grandma",
    "grandpa",
    "football",
    "snow",
    "mountain",
    "river",
    "bicycle",
    "kitchen",
    "dinner",
    "wedding",
    "rehearsal",
    "piano",
    "violin",
    "puppy",
    "kitten",
    "forest",
    "harbour",
    "market",
    "village",
    "summer",
    "winter",
    "autumn",
    "spring",
    "morning",
    "evening",
    "lake",
    "boat",
    "train",
    "airport",
    "museum",
    "castle",
    "festival",
    "parade",
    "swimming",
    "dance",
    "play",
    "game",
    "party",
    "camping",
    "fireworks",
    "sunset",
];

/// A small deterministic generator (xorshift64*): the same library for the same seed.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }

    fn words(&mut self, n: usize) -> String {
        (0..n)
            .map(|_| WORDS[self.below(WORDS.len() as u64) as usize])
            .collect::<Vec<_>>()
            .join(" ")
    }
}

/// The library key as the owner's client opens it (docs/accounts.md, "Keys for people"): their
/// own passphrase, their private key, their grant; or the shared passphrase of a library they have
/// not converted yet.
async fn owners_library_key(
    pool: &cloister::db::Db,
    owner: i64,
    passphrase: &str,
) -> anyhow::Result<LibraryKey> {
    let library = cloister::library::store::get(pool)
        .await?
        .context("the library is not set up")?;
    let keys = cloister::library::keys_store::keys_of_user(pool, owner).await?;
    let (Some(keys), grant) = (
        keys,
        cloister::library::keys_store::grant_of(pool, owner, library.generation).await?,
    ) else {
        let shared = library
            .shared
            .context("the owner has no keys and the library no shared passphrase")?;
        return Ok(keyring::unlock_shared(passphrase, &shared, library.generation)?.library_key);
    };
    let secret = keyring::open_private_key(passphrase, &keys)?;
    let grant = grant.context("the owner has not been let in yet")?;
    Ok(open_library_key(&secret, &grant, library.generation)?)
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let passphrase =
        std::env::var("CLOISTER_PASSPHRASE").context("set CLOISTER_PASSPHRASE to the library's")?;
    let pool = cloister::db::open(&args.data_dir, None)
        .await
        .context("open the database")?;
    let owner: Option<i64> = sqlx::query_scalar("SELECT id FROM users WHERE username = $1")
        .bind(&args.owner)
        .fetch_optional(&pool)
        .await?;
    let owner = owner.context("no such member")?;
    let key = owners_library_key(&pool, owner, &passphrase).await?;
    if args.remove {
        let gone = sqlx::query("DELETE FROM videos WHERE owner_id = $1 AND stream_header = $2")
            .bind(owner)
            .bind(vec![0u8; 41])
            .execute(&pool)
            .await?;
        println!(
            "removed {} seeded videos of {}",
            gone.rows_affected(),
            args.owner
        );
        return Ok(());
    }

    let mut rng = Rng(args.seed.max(1) * 0x9e37_79b9_7f4a_7c15);
    let now = unix_now();
    let mut tx = pool.begin().await?;
    for n in 0..args.count {
        let title = format!("{} {:04} {}", args.prefix, n + 1, rng.words(2));
        let description = rng.words(12);
        let status = match rng.below(20) {
            0 => "failed",
            1 => "uploaded",
            _ => "ready",
        };
        insert(
            &mut tx,
            &key,
            owner,
            &mut rng,
            now - i64::from(n) * 600,
            status,
            &title,
            &description,
        )
        .await?;
    }
    if let Some(words) = &args.unique {
        let title = format!("{} special", args.prefix);
        insert(
            &mut tx,
            &key,
            owner,
            &mut rng,
            now + 1,
            "ready",
            &title,
            words,
        )
        .await?;
    }
    tx.commit().await?;
    println!(
        "added {} videos for {}",
        args.count + u32::from(args.unique.is_some()),
        args.owner
    );
    Ok(())
}

#[allow(clippy::too_many_arguments)]
async fn insert(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    key: &LibraryKey,
    owner: i64,
    rng: &mut Rng,
    created_at: i64,
    status: &str,
    title: &str,
    description: &str,
) -> anyhow::Result<()> {
    let id = VideoId::random()?;
    let dek = Dek::generate()?;
    let seal =
        |purpose: Purpose, bytes: &[u8]| seal_all(&dek, &id, &purpose, DEFAULT_CHUNK_SIZE, bytes);
    let portrait = rng.below(5) == 0;
    let duration_ms = 1_000 + rng.below(600_000);
    let metadata = VideoMetadata {
        version: METADATA_VERSION,
        // Recorded up to three years before the upload, or not known (one in six).
        recorded_at: (rng.below(6) != 0)
            .then(|| created_at - i64::try_from(rng.below(3 * 365 * 86_400)).unwrap_or(0)),
        duration_ms,
        width: if portrait { 720 } else { 1280 },
        height: if portrait { 1280 } else { 720 },
    };
    let size = 100_000 + rng.below(200_000_000);
    let ready = status == "ready";
    let done = sqlx::query(
        "INSERT INTO videos (id, owner_id, status, size_bytes, created_at, updated_at, wrapped_dek,
                             title_sealed, description_sealed, stream_header, chunk_size,
                             chunk_count, duration_ms, metadata_sealed, key_generation)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14,
                 COALESCE((SELECT key_generation FROM library WHERE id = 1), 1))",
    )
    .bind(id.to_string())
    .bind(owner)
    .bind(status)
    .bind(i64::try_from(size)?)
    .bind(created_at)
    .bind(created_at)
    .bind(wrap_dek(key, &id, &dek)?.to_bytes().to_vec())
    .bind(seal(Purpose::Title, title.as_bytes())?)
    .bind(seal(Purpose::Description, description.as_bytes())?)
    .bind(vec![0u8; 41])
    .bind(i64::from(DEFAULT_CHUNK_SIZE))
    .bind(i64::try_from(size.div_ceil(u64::from(DEFAULT_CHUNK_SIZE)))?)
    .bind(ready.then_some(i64::try_from(duration_ms)?))
    .bind(
        ready
            .then(|| {
                seal(
                    Purpose::Metadata,
                    &serde_json::to_vec(&metadata).unwrap_or_default(),
                )
            })
            .transpose()?,
    )
    .execute(&mut **tx)
    .await?;
    ensure!(done.rows_affected() == 1, "the row was not added");
    Ok(())
}
