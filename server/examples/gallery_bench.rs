//! Gallery listing benchmark (docs/benchmarks.md, "Gallery listing"; issue #6): the median and p99
//! of `GET /api/videos` with 100,000 videos in the library (goal: p99 under 10 ms).
//!
//!     cargo build --release -p cloister --example gallery_bench
//!     target/release/examples/gallery_bench --videos 100000
//!
//! It opens a real `AppState` on a temp data directory, adds a few members and inserts the `videos`
//! rows directly, in batched transactions (real uploads would take hours). The rows look like what
//! uploads and processing leave behind: mostly `ready` with a rendition, a duration and a
//! thumbnail; a few unfinished uploads by every member, so the visibility rule hides some rows
//! from the viewer; random sealed titles, wrapped DEKs and stream headers of the real sizes;
//! creation times over three years, some in the same second. One member signs in through the
//! router, and then each case is timed through the real router in process
//! (`tower::ServiceExt::oneshot` with the session cookie: routing, the session lookup, the page
//! query, JSON encoding, reading the body), alternating with a direct call of
//! `videos::list::page` (the SQL and the mapping to `VideoSummary`, no HTTP):
//!
//! - the first page (default limit 50), and the first page with `limit=200`;
//! - a walk over every page by `next_cursor`, once;
//! - pages at chosen depths (0 = the first page), each repeated with the cursor the walk got.
//!
//! More rows split the time: the page query alone at the deepest depth (rows fetched, not
//! mapped), beside the same query with the cursor clause it had before commit 10b90ce (an `OR` of
//! comparisons, from which SQLite derives no range on the index); `GET /api/auth/me`
//! (routing and the session lookup, a tiny body); and `serde_json::to_vec` of a page.
//! `EXPLAIN QUERY PLAN` of the page query (on PostgreSQL, `EXPLAIN`) is printed before the table.
//! Times are wall clock on whatever else the machine runs, so the cores and the 1/5/15-minute load
//! averages are printed beside them; nothing asserts on speed.
//!
//! The library is SQLite in the temp data directory unless `--database-url` /
//! `CLOISTER_DATABASE_URL` names an empty PostgreSQL database (`scripts/bench-gallery.sh
//! --postgres` makes one in a throwaway cluster).

use std::collections::HashSet;
use std::time::{Duration, Instant};

use anyhow::{ensure, Context};
use axum::body::{Body, Bytes};
use axum::http::{header, Request, StatusCode};
use axum::Router;
use clap::Parser;
use cloister::accounts::{unix_now, users};
use cloister::config::Config;
use cloister::db::{Backend, Db};
use cloister::videos::list;
use cloister::AppState;
use cloister_shared::api::{Role, VideoPage};
use http_body_util::BodyExt;
use sqlx::{Any, Row as _, Transaction};
use tower::ServiceExt;
use zeroize::Zeroizing;

const PASSWORD: &str = "benchmark password";
const HOST: &str = "localhost:3000";
/// Per mille of rows in each status other than `ready`.
const UPLOADING: u64 = 15;
const UPLOADED: u64 = 5;
const PROCESSING: u64 = 5;
const FAILED: u64 = 10;
/// Per mille of ready videos without a thumbnail, and of videos with a description.
const NO_THUMB: u64 = 20;
const WITH_DESCRIPTION: u64 = 300;
/// Per mille of videos created in the same second as the one before.
const SAME_SECOND: u64 = 100;
const SPAN_SECS: i64 = 3 * 365 * 86_400;
const CHUNK_SIZE: i64 = 4 << 20;
/// A sealed stream's header and one chunk's tag (shared/docs/format.md).
const STREAM_HEADER_LEN: usize = 41;
const TAG_LEN: usize = 16;
const WRAPPED_DEK_LEN: usize = 60;

