//! One processing attempt (docs/architecture.md, "Processing"): open the original into a private temp
//! directory, let `media` make segments and a thumbnail, seal every output under fresh salts into
//! a new rendition, write the sealed manifest. The temp directory — all the plaintext — is
//! removed in every outcome, by the `WorkDir` guard if nothing else. Each attempt has its own
//! directory and rendition, and only the attempt still holding the job's lease publishes the
//! manifest (docs/operations.md, "Processing under faults").

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use cloister_shared::api::jobs::JobPhase;
use cloister_shared::api::videos::{VideoMetadata, METADATA_VERSION};
use cloister_shared::manifest::{Manifest, Segment, MANIFEST_VERSION};
use cloister_shared::{Dek, Purpose, VideoId};
use tokio_util::sync::CancellationToken;
use tracing::{info_span, Instrument};

use super::seal::{self, OpenOriginalError, OriginalLayout};
use super::store;
use super::transitions::{Claimed, Published};
use crate::custody;
use crate::data_dir::create_private_dir;
use crate::media::{self, MediaError, PreparedMedia};
use crate::state::Core;
use crate::storage::{RenditionId, StoredObject, VideoStorage};

/// Why an attempt ended without a ready video.
#[derive(Debug, thiserror::Error)]
pub enum PipelineError {
    #[error("{0}")]
    Media(MediaError),
    #[error("the key held for processing does not open")]
    Key,
    #[error("the stored original does not decrypt with the key held for it")]
    Original,
    #[error("cancelled")]
    Cancelled,
    /// The lease lapsed and another attempt holds the job now: this one must not publish.
    #[error("the job was taken over by another attempt")]
    Superseded,
    /// The attempt's task panicked (a bug); the message stays in the log.
    #[error("the processing task panicked: {0}")]
    Panicked(String),
    #[error("storage error: {0}")]
    Io(#[from] std::io::Error),
    #[error("{0}")]
    Internal(String),
}

impl PipelineError {
    /// For the uploader: short, no paths, no internals.
    pub fn short_reason(&self) -> String {
        match self {
            Self::Media(err) => err.short_reason(),
            Self::Key | Self::Original => "the stored video could not be decrypted".to_owned(),
            Self::Cancelled | Self::Superseded => "cancelled".to_owned(),
            Self::Panicked(_) => "an internal error in the server's processing".to_owned(),
            Self::Io(_) | Self::Internal(_) => "a storage error on the server".to_owned(),
        }
    }

    /// Whether another attempt could succeed.
    pub fn retryable(&self) -> bool {
        match self {
            Self::Media(err) => err.retryable(),
            Self::Key | Self::Original | Self::Cancelled | Self::Superseded => false,
            // A panic may hang on this machine's state as much as on the file: the usual retries.
            Self::Io(_) | Self::Internal(_) | Self::Panicked(_) => true,
        }
    }
}

impl From<MediaError> for PipelineError {
    /// A cancelled ffmpeg is a cancelled attempt: at shutdown the job goes back to the queue
    /// instead of failing.
    fn from(err: MediaError) -> Self {
        match err {
            MediaError::Cancelled => Self::Cancelled,
            other => Self::Media(other),
        }
    }
}

impl From<OpenOriginalError> for PipelineError {
    fn from(err: OpenOriginalError) -> Self {
        match err {
            OpenOriginalError::Decrypt => Self::Original,
            OpenOriginalError::Cancelled => Self::Cancelled,
            OpenOriginalError::Io(err) => Self::Io(err),
        }
    }
}

/// The latest phase and overall percent of an attempt, read by the worker's ticker.
#[derive(Default)]
pub struct ProgressCell(Mutex<Option<(JobPhase, f32)>>);

impl ProgressCell {
    pub fn set(&self, phase: JobPhase, percent: f32) {
        if let Ok(mut cell) = self.0.lock() {
            *cell = Some((phase, percent.clamp(0.0, 100.0)));
        }
    }

