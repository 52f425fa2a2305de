//! One processing attempt (DESIGN.md §4, "Processing"): open the original into a private temp
//! directory, let `media` make segments and a thumbnail, seal every output under fresh salts into
//! a new rendition, write the sealed manifest. The temp directory — all the plaintext — is
//! removed in every outcome, by the `WorkDir` guard if nothing else.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use cloister_shared::api::jobs::JobPhase;
use cloister_shared::manifest::{Manifest, Segment, MANIFEST_VERSION};
use cloister_shared::{Dek, Purpose, VideoId};
use tokio_util::sync::CancellationToken;

use super::seal::{self, OpenOriginalError, OriginalLayout};
use super::transitions::{Claimed, Published};
use crate::custody;
use crate::media::{self, MediaError, PreparedMedia};
use crate::state::AppState;
use crate::storage::{RenditionId, StoredObject, VideoStorage};

/// Why an attempt ended without a ready video.
#[derive(Debug, thiserror::Error)]
pub enum PipelineError {
    #[error("{0}")]
    Media(#[from] MediaError),
    #[error("the key held for processing does not open")]
    Key,
    #[error("the stored original does not decrypt with the key held for it")]
    Original,
    #[error("cancelled")]
    Cancelled,
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
            Self::Cancelled => "cancelled".to_owned(),
            Self::Io(_) | Self::Internal(_) => "a storage error on the server".to_owned(),
        }
    }

    /// Whether another attempt could succeed.
    pub fn retryable(&self) -> bool {
        match self {
            Self::Media(err) => err.retryable(),
            Self::Key | Self::Original | Self::Cancelled => false,
            Self::Io(_) | Self::Internal(_) => true,
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
    };
    from + (to - from) * fraction.clamp(0.0, 1.0)
}

/// `tmp/job-<id>`: created private, removed when dropped.
pub struct WorkDir(PathBuf);

impl WorkDir {
    pub fn path_for(tmp: &Path, job_id: i64) -> PathBuf {
        tmp.join(format!("job-{job_id}"))
    }

    fn create(tmp: &Path, job_id: i64) -> std::io::Result<Self> {
        use std::os::unix::fs::DirBuilderExt;
        let path = Self::path_for(tmp, job_id);
        // Leftovers of an attempt that died with its worker.
        match std::fs::remove_dir_all(&path) {
            Err(err) if err.kind() != std::io::ErrorKind::NotFound => return Err(err),
            _ => {}
        }
        std::fs::DirBuilder::new().mode(0o700).create(&path)?;
        Ok(Self(path))
    }
}

impl Drop for WorkDir {
    fn drop(&mut self) {
        if let Err(err) = std::fs::remove_dir_all(&self.0) {
            if err.kind() != std::io::ErrorKind::NotFound {
                tracing::error!(dir = %self.0.display(), error = %err, "could not remove a job's temp files");
            }
        }
    }
}

async fn blocking<T: Send + 'static>(
    work: impl FnOnce() -> Result<T, PipelineError> + Send + 'static,
) -> Result<T, PipelineError> {
    tokio::task::spawn_blocking(work)
        .await
        .map_err(|err| PipelineError::Internal(format!("a blocking task failed: {err}")))?
}

async fn layout(state: &AppState, video: &VideoId) -> Result<OriginalLayout, PipelineError> {
    let row: Option<(i64, i64)> =
        sqlx::query_as("SELECT size_bytes, chunk_size FROM videos WHERE id = ?")
            .bind(video.to_string())
            .fetch_optional(&state.db)
            .await
            .map_err(|err| PipelineError::Internal(err.to_string()))?;
    let (size, chunk) =
        row.ok_or_else(|| PipelineError::Internal("the video is gone".to_owned()))?;
    Ok(OriginalLayout {
        size_bytes: u64::try_from(size).map_err(|_| PipelineError::Original)?,
        chunk_size: u32::try_from(chunk).map_err(|_| PipelineError::Original)?,
    })
}

/// Runs one attempt of `job`. On success the new rendition and manifest are in storage; on any
/// error the caller removes the rendition.
pub async fn process(
    state: &AppState,
    job: &Claimed,
    cancel: &CancellationToken,
    progress: &Arc<ProgressCell>,
) -> Result<Published, PipelineError> {
    let dek = custody::unwrap_dek(&state.server_key, &job.video, &job.wrapped_dek)
        .map_err(|_| PipelineError::Key)?;
    let layout = layout(state, &job.video).await?;
    let work = WorkDir::create(&state.data.tmp(), job.id)?;
    let original = work.0.join("original");

    progress.set(JobPhase::Decrypting, 0.0);
    {
        let (storage, dek, video, dst, cancel, cell) = (
            state.storage.clone(),
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
        .await?;
    }

    let out = work.0.join("out");
    std::fs::create_dir(&out)?;
    let cell = progress.clone();
    let on_progress =
        move |phase: JobPhase, fraction: f32| cell.set(phase, overall(phase, fraction));
    let prepared = media::prepare(&state.media, &original, &out, cancel, &on_progress).await?;
    // The plaintext original is no longer needed; free its disk now.
    std::fs::remove_file(&original)?;
    if cancel.is_cancelled() {
        return Err(PipelineError::Cancelled);
    }

    progress.set(JobPhase::Sealing, overall(JobPhase::Sealing, 0.0));
    let (storage, video, rendition, sealed_dir, cancel, cell) = (
        state.storage.clone(),
        job.video,
        job.rendition.clone(),
        work.0.join("sealed"),
        cancel.clone(),
        progress.clone(),
    );
    let published = blocking(move || {
        std::fs::create_dir(&sealed_dir)?;
        publish(
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
    .await?;
    drop(work);
    Ok(published)
}

/// Seals every output into the rendition, then the thumbnail, then the manifest that names them
/// (last, so a reader never finds a manifest naming a file not yet in place).
#[allow(clippy::too_many_arguments)]
fn publish(
    storage: &dyn VideoStorage,
    dek: &Dek,
    video: &VideoId,
    rendition: &RenditionId,
    prepared: &PreparedMedia,
    sealed_dir: &Path,
    cancel: &CancellationToken,
    progress: &ProgressCell,
) -> Result<Published, PipelineError> {
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
    storage.import_object(video, &StoredObject::Manifest, &dst)?;
    step(&mut done);
    Ok(Published {
        rendition: rendition.clone(),
        duration_ms: prepared.duration_ms,
        has_thumb: manifest.thumb.is_some(),
    })
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
}