/// The page query of `server/src/videos/list.rs` (its `SELECT` and the cursor clause of `page`),
/// copied for `EXPLAIN QUERY PLAN` and for timing the SQL alone, because it is private there: keep
/// the two in step.
const PAGE_SELECT: &str = "SELECT v.id, v.status, v.size_bytes, v.created_at, v.title_sealed,
                                  v.wrapped_dek, u.username AS owner, v.duration_ms, v.thumb_path,
                                  v.rendition
                           FROM videos v JOIN users u ON u.id = v.owner_id
                           WHERE (v.status <> 'uploading' OR v.owner_id = $1)
                             AND v.trashed_at IS NULL";
const PAGE_CURSOR: &str = " AND (v.created_at, v.id) < ($2, $3)";
/// Not the server's code any more: the cursor clause before commit 10b90ce, which made SQLite scan
/// the index from the newest row. Timed beside the real query to show what the change bought.
const OR_CURSOR: &str = " AND (v.created_at < $2 OR (v.created_at = $2 AND v.id < $3))";
const PAGE_END: &str = " AND v.seq <= $4 ORDER BY v.created_at DESC, v.id DESC LIMIT $5";

#[derive(Parser)]
struct Args {
    /// Videos in the library.
    #[arg(long, default_value_t = 100_000, value_parser = clap::value_parser!(u32).range(1..=2_000_000))]
    videos: u32,
    /// Members owning them; the first is the viewer.
    #[arg(long, default_value_t = 4, value_parser = clap::value_parser!(u32).range(2..=50))]
    users: u32,
    /// Timed requests of each repeated case (first page, limit 200, auth only, JSON only).
    #[arg(long, default_value_t = 1000, value_parser = clap::value_parser!(u32).range(1..=1_000_000))]
    runs: u32,
    /// Timed requests of each page depth.
    #[arg(long, default_value_t = 200, value_parser = clap::value_parser!(u32).range(1..=1_000_000))]
    depth_runs: u32,
    /// Page depths to time (0 = the first page; one past the end means the last page).
    #[arg(long, value_delimiter = ',', default_value = "1,100,1000,1999")]
    depths: Vec<usize>,
    /// Untimed requests before each case.
    #[arg(long, default_value_t = 20)]
    warmup: u32,
    /// Seed of the generated rows: the same seed makes the same library.
    #[arg(long, default_value_t = 6)]
    seed: u64,
    /// Rows per insert transaction.
    #[arg(long, default_value_t = 5000, value_parser = clap::value_parser!(u32).range(1..=1_000_000))]
    batch: u32,
    /// An empty PostgreSQL database to run on instead of SQLite in the temp data directory.
    #[arg(long, env = "CLOISTER_DATABASE_URL", hide_env_values = true)]
    database_url: Option<String>,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let cores = std::thread::available_parallelism().map_or(0, usize::from);
    println!("cores: {cores}; load average at start: {}", load_average()?);
    let bench = Bench::open(args.users, args.database_url.clone()).await?;
    let seeded = Instant::now();
    let owners = bench.owners.clone();
    seed_videos(&bench.state.db, &owners, &args).await?;
    settle(&bench.state.db).await?;
    println!(
        "inserted {} videos in {:.1} s; database {:.1} MB; {}",
        args.videos,
        seeded.elapsed().as_secs_f64(),
        bench.database_bytes().await? as f64 / 1e6,
        engine_version(&bench.state.db).await?,
    );
    let visible = bench.visible_count().await?;
    println!("visible to the viewer: {visible} of {}", args.videos);

    println!("\nload average before timing: {}", load_average()?);
    let walk = bench.walk(visible).await?;
    let deepest = args.depths.iter().max().map(|&d| walk.at_depth(d));
    explain(&bench, deepest.and_then(|(_, cursor)| cursor)).await?;
    let mut table = time_cases(&bench, &args, &walk).await?;
    if let Some((depth, cursor)) = deepest {
        table.extend(time_sql(&bench, &args, depth, cursor).await?);
    }
    table.push(bench.time_auth_only(&args).await?);
    table.extend(bench.time_json_only(&args).await?);
    let load_after = load_average()?;
    print_table(&table);
    println!(
        "\npages: {} (the last at depth {}); first page {} bytes of JSON, limit 200 {} bytes",
        walk.cursors.len() + 1,
        walk.cursors.len(),
        bench.get("/api/videos").await?.1.len(),
        bench.get("/api/videos?limit=200").await?.1.len(),
    );
    println!("load average after timing: {load_after}");
    Ok(())
}