    pub fn get(&self) -> Option<(JobPhase, f32)> {
        self.0.lock().ok().and_then(|cell| *cell)
    }
}

/// Where each phase sits in the overall percentage.
fn overall(phase: JobPhase, fraction: f32) -> f32 {
    let (from, to) = match phase {
        JobPhase::Decrypting => (0.0, 8.0),
        JobPhase::Probing => (8.0, 10.0),
        JobPhase::Remuxing | JobPhase::Transcoding => (10.0, 88.0),
        JobPhase::Thumbnail => (88.0, 90.0),
        JobPhase::Sealing => (90.0, 100.0),
        // Not a phase an attempt reports: the job starts over.
        JobPhase::Interrupted => (0.0, 0.0),
    };
    from + (to - from) * fraction.clamp(0.0, 1.0)
}

/// `tmp/job-<id>-<rendition>`: one per attempt (its rendition id is new each attempt), so an
/// attempt whose lease lapsed never touches the files of the attempt that took over. Created
/// private, removed when dropped.
pub struct WorkDir(PathBuf);

impl WorkDir {
    /// The attempt's directory; `None` names the `job-<id>` of versions before attempts had
    /// their own, for cleaning up after them.
    pub fn path_for(tmp: &Path, job_id: i64, rendition: Option<&RenditionId>) -> PathBuf {
        match rendition {
            Some(rendition) => tmp.join(format!("job-{job_id}-{rendition}")),
            None => tmp.join(format!("job-{job_id}")),
        }
    }

    /// The job and attempt (by its rendition; `None` for the older `job-<id>`) a `tmp/` entry
    /// is the work directory of, if it is one.
    pub fn parse(name: &str) -> Option<(i64, Option<RenditionId>)> {
        let rest = name.strip_prefix("job-")?;
        let (id, rendition) = match rest.split_once('-') {
            Some((id, rendition)) => (id, Some(RenditionId::parse(rendition)?)),
            None => (rest, None),
        };
        Some((id.parse().ok()?, rendition))
    }

    /// The job a `tmp/` entry is the work directory of, if it is one.
    pub fn job_of(name: &str) -> Option<i64> {
        Self::parse(name).map(|(id, _)| id)
    }

    fn create(tmp: &Path, job_id: i64, rendition: &RenditionId) -> std::io::Result<Self> {
        let path = Self::path_for(tmp, job_id, Some(rendition));
        // Leftovers of an attempt that died with its worker.
        match fs_err::remove_dir_all(&path) {
            Err(err) if err.kind() != std::io::ErrorKind::NotFound => return Err(err),
            _ => {}
        }
        create_private_dir(&path, false)?;
        Ok(Self(path))
    }
}

impl Drop for WorkDir {
    fn drop(&mut self) {
        if let Err(err) = fs_err::remove_dir_all(&self.0) {
            if err.kind() != std::io::ErrorKind::NotFound {
                tracing::error!(dir = %self.0.display(), error = %err, "could not remove a job's temp files");
            }
        }
    }
}

/// Runs `work` on a blocking thread, inside the caller's span (the attempt's and phase's).
async fn blocking<T: Send + 'static>(
    work: impl FnOnce() -> Result<T, PipelineError> + Send + 'static,
) -> Result<T, PipelineError> {
    let span = tracing::Span::current();
    tokio::task::spawn_blocking(move || span.in_scope(work))
        .await
        .map_err(|err| PipelineError::Internal(format!("a blocking task failed: {err}")))?
}

async fn layout(core: &Core, video: &VideoId) -> Result<OriginalLayout, PipelineError> {
    let row = store::original_layout(&core.db, video)
        .await
        .map_err(|err| PipelineError::Internal(err.to_string()))?;
    let (size, chunk) =
        row.ok_or_else(|| PipelineError::Internal("the video is gone".to_owned()))?;
    Ok(OriginalLayout {
        size_bytes: u64::try_from(size).map_err(|_| PipelineError::Original)?,
        chunk_size: u32::try_from(chunk).map_err(|_| PipelineError::Original)?,
    })
}

