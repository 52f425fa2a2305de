//! `/api/admin/housekeeping`: what can be removed, by category, with the bytes each frees; and
//! removing one category. Never touched: an original of a finished upload, a published rendition,
//! and anything a running job owns. Every candidate is checked again just before it is removed.

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use axum::extract::State;
use cloister_shared::api::admin::{
    CleanRequest, CleanResult, CleanupCategory, CleanupKind, HousekeepingReport,
};
use cloister_shared::VideoId;

use crate::accounts::{unix_now, AdminUser};
use crate::error::AppResult;
use crate::http::json::ApiJson;
use crate::state::AppState;
use crate::storage::{tree_bytes, RenditionId};
use crate::uploads::{blocking, sweep};

/// An unfinished upload with no new chunk for this long counts as abandoned here (the automatic
/// sweep waits `--abandoned-upload-hours`).
pub const ABANDONED_AFTER_SECS: i64 = 3600;
/// A `tmp/` entry that is not a job's work directory is removed only once nothing in it changed
/// for this long: another part of the server may be writing it.
pub const STRAY_TEMP_AFTER: Duration = Duration::from_secs(3600);

/// One removable thing and its size.
#[derive(Debug, Clone)]
enum Item {
    Upload(VideoId),
    Rendition(VideoId, RenditionId),
    /// An entry directly in `tmp/`; `job` when it is a job's work directory.
    Temp {
        path: PathBuf,
        job: Option<i64>,
    },
}

pub(super) async fn show(State(state): State<AppState>) -> AppResult<ApiJson<HousekeepingReport>> {
    report(&state).await.map(ApiJson)
}

pub(super) async fn clean_route(
    State(state): State<AppState>,
    AdminUser(user): AdminUser,
    ApiJson(request): ApiJson<CleanRequest>,
) -> AppResult<ApiJson<CleanResult>> {
    let result = clean(&state, request.kind).await?;
    tracing::info!(kind = request.kind.as_str(), removed = result.removed, freed = result.freed_bytes, user = %user.username, "housekeeping by an admin");
    Ok(ApiJson(result))
}

async fn report(state: &AppState) -> AppResult<HousekeepingReport> {
    let mut categories = Vec::new();
    for kind in CleanupKind::ALL {
        let found = scan(state, kind).await?;
        categories.push(CleanupCategory {
            kind,
            items: found.len() as u64,
            bytes: found.iter().map(|(_, bytes)| bytes).sum(),
            description: describe(state, kind),
        });
    }
    Ok(HousekeepingReport { categories })
}

fn describe(state: &AppState, kind: CleanupKind) -> String {
    match kind {
        CleanupKind::AbandonedUploads => format!(
            "Unfinished uploads with no new chunk for an hour or more (they are removed by \
             themselves after {} hours). Their uploaders would have to start again.",
            state.config.uploads.abandoned_upload_hours
        ),
        CleanupKind::FailedLeftovers => "Renditions no manifest names and no running job is \
             writing: the output of failed, killed or cancelled attempts. Originals and \
             published videos are never touched."
            .to_owned(),
        CleanupKind::TempFiles => "Entries of tmp/ no running job owns: work directories of \
             jobs that ended, and other files untouched for an hour."
            .to_owned(),
    }
}

/// Removes every item of `kind` that is still removable when its turn comes.
async fn clean(state: &AppState, kind: CleanupKind) -> AppResult<CleanResult> {
    let found = scan(state, kind).await?;
    let mut result = CleanResult {
        kind,
        removed: 0,
        freed_bytes: 0,
    };
    if kind == CleanupKind::AbandonedUploads {
        // The sweep takes each upload's lock and looks again, so a chunk arriving now wins.
        sweep::sweep_before(state, unix_now() - ABANDONED_AFTER_SECS).await?;
        for (item, bytes) in found {
            if let Item::Upload(id) = item {
                if !super::store::video_exists(&state.db, &id.to_string()).await? {
                    result.removed += 1;
                    result.freed_bytes += bytes;
                }
            }
        }
        return Ok(result);
    }
    for (item, bytes) in found {
        if !still_removable(state, &item).await? {
            continue;
        }
        let storage = state.storage.clone();
        blocking(move || match item {
            Item::Rendition(video, rendition) => storage.remove_rendition(&video, &rendition),
            Item::Temp { path, .. } => remove_entry(&path),
            Item::Upload(_) => Ok(()),
        })
        .await?;
        result.removed += 1;
        result.freed_bytes += bytes;
    }
    Ok(result)
}

/// A file or a directory tree, without following a link out of `tmp/`.
fn remove_entry(path: &Path) -> std::io::Result<()> {
    let result = match fs_err::symlink_metadata(path) {
        Ok(meta) if meta.is_dir() => fs_err::remove_dir_all(path),
        Ok(_) => fs_err::remove_file(path),
        Err(err) => Err(err),
    };
    match result {
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => Ok(()),
        other => other,
    }
}