/// The app under test: a real state on a temp data directory, its router, and a signed-in member.
struct Bench {
    state: AppState,
    router: Router,
    cookie: String,
    viewer: i64,
    owners: Vec<i64>,
    _dir: tempfile::TempDir,
}

impl Bench {
    async fn open(members: u32, database_url: Option<String>) -> anyhow::Result<Self> {
        let dir = tempfile::tempdir().context("cannot make a temp data directory")?;
        let mut config = Config::with_data_dir(dir.path());
        config.database_url = database_url;
        let state = AppState::open(config).await?;
        let router = cloister::router(state.clone());
        let mut owners = Vec::new();
        for n in 0..members {
            let name = format!("member{n}");
            let user = users::create(
                &state.db,
                &name,
                Zeroizing::new(PASSWORD.to_owned()),
                Role::Member,
                1 << 50,
            )
            .await
            .with_context(|| format!("cannot add {name}"))?;
            owners.push(user.id);
        }
        let viewer = *owners.first().context("no members")?;
        let cookie = sign_in(&router, "member0").await?;
        Ok(Self {
            state,
            router,
            cookie,
            viewer,
            owners,
            _dir: dir,
        })
    }

    async fn database_bytes(&self) -> anyhow::Result<u64> {
        if cloister::db::backend(&self.state.db) == Backend::Postgres {
            let bytes: i64 = sqlx::query_scalar("SELECT pg_database_size(current_database())")
                .fetch_one(&self.state.db)
                .await?;
            return Ok(u64::try_from(bytes)?);
        }
        let db = self.state.data.root().join("cloister.db");
        let meta = std::fs::metadata(&db).with_context(|| format!("no {}", db.display()))?;
        Ok(meta.len())
    }

