//! Helpers for processing tests: an app whose gate reads fixed readings, real uploads of real
//! video, workers in process, and opening what processing published as a player would.

use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::http::{Method, StatusCode};
use cloister::gate::{FixedReadings, Gate};
use cloister::storage::StoredObject;
use cloister_shared::api::ResourceReadings;
use cloister_shared::crypto::stream::open_all;
use cloister_shared::manifest::Manifest;
use cloister_shared::{Purpose, StreamHeader};
use serde_json::Value;
use tokio_util::sync::CancellationToken;

use super::uploads::SealedFile;
use super::TestApp;

/// An app with quick timings for tests and a gate fed by the returned readings (idle at first).
pub async fn spawn_processing_app() -> (TestApp, Arc<FixedReadings>) {
    let readings = Arc::new(FixedReadings::new(FixedReadings::idle()));
    let monitor = readings.clone();
    let app = TestApp::spawn_with_state(
        |config| {
            config.gate.recheck_secs = 1;
            config.jobs.retry_backoff_secs = 1;
            config.jobs.lease_secs = 3;
            config.jobs.poll_secs = 1;
        },
        move |state| {
            state.core.gate = Gate::new(monitor, state.config.gate.clone());
        },
    )
    .await;
    (app, readings)
}

/// Readings that break the RAM thresholds.
pub fn busy() -> ResourceReadings {
    ResourceReadings {
        available_ram_bytes: 300 << 20,
        ram_percent: 85.0,
        ..FixedReadings::idle()
    }
}

impl TestApp {
    /// Uploads `plain` through the API as a client would; returns the file and its job id.
    pub async fn upload_video(&self, cookie: &str, plain: Vec<u8>) -> (SealedFile, i64) {
        let file = SealedFile::from_plain(plain);
        self.send_chunks(cookie, &file).await;
        let (status, body) = self
            .complete_upload(cookie, &file.id, &file.dek_hex())
            .await;
        assert_eq!(status, StatusCode::OK, "complete: {body}");
        let job = body["job_id"].as_i64().expect("job id");
        (file, job)
    }

    /// Creates the upload of `file` and sends every chunk, short of completing it.
    pub async fn send_chunks(&self, cookie: &str, file: &SealedFile) {
        let (status, body) = self.create_upload(cookie, file).await;
        assert_eq!(status, StatusCode::CREATED, "create: {body}");
        for index in 0..file.chunk_count() {
            let (status, body) = self.put_chunk(cookie, file, index).await;
            assert_eq!(status, StatusCode::OK, "chunk {index}: {body}");
        }
    }

    /// Starts `count` workers in process; cancel the token to stop them.
    pub fn start_workers(
        &self,
        count: u32,
    ) -> (CancellationToken, Vec<tokio::task::JoinHandle<()>>) {
        let token = CancellationToken::new();
        let handles = cloister::jobs::worker::spawn(&self.state, count, &token);
        (token, handles)
    }

    pub async fn job(&self, cookie: &str, job: i64) -> Value {
        let (status, _, body) = self
            .call(Method::GET, &format!("/api/jobs/{job}"), Some(cookie), None)
            .await;
        assert_eq!(status, StatusCode::OK, "job {job}: {body}");
        body
    }

