//! Changing the library key after a member leaves (docs/accounts.md, "Removing a member: the key
//! change"; endpoints in docs/api.md): `POST /api/library/rotation` starts it,
//! `GET`/`POST /api/library/rotation/batch` re-wrap the videos' keys in batches (admin). The
//! admin's browser makes the new key and does the wrapping; the server checks the rules and stores
//! each step atomically, so a closed tab resumes and two tabs do no harm.

use std::collections::{BTreeMap, BTreeSet};

use axum::extract::{Query, State};
use axum::routing::get;
use axum::Router;
use cloister_shared::api::keys::{
    KeyHolder, RewrapBatchRequest, RotationBatch, RotationBatchItem, RotationPlan,
    RotationProgress, StartRotationRequest,
};
use cloister_shared::api::Event;
use cloister_shared::crypto::member::MemberPublicKey;
use cloister_shared::{VideoId, WrappedKey};
use serde::Deserialize;

use super::rotation_store::{self as store, NewRotation, Rotation};
use crate::accounts::{unix_now, AdminUser};
use crate::error::{AppError, AppResult};
use crate::http::json::ApiJson;
use crate::state::AppState;

/// Videos per batch when the client does not say.
const DEFAULT_BATCH: u32 = 200;
/// The most videos one batch may carry either way.
const MAX_BATCH: u32 = 500;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/library/rotation", get(plan).post(start))
        .route(
            "/api/library/rotation/batch",
            get(next_batch).post(rewrap_batch),
        )
}

fn already_running() -> AppError {
    AppError::Conflict("A key change is already running. Finish it first.".to_owned())
}

fn stale(current: u32) -> AppError {
    AppError::Conflict(format!(
        "The library key has changed since you unlocked (it is now generation {current}). Unlock \
         again and retry."
    ))
}

fn none_running() -> AppError {
    AppError::Conflict("No key change is running.".to_owned())
}

fn no_library() -> AppError {
    AppError::Conflict("The library has not been set up yet.".to_owned())
}

/// The grants must go to exactly the members who hold the current key (by name and public key):
/// a missing one would lock a member out, an extra one would let someone in without an admin's
/// grant.
fn check_grants(request: &StartRotationRequest, holders: &[(String, Vec<u8>)]) -> AppResult<()> {
    let mut asked = BTreeMap::new();
    for grant in &request.grants {
        if asked
            .insert(
                grant.username.as_str(),
                grant.public_key.as_bytes().as_slice(),
            )
            .is_some()
        {
            return Err(AppError::BadRequest(format!(
                "{} has two grants in this key change; send one per member.",
                grant.username
            )));
        }
    }
    let holding: BTreeMap<&str, &[u8]> = holders
        .iter()
        .map(|(name, key)| (name.as_str(), key.as_slice()))
        .collect();
    let changed = "Members' keys changed since you loaded the page. Reload and try again.";
    for (name, key) in &holding {
        match asked.get(name) {
            None => {
                return Err(AppError::Conflict(format!(
                    "{name} has access but no new key in this key change. {changed}"
                )))
            }
            Some(asked_key) if asked_key != key => {
                return Err(AppError::Conflict(format!(
                    "The new key for {name} is sealed to a key that is no longer theirs. {changed}"
                )))
            }
            Some(_) => {}
        }
    }
    if let Some(name) = asked.keys().find(|name| !holding.contains_key(*name)) {
        return Err(AppError::Conflict(format!(
            "{name} does not have access now, so a key change cannot give it to them. {changed}"
        )));
    }
    Ok(())
}

fn public_key(bytes: &[u8], whose: &str) -> AppResult<MemberPublicKey> {
    MemberPublicKey::from_bytes(bytes)
        .map_err(|_| AppError::Internal(format!("the stored public key of {whose} is damaged")))
}

/// What the admin's browser needs to start a key change, or the one to resume.
async fn plan(
    State(state): State<AppState>,
    AdminUser(_): AdminUser,
) -> AppResult<ApiJson<RotationPlan>> {
    let mut conn = state.db.acquire().await?;
    let library = store::key_state(&mut conn).await?.ok_or_else(no_library)?;
    let holders = store::holders(&mut conn, library.generation)
        .await?
        .into_iter()
        .map(|(username, key)| {
            Ok(KeyHolder {
                public_key: public_key(&key, &username)?,
                username,
            })
        })
        .collect::<AppResult<Vec<_>>>()?;
    let recovery_public_key = store::recovery_public_key(&mut conn)
        .await?
        .map(|key| public_key(&key, "the recovery key"))
        .transpose()?;
    Ok(ApiJson(RotationPlan {
        generation: library.generation,
        holders,
        recovery_public_key,
        needed_for: library.needed_for,
        running: store::progress(&mut conn).await?,
    }))
}