/// Runs one attempt of `job` for `worker`. On success the new rendition and manifest are in
/// storage; on any error the caller removes the rendition. Each phase (decrypt, prepare, seal,
/// publish) runs in its own info span, inside the attempt's.
pub async fn process(
    core: &Core,
    job: &Claimed,
    worker: &str,
    cancel: &CancellationToken,
    progress: &Arc<ProgressCell>,
) -> Result<Published, PipelineError> {
    let dek = custody::unwrap_dek(&core.server_key, &job.video, &job.wrapped_dek)
        .map_err(|_| PipelineError::Key)?;
    let layout = layout(core, &job.video).await?;
    let work = WorkDir::create(&core.data.tmp(), job.id, &job.rendition)?;
    let original = work.0.join("original");

    progress.set(JobPhase::Decrypting, 0.0);
    {
        let (storage, dek, video, dst, cancel, cell) = (
            core.storage.clone(),
            dek.clone(),
            job.video,
            original.clone(),
            cancel.clone(),
            progress.clone(),
        );
        blocking(move || {
            seal::open_original(&*storage, &dek, &video, layout, &dst, &cancel, &|f| {
                cell.set(JobPhase::Decrypting, overall(JobPhase::Decrypting, f));
            })
            .map_err(PipelineError::from)
        })
        .instrument(info_span!("decrypt", bytes = layout.size_bytes))
        .await?;
    }
    #[cfg(debug_assertions)]
    fault::panic_if_asked(&job.video);

    let out = work.0.join("out");
    fs_err::create_dir(&out)?;
    let cell = progress.clone();
    let on_progress =
        move |phase: JobPhase, fraction: f32| cell.set(phase, overall(phase, fraction));
    let prepared = media::prepare(&core.media, &original, &out, cancel, &on_progress)
        .instrument(info_span!("prepare"))
        .await?;
    // The plaintext original is no longer needed; free its disk now.
    fs_err::remove_file(&original)?;
    if cancel.is_cancelled() {
        return Err(PipelineError::Cancelled);
    }

    progress.set(JobPhase::Sealing, overall(JobPhase::Sealing, 0.0));
    let (storage, video, rendition, sealed_dir, cancel, cell) = (
        core.storage.clone(),
        job.video,
        job.rendition.clone(),
        work.0.join("sealed"),
        cancel.clone(),
        progress.clone(),
    );
    let (published, manifest, metadata) = blocking(move || {
        fs_err::create_dir(&sealed_dir)?;
        seal_rendition(
            &*storage,
            &dek,
            &video,
            &rendition,
            &prepared,
            &sealed_dir,
            &cancel,
            &cell,
        )
    })
    .instrument(info_span!("seal", rendition = %job.rendition))
    .await?;
    async {
        // Only the lease holder publishes, and holding it now keeps it for a whole lease: far
        // longer than the rename below, so no other attempt can start and publish in between.
        let holds = store::renew_before_publishing(
            &core.db,
            job.id,
            worker,
            job.attempt,
            core.config.jobs.lease_secs,
        )
        .await
        .map_err(|err| PipelineError::Internal(err.to_string()))?;
        if !holds {
            return Err(PipelineError::Superseded);
        }
        crate::videos::store::save_metadata(&core.db, &job.video, &metadata)
            .await
            .map_err(|err| PipelineError::Internal(err.to_string()))?;
        let (storage, video) = (core.storage.clone(), job.video);
        blocking(move || Ok(storage.import_object(&video, &StoredObject::Manifest, &manifest)?))
            .await
    }
    .instrument(info_span!("publish", rendition = %job.rendition))
    .await?;
    progress.set(JobPhase::Sealing, 100.0);
    drop(work);
    Ok(published)
}

/// Seals every output into the rendition, then the thumbnail, then the manifest that names them
/// into `sealed_dir`; returns the sealed manifest's path for the caller to publish (last, so a
/// reader never finds a manifest naming a file not yet in place), and the sealed metadata for the
/// video's row.
#[allow(clippy::too_many_arguments)]
fn seal_rendition(
    storage: &dyn VideoStorage,
    dek: &Dek,
    video: &VideoId,
    rendition: &RenditionId,
    prepared: &PreparedMedia,
    sealed_dir: &Path,
    cancel: &CancellationToken,
    progress: &ProgressCell,
) -> Result<(Published, PathBuf, Vec<u8>), PipelineError> {
    let total = prepared.segments.len() + 2;
    let mut done = 0usize;
    let step = |done: &mut usize| {
        *done += 1;
        progress.set(
            JobPhase::Sealing,
            overall(JobPhase::Sealing, *done as f32 / total as f32),
        );
    };
    let crypto = |err: cloister_shared::CryptoError| PipelineError::Internal(err.to_string());

    let seal_into = |purpose: &Purpose, src: &Path, object: StoredObject, name: &str| {
        if cancel.is_cancelled() {
            return Err(PipelineError::Cancelled);
        }
        let dst = sealed_dir.join(name);
        let entry = seal::seal_file(dek, video, purpose, src, &dst)?;
        storage.import_object(video, &object, &dst)?;
        Ok::<_, PipelineError>(entry)
    };

    let init = seal_into(
        &Purpose::init(rendition.as_str()).map_err(crypto)?,
        &prepared.init,
        StoredObject::Init {
            rendition: rendition.clone(),
        },
        "init",
    )?;
    step(&mut done);
    let mut segments = Vec::with_capacity(prepared.segments.len());
    for (n, segment) in prepared.segments.iter().enumerate() {
        let index = u32::try_from(n)
            .map_err(|_| PipelineError::Internal("too many segments".to_owned()))?;
        let file = seal_into(
            &Purpose::segment(rendition.as_str(), index).map_err(crypto)?,
            &segment.path,
            StoredObject::Segment {
                rendition: rendition.clone(),
                index,
            },
            &format!("segment-{index}"),
        )?;
        segments.push(Segment {
            start_ms: segment.start_ms,
            duration_ms: segment.duration_ms,
            file,
        });
        step(&mut done);
    }
    let thumb = match &prepared.thumb {
        Some(path) => Some(seal_into(
            &Purpose::Thumb,
            path,
            StoredObject::Thumb,
            "thumb",
        )?),
        None => None,
    };
    let manifest = Manifest {
        version: MANIFEST_VERSION,
        rendition: rendition.to_string(),
        duration_ms: prepared.duration_ms,
        width: prepared.width,
        height: prepared.height,
        mime_codec: prepared.mime_codec.clone(),
        has_audio: prepared.has_audio,
        preparation: prepared.preparation,
        init,
        segments,
        thumb,
    };
    let json =
        serde_json::to_vec(&manifest).map_err(|err| PipelineError::Internal(err.to_string()))?;
    let dst = sealed_dir.join("manifest");
    seal::seal_bytes(dek, video, &Purpose::Manifest, &json, &dst)?;
    let metadata = seal_metadata(dek, video, prepared)?;
    let published = Published {
        rendition: rendition.clone(),
        duration_ms: prepared.duration_ms,
        has_thumb: manifest.thumb.is_some(),
    };
    Ok((published, dst, metadata))
}