    /// How many videos the listing should show the viewer, counted without it.
    async fn visible_count(&self) -> anyhow::Result<usize> {
        let n: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM videos WHERE status <> 'uploading' OR owner_id = $1",
        )
        .bind(self.viewer)
        .fetch_one(&self.state.db)
        .await?;
        Ok(usize::try_from(n)?)
    }

    /// `GET uri` through the router with the viewer's cookie: the time to the whole body, and it.
    async fn get(&self, uri: &str) -> anyhow::Result<(Duration, Bytes)> {
        let request = Request::get(uri)
            .header(header::HOST, HOST)
            .header(header::COOKIE, &self.cookie)
            .body(Body::empty())?;
        let started = Instant::now();
        let response = self.router.clone().oneshot(request).await?;
        let status = response.status();
        let body = response.into_body().collect().await?.to_bytes();
        let elapsed = started.elapsed();
        ensure!(
            status == StatusCode::OK,
            "GET {uri}: {status} {}",
            String::from_utf8_lossy(&body)
        );
        Ok((elapsed, body))
    }

    /// `videos::list::page` called directly, timed.
    async fn direct(
        &self,
        limit: Option<u32>,
        cursor: Option<&str>,
    ) -> anyhow::Result<(Duration, VideoPage)> {
        let started = Instant::now();
        let page = list::page(&self.state.db, self.viewer, limit, cursor).await?;
        Ok((started.elapsed(), page))
    }

    /// Every page once by `next_cursor`, checking that together they list each visible video
    /// exactly once. Keeps the cursors for the depth cases.
    async fn walk(&self, visible: usize) -> anyhow::Result<Walk> {
        let mut walk = Walk::default();
        let mut seen = HashSet::new();
        let mut cursor: Option<String> = None;
        loop {
            let (http, body) = self.get(&page_uri(None, cursor.as_deref())).await?;
            let (direct, _) = self.direct(None, cursor.as_deref()).await?;
            let page: VideoPage =
                serde_json::from_slice(&body).context("a page that is not JSON")?;
            for video in &page.videos {
                ensure!(seen.insert(video.video_id), "{} twice", video.video_id);
            }
            // The first page is timed on its own; the walk's rows are the pages behind a cursor.
            if cursor.is_some() {
                walk.http.push(http);
                walk.direct.push(direct);
            }
            let Some(next) = page.next_cursor else { break };
            walk.cursors.push(next.clone());
            cursor = Some(next);
        }
        ensure!(
            seen.len() == visible,
            "the walk listed {} videos, the viewer may see {visible}",
            seen.len()
        );
        Ok(walk)
    }

    /// `runs` times (after the warm-up) the page through HTTP, then the same page directly.
    async fn time_page(
        &self,
        case: &str,
        limit: Option<u32>,
        cursor: Option<&str>,
        runs: u32,
        warmup: u32,
    ) -> anyhow::Result<[Row; 2]> {
        let uri = page_uri(limit, cursor);
        let (mut http, mut direct) = (Vec::new(), Vec::new());
        for n in 0..warmup + runs {
            let (h, _) = self.get(&uri).await?;
            let (d, _) = self.direct(limit, cursor).await?;
            if n >= warmup {
                http.push(h);
                direct.push(d);
            }
        }
        Ok([
            Row::new(case, "HTTP", http),
            Row::new(case, "`list::page`", direct),
        ])
    }

    /// `GET /api/auth/me`: routing, the session lookup and a tiny JSON body, no listing.
    async fn time_auth_only(&self, args: &Args) -> anyhow::Result<Row> {
        let mut samples = Vec::new();
        for n in 0..args.warmup + args.runs {
            let (t, _) = self.get("/api/auth/me").await?;
            if n >= args.warmup {
                samples.push(t);
            }
        }
        Ok(Row::new("`GET /api/auth/me` (auth only)", "HTTP", samples))
    }

    /// `serde_json::to_vec` of the first page, limit 50 and 200: the encoding alone.
    async fn time_json_only(&self, args: &Args) -> anyhow::Result<Vec<Row>> {
        let mut rows = Vec::new();
        for limit in [None, Some(200)] {
            let (_, page) = self.direct(limit, None).await?;
            let mut samples = Vec::new();
            for n in 0..args.warmup + args.runs {
                let started = Instant::now();
                let json = serde_json::to_vec(&page)?;
                let t = started.elapsed();
                std::hint::black_box(json);
                if n >= args.warmup {
                    samples.push(t);
                }
            }
            let case = format!("JSON encoding, {} videos", page.videos.len());
            rows.push(Row::new(&case, "`serde_json`", samples));
        }
        Ok(rows)
    }
}

/// What walking the whole listing found: the cursor of every page after the first (`cursors[k - 1]`
/// reaches depth `k`), and the time of each of those pages.
#[derive(Default)]
struct Walk {
    cursors: Vec<String>,
    http: Vec<Duration>,
    direct: Vec<Duration>,
}

impl Walk {
    /// The depth actually reached for `depth` (the last page past the end), and its cursor.
    fn at_depth(&self, depth: usize) -> (usize, Option<&str>) {
        let at = depth.min(self.cursors.len());
        let cursor = at.checked_sub(1).map(|k| self.cursors[k].as_str());
        (at, cursor)
    }
}

async fn time_cases(bench: &Bench, args: &Args, walk: &Walk) -> anyhow::Result<Vec<Row>> {
    let mut rows = Vec::new();
    rows.extend(
        bench
            .time_page("first page (limit 50)", None, None, args.runs, args.warmup)
            .await?,
    );
    rows.extend(
        bench
            .time_page(
                "first page, `limit=200`",
                Some(200),
                None,
                args.runs,
                args.warmup,
            )
            .await?,
    );
    let pages = walk.http.len();
    rows.push(Row::new(
        &format!("walk: pages 1–{pages}, once each"),
        "HTTP",
        walk.http.clone(),
    ));
    rows.push(Row::new(
        &format!("walk: pages 1–{pages}, once each"),
        "`list::page`",
        walk.direct.clone(),
    ));
    for &depth in &args.depths {
        let (at, cursor) = walk.at_depth(depth);
        let case = if at == depth {
            format!("page at depth {depth}")
        } else {
            format!("page at depth {at} (the last; {depth} is past it)")
        };
        let timed = bench
            .time_page(&case, None, cursor, args.depth_runs, args.warmup)
            .await?;
        rows.extend(timed);
    }
    Ok(rows)
}