async fn scan(state: &AppState, kind: CleanupKind) -> AppResult<Vec<(Item, u64)>> {
    match kind {
        CleanupKind::AbandonedUploads => abandoned_uploads(state).await,
        CleanupKind::FailedLeftovers => leftover_renditions(state).await,
        CleanupKind::TempFiles => temp_files(state).await,
    }
}

async fn abandoned_uploads(state: &AppState) -> AppResult<Vec<(Item, u64)>> {
    let ids =
        super::store::uploads_idle_since(&state.db, unix_now() - ABANDONED_AFTER_SECS).await?;
    let storage = state.storage.clone();
    blocking(move || {
        let mut found = Vec::new();
        for id in ids.iter().filter_map(|raw| VideoId::parse(raw).ok()) {
            found.push((Item::Upload(id), storage.video_bytes(&id)?));
        }
        Ok(found)
    })
    .await
}

/// Renditions running jobs write, and the published ones.
async fn renditions_in_use(state: &AppState) -> AppResult<HashSet<(String, String)>> {
    let rows = super::store::renditions_in_use(&state.db).await?;
    Ok(rows.into_iter().collect())
}

async fn leftover_renditions(state: &AppState) -> AppResult<Vec<(Item, u64)>> {
    let ids = super::store::uploaded_video_ids(&state.db).await?;
    // The directories first, then who uses them: a rendition a job starts writing after this
    // listing is not in it, and one listed whose job runs is seen running below.
    let storage = state.storage.clone();
    let listed = blocking(move || {
        let mut listed = Vec::new();
        for id in ids.iter().filter_map(|raw| VideoId::parse(raw).ok()) {
            for rendition in storage.renditions(&id)? {
                let bytes = storage.rendition_bytes(&id, &rendition)?;
                listed.push((id, rendition, bytes));
            }
        }
        Ok(listed)
    })
    .await?;
    let in_use = renditions_in_use(state).await?;
    Ok(listed
        .into_iter()
        .filter(|(id, rendition, _)| !in_use.contains(&(id.to_string(), rendition.to_string())))
        .map(|(id, rendition, bytes)| (Item::Rendition(id, rendition), bytes))
        .collect())
}

async fn running_jobs(state: &AppState) -> AppResult<HashSet<i64>> {
    let ids = super::store::running_job_ids(&state.db).await?;
    Ok(ids.into_iter().collect())
}

/// `job-<id>-<rendition>` (or `job-<id>` of older versions) names a job's work directory.
fn job_of(name: &str) -> Option<i64> {
    crate::jobs::pipeline::WorkDir::job_of(name)
}

/// The newest modification time in a tree (links not followed).
fn newest_change(path: &Path) -> std::io::Result<SystemTime> {
    let meta = fs_err::symlink_metadata(path)?;
    let mut newest = meta.modified()?;
    if meta.is_dir() {
        for entry in fs_err::read_dir(path)? {
            newest = newest.max(newest_change(&entry?.path())?);
        }
    }
    Ok(newest)
}

async fn temp_files(state: &AppState) -> AppResult<Vec<(Item, u64)>> {
    let tmp = state.data.tmp();
    let listed = blocking(move || {
        let mut listed = Vec::new();
        for entry in fs_err::read_dir(&tmp)? {
            let entry = entry?;
            let path = entry.path();
            let job = entry.file_name().to_str().and_then(job_of);
            let quiet = SystemTime::now()
                .duration_since(newest_change(&path)?)
                .is_ok_and(|age| age >= STRAY_TEMP_AFTER);
            listed.push((path.clone(), job, quiet, tree_bytes(&path)?));
        }
        Ok(listed)
    })
    .await?;
    let running = running_jobs(state).await?;
    Ok(listed
        .into_iter()
        .filter(|(_, job, quiet, _)| match job {
            Some(id) => !running.contains(id),
            None => *quiet,
        })
        .map(|(path, job, _, bytes)| (Item::Temp { path, job }, bytes))
        .collect())
}

/// Looks again just before removing: a job may have started meanwhile.
async fn still_removable(state: &AppState, item: &Item) -> AppResult<bool> {
    Ok(match item {
        Item::Upload(_) => true,
        Item::Rendition(id, rendition) => !renditions_in_use(state)
            .await?
            .contains(&(id.to_string(), rendition.to_string())),
        Item::Temp { job: Some(id), .. } => !running_jobs(state).await?.contains(id),
        Item::Temp { job: None, .. } => true,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_job_directories_name_a_job() {
        assert_eq!(job_of("job-12"), Some(12));
        assert_eq!(job_of("job-"), None);
        assert_eq!(job_of("job-x"), None);
        assert_eq!(job_of("download-3"), None);
    }
}