/// The video's recording time, duration and picture size, sealed under `Purpose::Metadata` for
/// the browser's index (docs/format.md, "Sealed metadata"): the recording time never rests on
/// the server in the clear.
fn seal_metadata(
    dek: &Dek,
    video: &VideoId,
    prepared: &PreparedMedia,
) -> Result<Vec<u8>, PipelineError> {
    let metadata = VideoMetadata {
        version: METADATA_VERSION,
        recorded_at: prepared.recorded_at.map(|at| at.0),
        duration_ms: prepared.duration_ms,
        width: prepared.width,
        height: prepared.height,
    };
    let json =
        serde_json::to_vec(&metadata).map_err(|err| PipelineError::Internal(err.to_string()))?;
    cloister_shared::crypto::stream::seal_all(
        dek,
        video,
        &Purpose::Metadata,
        cloister_shared::crypto::stream::DEFAULT_CHUNK_SIZE,
        &json,
    )
    .map_err(|err| PipelineError::Internal(err.to_string()))
}

/// Debug builds only (tests): processing a chosen video panics on purpose, to show that a panic
/// fails the attempt instead of leaving the job running (docs/operations.md).
#[cfg(debug_assertions)]
pub mod fault {
    use std::sync::Mutex;

    use cloister_shared::VideoId;

    static PANIC_FOR: Mutex<Vec<VideoId>> = Mutex::new(Vec::new());

    /// Every attempt at `video` panics after decrypting its original.
    pub fn panic_when_processing(video: VideoId) {
        if let Ok(mut videos) = PANIC_FOR.lock() {
            videos.push(video);
        }
    }

    pub(super) fn panic_if_asked(video: &VideoId) {
        let asked = PANIC_FOR.lock().is_ok_and(|videos| videos.contains(video));
        assert!(!asked, "a panic asked for by a test (video {video})");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn phases_fill_the_percentage_in_order() {
        assert_eq!(overall(JobPhase::Decrypting, 0.0), 0.0);
        assert_eq!(overall(JobPhase::Transcoding, 0.5), 49.0);
        assert_eq!(overall(JobPhase::Sealing, 1.0), 100.0);
        assert!(overall(JobPhase::Probing, 1.0) <= overall(JobPhase::Remuxing, 0.0));
        assert_eq!(overall(JobPhase::Thumbnail, 7.0), 90.0);
    }

    #[test]
    fn work_directories_name_their_job() {
        let rendition = RenditionId::generate().expect("rendition");
        let tmp = Path::new("/data/tmp");
        let dir = WorkDir::path_for(tmp, 12, Some(&rendition));
        let name = dir.file_name().and_then(|n| n.to_str()).expect("name");
        assert_eq!(WorkDir::job_of(name), Some(12));
        assert_eq!(WorkDir::parse(name), Some((12, Some(rendition))));
        assert_eq!(WorkDir::job_of("job-12"), Some(12));
        assert_eq!(WorkDir::job_of("job-"), None);
        assert_eq!(WorkDir::job_of("job-x"), None);
        assert_eq!(WorkDir::job_of("job-12-../x"), None);
        assert_eq!(WorkDir::job_of("download-3"), None);
    }
}