    /// Polls the job until `done(job)` holds; panics with the last state after `limit`.
    pub async fn wait_for_job(
        &self,
        cookie: &str,
        job: i64,
        limit: Duration,
        done: impl Fn(&Value) -> bool,
    ) -> Value {
        let start = Instant::now();
        loop {
            let state = self.job(cookie, job).await;
            if done(&state) {
                return state;
            }
            assert!(
                start.elapsed() < limit,
                "job {job} did not get there: {state}"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Waits until the job is done, failed or cancelled.
    pub async fn wait_final(&self, cookie: &str, job: i64) -> Value {
        self.wait_for_job(cookie, job, Duration::from_secs(120), |j| {
            matches!(j["status"].as_str(), Some("done" | "failed" | "cancelled"))
        })
        .await
    }

    /// The decrypted manifest of a processed video, each file checked against its salt.
    pub fn manifest(&self, file: &SealedFile) -> Manifest {
        let storage = &self.state.storage;
        let len = storage
            .object_len(&file.id, &StoredObject::Manifest)
            .expect("manifest length");
        let sealed = storage
            .read_object(&file.id, &StoredObject::Manifest, 0, len as usize)
            .expect("manifest");
        let plain =
            open_all(&file.dek, &file.id, &Purpose::Manifest, &sealed).expect("open manifest");
        serde_json::from_slice(&plain).expect("manifest JSON")
    }

    /// Init segment and every media segment, decrypted and concatenated: a playable fMP4.
    pub fn decrypted_rendition(&self, file: &SealedFile, manifest: &Manifest) -> Vec<u8> {
        let rendition =
            cloister::storage::RenditionId::parse(&manifest.rendition).expect("rendition id");
        let mut out = self.open_object(
            file,
            &StoredObject::Init {
                rendition: rendition.clone(),
            },
            &Purpose::init(&manifest.rendition).expect("purpose"),
            &manifest.init,
        );
        for (n, segment) in manifest.segments.iter().enumerate() {
            let index = u32::try_from(n).expect("index");
            out.extend(self.open_object(
                file,
                &StoredObject::Segment {
                    rendition: rendition.clone(),
                    index,
                },
                &Purpose::segment(&manifest.rendition, index).expect("purpose"),
                &segment.file,
            ));
        }
        out
    }

    fn open_object(
        &self,
        file: &SealedFile,
        object: &StoredObject,
        purpose: &Purpose,
        entry: &cloister_shared::manifest::SealedFile,
    ) -> Vec<u8> {
        let storage = &self.state.storage;
        let len = storage.object_len(&file.id, object).expect("object length");
        assert_eq!(
            len, entry.sealed_bytes,
            "{object:?} has the manifest's length"
        );
        let sealed = storage
            .read_object(&file.id, object, 0, len as usize)
            .expect("object");
        let header = StreamHeader::parse(&sealed).expect("header");
        assert!(
            entry.matches(&header),
            "{object:?} carries the manifest's salt"
        );
        open_all(&file.dek, &file.id, purpose, &sealed).expect("open object")
    }

    /// Entries left in the data directory's `tmp/`.
    pub fn tmp_entries(&self) -> Vec<String> {
        std::fs::read_dir(self.data_dir().join("tmp"))
            .expect("tmp")
            .filter_map(|e| e.ok())
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .collect()
    }
}

/// ffprobe's idea of a file's duration, in seconds.
pub fn probe_duration(path: &Path) -> f64 {
    let out = std::process::Command::new("ffprobe")
        .args([
            "-v",
            "error",
            "-show_entries",
            "format=duration",
            "-of",
            "csv=p=0",
        ])
        .arg(path)
        .output()
        .expect("ffprobe");
    assert!(
        out.status.success(),
        "ffprobe failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout)
        .trim()
        .parse()
        .expect("a duration")
}

/// A short H.264/AAC MP4 made by ffmpeg from test sources: the remux path.
pub fn small_clip(seconds: u32) -> Vec<u8> {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("clip.mp4");
    let status = std::process::Command::new("ffmpeg")
        .args(["-v", "error", "-nostdin", "-y", "-f", "lavfi", "-i"])
        .arg(format!("testsrc2=size=320x240:rate=25:duration={seconds}"))
        .args(["-f", "lavfi", "-i"])
        .arg(format!("sine=frequency=440:duration={seconds}"))
        .args([
            "-c:v",
            "libx264",
            "-preset",
            "ultrafast",
            "-g",
            "50",
            "-pix_fmt",
            "yuv420p",
        ])
        .args(["-c:a", "aac", "-shortest"])
        .arg(&path)
        .status()
        .expect("ffmpeg");
    assert!(status.success(), "ffmpeg could not make a clip");
    std::fs::read(path).expect("clip")
}

/// A clip that must be transcoded (VP9), long enough for a running job to be caught.
pub fn slow_clip(seconds: u32) -> Vec<u8> {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("clip.webm");
    let status = std::process::Command::new("ffmpeg")
        .args(["-v", "error", "-nostdin", "-y", "-f", "lavfi", "-i"])
        .arg(format!("testsrc2=size=640x360:rate=25:duration={seconds}"))
        .args([
            "-c:v",
            "libvpx-vp9",
            "-deadline",
            "realtime",
            "-cpu-used",
            "8",
            "-b:v",
            "500k",
        ])
        .arg(&path)
        .status()
        .expect("ffmpeg");
    assert!(status.success(), "ffmpeg could not make a clip");
    std::fs::read(path).expect("clip")
}

impl TestApp {
    /// Uploads a `seconds`-long clip as `cookie` and processes it with one worker: the file and
    /// its decrypted manifest, the video `ready`.
    pub async fn processed_video(&self, cookie: &str, seconds: u32) -> (SealedFile, Manifest) {
        let (workers, _) = self.start_workers(1);
        let (file, job) = self.upload_video(cookie, small_clip(seconds)).await;
        let end = self.wait_final(cookie, job).await;
        workers.cancel();
        assert_eq!(end["status"], "done", "processing: {end}");
        let manifest = self.manifest(&file);
        (file, manifest)
    }

    /// A GET with the session `cookie` (if any) and extra request headers, answered raw.
    pub async fn get_raw(
        &self,
        uri: &str,
        cookie: Option<&str>,
        headers: &[(axum::http::HeaderName, &str)],
    ) -> (StatusCode, axum::http::HeaderMap, Vec<u8>) {
        let mut request = axum::http::Request::get(uri);
        if let Some(cookie) = cookie {
            request = request.header(axum::http::header::COOKIE, cookie);
        }
        for (name, value) in headers {
            request = request.header(name, *value);
        }
        self.send(request.body(axum::body::Body::empty()).expect("request"))
            .await
    }
}

impl TestApp {
    /// Uploads a 40 s VP9 clip as `cookie` and waits until a worker transcodes it with ffmpeg
    /// (workers must be running): the job and its work directory.
    pub async fn running_transcode(&self, cookie: &str) -> (i64, std::path::PathBuf) {
        let (_, job) = self.upload_video(cookie, slow_clip(40)).await;
        self.wait_for_job(cookie, job, Duration::from_secs(60), |j| {
            j["status"] == "running" && j["phase"] == "transcoding"
        })
        .await;
        let work_dir = self
            .data_dir()
            .join("tmp")
            .join(work_dir_of(&self.tmp_entries(), job));
        assert!(
            ffmpeg_running_in(&work_dir),
            "ffmpeg runs while transcoding"
        );
        (job, work_dir)
    }
}

/// The name of the work directory of `job`'s attempt among `tmp/` entries (one per attempt:
/// `job-<id>-<rendition>`).
pub fn work_dir_of(tmp_entries: &[String], job: i64) -> String {
    let prefix = format!("job-{job}-");
    let dirs: Vec<&String> = tmp_entries
        .iter()
        .filter(|name| name.starts_with(&prefix))
        .collect();
    assert_eq!(dirs.len(), 1, "one attempt's directory in {tmp_entries:?}");
    dirs[0].clone()
}

/// Whether some process has `dir` in its command line (ffmpeg is given paths inside it).
pub fn ffmpeg_running_in(dir: &std::path::Path) -> bool {
    let needle = dir.to_string_lossy().into_owned();
    std::fs::read_dir("/proc")
        .into_iter()
        .flatten()
        .filter_map(Result::ok)
        .filter_map(|e| std::fs::read(e.path().join("cmdline")).ok())
        .any(|cmd| {
            let cmd = String::from_utf8_lossy(&cmd).replace('\0', " ");
            cmd.contains("ffmpeg") && cmd.contains(&needle)
        })
}