fn page_uri(limit: Option<u32>, cursor: Option<&str>) -> String {
    // Cursors are `<digits>.<hex>.<digits>`: nothing to escape in a query string.
    let mut query = Vec::new();
    if let Some(limit) = limit {
        query.push(format!("limit={limit}"));
    }
    if let Some(cursor) = cursor {
        query.push(format!("cursor={cursor}"));
    }
    if query.is_empty() {
        "/api/videos".to_owned()
    } else {
        format!("/api/videos?{}", query.join("&"))
    }
}

/// Signs `username` in through the router, as the browser does; the `Cookie` header value.
async fn sign_in(router: &Router, username: &str) -> anyhow::Result<String> {
    let body = serde_json::json!({"username": username, "password": PASSWORD});
    let request = Request::post("/api/auth/login")
        .header(header::HOST, HOST)
        .header("x-cloister-request", "1")
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from(body.to_string()))?;
    let response = router.clone().oneshot(request).await?;
    ensure!(
        response.status() == StatusCode::OK,
        "sign-in failed: {}",
        response.status()
    );
    response
        .headers()
        .get_all(header::SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with("cloister_session="))
        .and_then(|v| v.split(';').next())
        .map(str::to_owned)
        .context("the sign-in set no session cookie")
}

/// A small deterministic generator (SplitMix64): the same seed makes the same library. Not for
/// keys; the "sealed" bytes only need the right sizes and no structure.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }

    /// In [lo, hi].
    fn between(&mut self, lo: u64, hi: u64) -> u64 {
        lo + self.below(hi - lo + 1)
    }

    fn per_mille(&mut self, n: u64) -> bool {
        self.below(1000) < n
    }

    fn unit(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }

    fn bytes(&mut self, len: usize) -> Vec<u8> {
        let mut out = Vec::with_capacity(len + 8);
        while out.len() < len {
            out.extend_from_slice(&self.next().to_le_bytes());
        }
        out.truncate(len);
        out
    }

    fn hex(&mut self, bytes: usize) -> String {
        hex::encode(self.bytes(bytes))
    }
}

/// One `videos` row as uploads and processing leave it.
struct VideoRow {
    id: String,
    owner_id: i64,
    status: &'static str,
    size_bytes: i64,
    created_at: i64,
    updated_at: i64,
    wrapped_dek: Vec<u8>,
    title_sealed: Vec<u8>,
    description_sealed: Option<Vec<u8>>,
    stream_header: Vec<u8>,
    chunk_count: i64,
    duration_ms: Option<i64>,
    manifest_path: Option<&'static str>,
    thumb_path: Option<&'static str>,
    upload_fingerprint: Option<Vec<u8>>,
    rendition: Option<String>,
}

/// Makes rows oldest first (so `seq` grows with time, as with real uploads), spread evenly over
/// three years up to now, with some in the same second as the one before.
struct Generator {
    rng: Rng,
    owners: Vec<i64>,
    start: i64,
    step: f64,
    made: u64,
    last_at: i64,
}

impl Generator {
    fn new(seed: u64, owners: &[i64], videos: u32) -> Self {
        Self {
            rng: Rng(seed),
            owners: owners.to_vec(),
            start: unix_now() - SPAN_SECS,
            step: SPAN_SECS as f64 / f64::from(videos),
            made: 0,
            last_at: 0,
        }
    }

