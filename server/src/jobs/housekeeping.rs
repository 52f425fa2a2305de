//! Removing what an attempt left behind: its temp directory (plaintext) and an unpublished
//! rendition; and, once a new rendition is published, the older ones.

use cloister_shared::VideoId;

use super::pipeline::WorkDir;
use super::worker::work_dir;
use crate::error::AppResult;
use crate::state::Core;
use crate::storage::RenditionId;

/// Removes the temp directory and the unpublished rendition of a dead or failed attempt (each
/// attempt has its own of both, named by its rendition id).
pub async fn remove_attempt_leftovers(
    core: &Core,
    job_id: i64,
    video: &VideoId,
    rendition: Option<&RenditionId>,
) {
    let dir = work_dir(core, job_id, rendition);
    let storage = core.storage.clone();
    let (video, rendition) = (*video, rendition.cloned());
    let published = published_rendition(core, &video).await;
    let result = tokio::task::spawn_blocking(move || {
        match fs_err::remove_dir_all(&dir) {
            Err(err) if err.kind() != std::io::ErrorKind::NotFound => return Err(err),
            _ => {}
        }
        match rendition {
            Some(r) if published.as_ref() != Some(&r) => storage.remove_rendition(&video, &r),
            _ => Ok(()),
        }
    })
    .await;
    match result {
        Ok(Ok(())) => {}
        Ok(Err(err)) => {
            tracing::error!(job = job_id, error = %err, "could not remove an attempt's leftovers")
        }
        Err(err) => tracing::error!(job = job_id, error = %err, "leftover removal task failed"),
    }
}

async fn published_rendition(core: &Core, video: &VideoId) -> Option<RenditionId> {
    let stored = super::store::published_rendition(&core.db, video)
        .await
        .ok();
    stored.flatten().as_deref().and_then(RenditionId::parse)
}

/// After `keep` is published, every other rendition of the video is garbage.
pub async fn remove_other_renditions(core: &Core, video: &VideoId, keep: &RenditionId) {
    let storage = core.storage.clone();
    let (video, keep) = (*video, keep.clone());
    let result = tokio::task::spawn_blocking(move || {
        for rendition in storage.renditions(&video)? {
            if rendition != keep {
                storage.remove_rendition(&video, &rendition)?;
            }
        }
        Ok::<_, std::io::Error>(())
    })
    .await;
    if !matches!(result, Ok(Ok(()))) {
        tracing::warn!(video = %video, "could not remove old renditions");
    }
}

/// At start: work directories (`tmp/job-<id>-<rendition>`, or `tmp/job-<id>` of older versions)
/// of attempts that do not hold a live lease are leftovers of a crash. (A live lease means another
/// worker process is using its directory.)
pub async fn remove_orphaned_work_dirs(core: &Core) -> AppResult<()> {
    let tmp = core.data.tmp();
    type Found = Vec<(i64, Option<RenditionId>, std::path::PathBuf)>;
    let entries = tokio::task::spawn_blocking(move || -> std::io::Result<Found> {
        let mut found = Vec::new();
        for entry in fs_err::read_dir(&tmp)? {
            let entry = entry?;
            if let Some((id, rendition)) = entry.file_name().to_str().and_then(WorkDir::parse) {
                found.push((id, rendition, entry.path()));
            }
        }
        Ok(found)
    })
    .await
    .map_err(|err| crate::error::AppError::Internal(err.to_string()))??;
    // Leases are measured by the database's clock (`store::clock`).
    let now = super::store::clock(&mut *core.db.acquire().await?).await?;
    for (id, rendition, path) in entries {
        let live = super::store::live_rendition(&core.db, id, now).await?;
        let in_use = match (live, &rendition) {
            (None, _) => false,
            (Some(_), None) => true,
            (Some(running), Some(mine)) => running.as_deref() == Some(mine.as_str()),
        };
        if !in_use {
            tracing::info!(dir = %path.display(), "removing a dead job's temp files");
            let _ = tokio::task::spawn_blocking(move || fs_err::remove_dir_all(path)).await;
        }
    }
    Ok(())
}