async fn start(
    State(state): State<AppState>,
    AdminUser(admin): AdminUser,
    ApiJson(request): ApiJson<StartRotationRequest>,
) -> AppResult<ApiJson<RotationProgress>> {
    let now = unix_now();
    let mut tx = state.db.begin().await?;
    store::lock_for_writing(&mut tx).await?;
    let library = store::key_state(&mut tx).await?.ok_or_else(no_library)?;
    if store::unfinished(&mut tx).await?.is_some() {
        return Err(already_running());
    }
    if request.from_generation != library.generation {
        return Err(stale(library.generation));
    }
    match (library.recovery_set, &request.recovery_sealed_library_key) {
        (true, None) => {
            return Err(AppError::BadRequest(
                "The library has a recovery key: seal the new key to it too \
                 (recovery_sealed_library_key)."
                    .to_owned(),
            ))
        }
        (false, Some(_)) => {
            return Err(AppError::BadRequest(
                "The library has no recovery key to seal the new key to.".to_owned(),
            ))
        }
        _ => {}
    }
    check_grants(
        &request,
        &store::holders(&mut tx, library.generation).await?,
    )?;
    let total = store::remaining(&mut tx, library.generation).await?;
    let new = NewRotation {
        from_generation: library.generation,
        started_by: admin.id,
        now,
        total,
        covers: &library.needed_for,
        grants: &request.grants,
        recovery_sealed_key: request.recovery_sealed_library_key.as_ref(),
        previous: &request.previous,
    };
    store::start(&mut tx, &new).await?;
    let rotation = Rotation {
        to_generation: library.generation + 1,
        started_by: Some(admin.username.clone()),
        started_at: now,
        total,
        covers: library.needed_for.clone(),
    };
    let finished = total == 0 && store::finish(&mut tx, &rotation, now).await?;
    let event = Event::LibraryKeyChanged {
        generation: rotation.to_generation,
    };
    crate::events::record(&mut tx, &event, now).await?;
    tx.commit().await?;
    state.events.poke();
    tracing::info!(
        by = %admin.username,
        to_generation = rotation.to_generation,
        videos = total,
        "key change started"
    );
    Ok(ApiJson(rotation.progress(total, finished)))
}

#[derive(Debug, Deserialize)]
struct BatchQuery {
    limit: Option<u32>,
}

async fn next_batch(
    State(state): State<AppState>,
    AdminUser(_): AdminUser,
    query: Result<Query<BatchQuery>, axum::extract::rejection::QueryRejection>,
) -> AppResult<ApiJson<RotationBatch>> {
    let Query(query) = query.map_err(|_| {
        AppError::BadRequest(format!("limit must be a number from 1 to {MAX_BATCH}."))
    })?;
    let limit = query.limit.unwrap_or(DEFAULT_BATCH);
    if !(1..=MAX_BATCH).contains(&limit) {
        return Err(AppError::BadRequest(format!(
            "limit must be a number from 1 to {MAX_BATCH}."
        )));
    }
    let mut conn = state.db.acquire().await?;
    let rotation = store::unfinished(&mut conn)
        .await?
        .ok_or_else(none_running)?;
    let from = rotation.from_generation();
    let rows = store::batch(&mut conn, from, limit).await?;
    let remaining = store::remaining(&mut conn, from).await?;
    let items = rows
        .into_iter()
        .map(|(id, wrapped)| {
            let corrupt = || AppError::Internal(format!("video {id} has a damaged key row"));
            Ok(RotationBatchItem {
                video_id: VideoId::parse(&id).map_err(|_| corrupt())?,
                wrapped_dek: WrappedKey::from_bytes(&wrapped).map_err(|_| corrupt())?,
            })
        })
        .collect::<AppResult<Vec<_>>>()?;
    Ok(ApiJson(RotationBatch {
        to_generation: rotation.to_generation,
        items,
        progress: rotation.progress(remaining, false),
    }))
}

async fn rewrap_batch(
    State(state): State<AppState>,
    AdminUser(admin): AdminUser,
    ApiJson(request): ApiJson<RewrapBatchRequest>,
) -> AppResult<ApiJson<RotationProgress>> {
    if request.items.len() > MAX_BATCH as usize {
        return Err(AppError::BadRequest(format!(
            "Send at most {MAX_BATCH} videos per batch."
        )));
    }
    let distinct: BTreeSet<_> = request.items.iter().map(|item| item.video_id).collect();
    if distinct.len() != request.items.len() {
        return Err(AppError::BadRequest(
            "A video appears twice in this batch.".to_owned(),
        ));
    }
    let now = unix_now();
    let mut tx = state.db.begin().await?;
    store::lock_for_writing(&mut tx).await?;
    let Some(rotation) = store::unfinished(&mut tx).await? else {
        // Another tab may have sent the last batch a moment ago.
        return match store::finished(&mut tx, request.to_generation).await? {
            Some(done) => Ok(ApiJson(done.progress(0, true))),
            None => Err(none_running()),
        };
    };
    if request.to_generation != rotation.to_generation {
        return Err(AppError::Conflict(format!(
            "This batch is for generation {}, but the key change running is to generation {}. \
             Reload and try again.",
            request.to_generation, rotation.to_generation
        )));
    }
    let from = rotation.from_generation();
    let mut changed = 0usize;
    for item in &request.items {
        if store::rewrap(&mut tx, &item.video_id.to_string(), from, &item.wrapped_dek).await? {
            changed += 1;
        }
    }
    let remaining = store::remaining(&mut tx, from).await?;
    let finished = remaining == 0 && store::finish(&mut tx, &rotation, now).await?;
    if finished {
        let event = Event::LibraryKeyChanged {
            generation: rotation.to_generation,
        };
        crate::events::record(&mut tx, &event, now).await?;
    }
    tx.commit().await?;
    if finished {
        state.events.poke();
        tracing::info!(
            by = %admin.username,
            to_generation = rotation.to_generation,
            "key change finished"
        );
    }
    tracing::debug!(changed, remaining, "key change batch stored");
    Ok(ApiJson(rotation.progress(remaining, remaining == 0)))
}