    fn created_at(&mut self) -> i64 {
        let at = if self.made > 0 && self.rng.per_mille(SAME_SECOND) {
            self.last_at
        } else {
            let base = self.start + (self.made as f64 * self.step) as i64;
            let jitter = self.rng.below((self.step / 2.0) as u64) as i64;
            (base + jitter).max(self.last_at)
        };
        self.made += 1;
        self.last_at = at;
        at
    }

    fn status(&mut self) -> &'static str {
        match self.rng.below(1000) {
            n if n < UPLOADING => "uploading",
            n if n < UPLOADING + UPLOADED => "uploaded",
            n if n < UPLOADING + UPLOADED + PROCESSING => "processing",
            n if n < UPLOADING + UPLOADED + PROCESSING + FAILED => "failed",
            _ => "ready",
        }
    }

    /// Log-uniform from 2 MB to 4 GB: many phone clips, a few long recordings.
    fn size_bytes(&mut self) -> i64 {
        let (lo, hi) = (2e6_f64.ln(), 4e9_f64.ln());
        (lo + self.rng.unit() * (hi - lo)).exp() as i64
    }

    /// A sealed stream of `plain` bytes in one chunk: header, text, tag.
    fn sealed(&mut self, plain: u64) -> Vec<u8> {
        self.rng.bytes(STREAM_HEADER_LEN + plain as usize + TAG_LEN)
    }

    fn row(&mut self) -> VideoRow {
        let created_at = self.created_at();
        let status = self.status();
        let ready = status == "ready";
        let size_bytes = self.size_bytes();
        let owner = self.rng.below(self.owners.len() as u64) as usize;
        // 2–12 Mbit/s.
        let bits_per_ms = self.rng.between(2_000, 12_000) as i64;
        let thumb = ready && !self.rng.per_mille(NO_THUMB);
        let description = self.rng.per_mille(WITH_DESCRIPTION);
        VideoRow {
            id: self.rng.hex(16),
            owner_id: self.owners[owner],
            status,
            size_bytes,
            created_at,
            updated_at: created_at + self.rng.below(3600) as i64,
            wrapped_dek: self.rng.bytes(WRAPPED_DEK_LEN),
            // A title of 5–45 bytes: about 80 bytes sealed.
            title_sealed: {
                let len = self.rng.between(5, 45);
                self.sealed(len)
            },
            description_sealed: description.then(|| {
                let len = self.rng.between(20, 600);
                self.sealed(len)
            }),
            stream_header: self.rng.bytes(STREAM_HEADER_LEN),
            chunk_count: (size_bytes + CHUNK_SIZE - 1) / CHUNK_SIZE,
            duration_ms: ready.then(|| size_bytes * 8 / bits_per_ms),
            manifest_path: ready.then_some("manifest.sealed"),
            thumb_path: thumb.then_some("thumb.sealed"),
            upload_fingerprint: (status == "uploading").then(|| self.rng.bytes(32)),
            rendition: ready.then(|| self.rng.hex(8)),
        }
    }
}

async fn seed_videos(db: &Db, owners: &[i64], args: &Args) -> anyhow::Result<()> {
    let mut generator = Generator::new(args.seed, owners, args.videos);
    let mut left = args.videos;
    while left > 0 {
        let batch = left.min(args.batch);
        let mut tx = db.begin().await?;
        for _ in 0..batch {
            insert(&mut tx, &generator.row()).await?;
        }
        tx.commit()
            .await
            .context("cannot commit a batch of videos")?;
        left -= batch;
    }
    Ok(())
}

async fn insert(tx: &mut Transaction<'_, Any>, row: &VideoRow) -> anyhow::Result<()> {
    sqlx::query(
        "INSERT INTO videos (id, owner_id, status, size_bytes, created_at, updated_at, wrapped_dek,
                             title_sealed, description_sealed, stream_header, chunk_size,
                             chunk_count, duration_ms, manifest_path, thumb_path,
                             upload_fingerprint, rendition)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17)",
    )
    .bind(&row.id)
    .bind(row.owner_id)
    .bind(row.status)
    .bind(row.size_bytes)
    .bind(row.created_at)
    .bind(row.updated_at)
    .bind(&row.wrapped_dek)
    .bind(&row.title_sealed)
    .bind(row.description_sealed.as_deref())
    .bind(&row.stream_header)
    .bind(CHUNK_SIZE)
    .bind(row.chunk_count)
    .bind(row.duration_ms)
    .bind(row.manifest_path)
    .bind(row.thumb_path)
    .bind(row.upload_fingerprint.as_deref())
    .bind(row.rendition.as_deref())
    .execute(&mut **tx)
    .await
    .with_context(|| format!("cannot insert video {}", row.id))?;
    Ok(())
}

