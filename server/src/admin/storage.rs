//! `/api/admin/storage`: each account's quota, what the quota counts, and what its videos take on
//! disk, and what of it the trash holds (counted in the users' figures too until purged).

use std::collections::HashMap;

use axum::extract::State;
use cloister_shared::api::admin::{StorageReport, TrashStorage, UserStorage};
use cloister_shared::api::Role;
use cloister_shared::VideoId;

use crate::error::{AppError, AppResult};
use crate::http::json::ApiJson;
use crate::state::AppState;
use crate::uploads::blocking;

pub(super) async fn storage(State(state): State<AppState>) -> AppResult<ApiJson<StorageReport>> {
    report(&state).await.map(ApiJson)
}

/// Quota use is the sum of the plaintext sizes (as the upload check counts it); stored bytes are
/// measured on disk, one directory per video.
async fn report(state: &AppState) -> AppResult<StorageReport> {
    let users = super::store::quota_use(&state.db).await?;
    let videos = super::store::video_owners(&state.db).await?;
    let trashed = crate::trash::store::trashed_ids(&state.db).await?;
    let storage = state.storage.clone();
    let (stored, trash) = blocking(move || {
        let mut by_owner: HashMap<i64, u64> = HashMap::new();
        for (raw, owner) in videos {
            let Ok(id) = VideoId::parse(&raw) else {
                continue;
            };
            let bytes = storage.video_bytes(&id)?;
            let total = by_owner.entry(owner).or_default();
            *total = total.saturating_add(bytes);
        }
        let mut trash = TrashStorage::default();
        for (raw, size) in trashed {
            let Ok(id) = VideoId::parse(&raw) else {
                continue;
            };
            trash.videos += 1;
            trash.quota_bytes = trash
                .quota_bytes
                .saturating_add(u64::try_from(size).unwrap_or(0));
            trash.stored_bytes = trash.stored_bytes.saturating_add(storage.video_bytes(&id)?);
        }
        Ok((by_owner, trash))
    })
    .await?;
    let disk = state.disk.clone();
    let root = state.data.root().to_path_buf();
    let disk_free_bytes = blocking(move || disk.available_bytes(&root)).await?;
    let users = users
        .into_iter()
        .map(|(id, username, role, quota, count, used)| {
            let role: Role = role
                .parse()
                .map_err(|_| AppError::Internal(format!("user {id} has role {role:?}")))?;
            Ok(UserStorage {
                username,
                role,
                quota_bytes: u64::try_from(quota).unwrap_or(0),
                quota_used_bytes: u64::try_from(used).unwrap_or(0),
                stored_bytes: stored.get(&id).copied().unwrap_or(0),
                videos: u64::try_from(count).unwrap_or(0),
            })
        })
        .collect::<AppResult<Vec<_>>>()?;
    Ok(StorageReport {
        users,
        disk_free_bytes,
        trash,
    })
}