/// Leaves the database as a long-running server's would be after the inserts: on SQLite the WAL
/// folded back by a checkpoint; on PostgreSQL the table vacuumed and its statistics gathered, as
/// autovacuum does after a bulk insert.
async fn settle(db: &Db) -> anyhow::Result<()> {
    let statement = match cloister::db::backend(db) {
        Backend::Sqlite => "PRAGMA wal_checkpoint(TRUNCATE)",
        Backend::Postgres => "VACUUM (ANALYZE) videos",
    };
    sqlx::query(statement)
        .execute(db)
        .await
        .with_context(|| format!("cannot run {statement}"))?;
    Ok(())
}

async fn engine_version(db: &Db) -> anyhow::Result<String> {
    Ok(match cloister::db::backend(db) {
        Backend::Sqlite => {
            let version: String = sqlx::query_scalar("SELECT sqlite_version()")
                .fetch_one(db)
                .await?;
            format!("SQLite {version}")
        }
        Backend::Postgres => sqlx::query_scalar("SELECT version()").fetch_one(db).await?,
    })
}

/// What `list::page` binds for one page, so the page query can be explained and timed alone.
struct PageQuery {
    viewer: i64,
    after_at: i64,
    after_id: String,
    snapshot: i64,
    limit: i64,
}

impl PageQuery {
    /// The first page when `cursor` is `None`; limit 50.
    async fn new(db: &Db, viewer: i64, cursor: Option<&str>) -> anyhow::Result<Self> {
        let (after_at, after_id, snapshot) = match cursor {
            Some(raw) => {
                let c = list::Cursor::parse(raw)?;
                (c.created_at, c.id.to_string(), c.snapshot)
            }
            None => {
                let max: i64 = sqlx::query_scalar("SELECT COALESCE(MAX(seq), 0) FROM videos")
                    .fetch_one(db)
                    .await?;
                (i64::MAX, "g".to_owned(), max)
            }
        };
        Ok(Self {
            viewer,
            after_at,
            after_id,
            snapshot,
            limit: 51,
        })
    }

    fn sql(form: Form) -> String {
        let cursor = match form {
            Form::Server => PAGE_CURSOR,
            Form::OrClause => OR_CURSOR,
        };
        format!("{PAGE_SELECT}{cursor}{PAGE_END}")
    }

    /// Both forms take the same parameters: viewer, cursor, snapshot, limit.
    fn bound<'q>(
        &'q self,
        sql: &'q str,
    ) -> sqlx::query::Query<'q, Any, <Any as sqlx::Database>::Arguments<'q>> {
        sqlx::query(sql)
            .bind(self.viewer)
            .bind(self.after_at)
            .bind(self.after_id.as_str())
            .bind(self.snapshot)
            .bind(self.limit)
    }

    /// The plan's lines: SQLite's `EXPLAIN QUERY PLAN` (its `detail` column), PostgreSQL's
    /// `EXPLAIN` (one text column).
    async fn plan(&self, db: &Db, form: Form) -> anyhow::Result<Vec<String>> {
        let postgres = cloister::db::backend(db) == Backend::Postgres;
        let explain = if postgres {
            "EXPLAIN"
        } else {
            "EXPLAIN QUERY PLAN"
        };
        let sql = format!("{explain} {}", Self::sql(form));
        let rows = self
            .bound(&sql)
            .fetch_all(db)
            .await
            .with_context(|| explain.to_owned())?;
        rows.iter()
            .map(|row| {
                Ok(if postgres {
                    row.try_get::<String, _>(0)?
                } else {
                    row.try_get::<String, _>("detail")?
                })
            })
            .collect()
    }

    /// The query alone, rows fetched but not mapped.
    async fn time(&self, db: &Db, form: Form) -> anyhow::Result<Duration> {
        let sql = Self::sql(form);
        let started = Instant::now();
        let rows = self.bound(&sql).fetch_all(db).await?;
        let elapsed = started.elapsed();
        ensure!(!rows.is_empty(), "the page query found nothing");
        Ok(elapsed)
    }
}

/// The page query as the server has it, or with its cursor clause as it was before 10b90ce.
#[derive(Debug, Clone, Copy)]
enum Form {
    Server,
    OrClause,
}

/// Prints the database's plans for the first page and for the page behind `deep`: the server's query,
/// and the old one.
async fn explain(bench: &Bench, deep: Option<&str>) -> anyhow::Result<()> {
    let db = &bench.state.db;
    let first = PageQuery::new(db, bench.viewer, None).await?;
    let deep = PageQuery::new(db, bench.viewer, deep).await?;
    let cases = [
        ("the first page", &first, Form::Server),
        ("a page behind a cursor", &deep, Form::Server),
        (
            "behind a cursor, with the `OR` cursor clause it had before 10b90ce",
            &deep,
            Form::OrClause,
        ),
    ];
    for (what, query, form) in cases {
        println!("\nThe plan of the page query, {what}:");
        for line in query.plan(db, form).await? {
            println!("  {line}");
        }
    }
    Ok(())
}

/// The page query alone behind `cursor` at `depth`, as the server has it and as it was before
/// 10b90ce, alternating.
async fn time_sql(
    bench: &Bench,
    args: &Args,
    depth: usize,
    cursor: Option<&str>,
) -> anyhow::Result<[Row; 2]> {
    let db = &bench.state.db;
    let query = PageQuery::new(db, bench.viewer, cursor).await?;
    let (mut server, mut old) = (Vec::new(), Vec::new());
    for n in 0..args.warmup + args.depth_runs {
        let a = query.time(db, Form::Server).await?;
        let b = query.time(db, Form::OrClause).await?;
        if n >= args.warmup {
            server.push(a);
            old.push(b);
        }
    }
    Ok([
        Row::new(&format!("page query alone, depth {depth}"), "SQL", server),
        Row::new(
            "the same with the `OR` cursor clause (before 10b90ce)",
            "SQL",
            old,
        ),
    ])
}

/// `/proc/loadavg`'s 1, 5 and 15-minute averages.
fn load_average() -> anyhow::Result<String> {
    let raw = std::fs::read_to_string("/proc/loadavg").context("cannot read /proc/loadavg")?;
    Ok(raw.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
}

/// One line of the results table.
struct Row {
    case: String,
    via: &'static str,
    samples: Vec<Duration>,
}

impl Row {
    fn new(case: &str, via: &'static str, mut samples: Vec<Duration>) -> Self {
        samples.sort_unstable();
        Self {
            case: case.to_owned(),
            via,
            samples,
        }
    }

    /// Nearest rank: the smallest sample with at least `p` of them at or below it.
    fn percentile(&self, p: f64) -> f64 {
        let n = self.samples.len();
        let rank = ((p * n as f64).ceil() as usize).clamp(1, n.max(1));
        self.samples
            .get(rank - 1)
            .map_or(f64::NAN, |d| d.as_secs_f64() * 1e3)
    }
}

fn print_table(rows: &[Row]) {
    println!("\n| Case | Via | Count | Median ms | p90 ms | p99 ms | Max ms |");
    println!("|---|---|---|---|---|---|---|");
    for row in rows {
        println!(
            "| {} | {} | {} | {:.3} | {:.3} | {:.3} | {:.3} |",
            row.case,
            row.via,
            row.samples.len(),
            row.percentile(0.5),
            row.percentile(0.9),
            row.percentile(0.99),
            row.percentile(1.0),
        );
    }
}
