//! The caller's keys and the library's status: `GET`/`POST /api/library`, `PUT /api/library/me`,
//! `PUT /api/library/me/passphrase` (docs/api.md, "Library keys"; rules in docs/accounts.md,
//! "Keys for people").

use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::{get, put};
use axum::Router;
use cloister_shared::api::keys::{
    ChangeMyPassphraseRequest, CreateLibraryRequest, LibraryMode, LibraryStatus, SetMyKeysRequest,
};
use cloister_shared::api::{Event, Role};
use sqlx::AnyConnection;

use super::{keys_store, store};
use crate::accounts::{AdminUser, CurrentUser, User};
use crate::error::{AppError, AppResult};
use crate::http::json::ApiJson;
use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/library", get(status).post(create))
        .route("/api/library/me", put(set_my_keys))
        .route("/api/library/me/passphrase", put(change_my_passphrase))
}

/// What `user` needs to unlock, and for admins what needs doing.
pub async fn status_for(state: &AppState, user: &User) -> AppResult<LibraryStatus> {
    let mut conn = state.db.acquire().await?;
    let me = keys_store::keys_of_user(&mut *conn, user.id).await?;
    let Some(row) = store::get(&mut *conn).await? else {
        return Ok(LibraryStatus {
            mode: LibraryMode::New,
            generation: 0,
            me,
            my_grant: None,
            previous: None,
            shared: None,
            recovery_set: false,
            rotation: None,
            rotation_needed: Vec::new(),
            waiting: Vec::new(),
            holders: Vec::new(),
        });
    };
    let admin = user.role == Role::Admin;
    let (waiting, holders, rotation_needed) = if admin {
        (
            keys_store::waiting(&mut *conn, row.generation).await?,
            keys_store::holders(&mut *conn, row.generation).await?,
            row.rotation_needed_for.clone(),
        )
    } else {
        (Vec::new(), Vec::new(), Vec::new())
    };
    Ok(LibraryStatus {
        mode: if row.shared.is_some() {
            LibraryMode::Shared
        } else {
            LibraryMode::Members
        },
        generation: row.generation,
        me,
        my_grant: keys_store::grant_of(&mut *conn, user.id, row.generation).await?,
        previous: row.previous,
        shared: row.shared,
        recovery_set: row.recovery.is_some(),
        rotation: super::rotation_store::progress(&mut conn).await?,
        rotation_needed,
        waiting,
        holders,
    })
}

async fn status(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
) -> AppResult<ApiJson<LibraryStatus>> {
    status_for(&state, &user).await.map(ApiJson)
}

/// Makes the library: its row with the recovery key, the admin's keys and their grant of
/// generation 1, in the caller's transaction (the first-run setup uses it too).
pub async fn create_library(
    conn: &mut AnyConnection,
    admin: &User,
    request: &CreateLibraryRequest,
) -> AppResult<()> {
    keys_store::check_kdf(&request.keys.kdf)?;
    store::create(
        &mut *conn,
        &request.recovery.public_key,
        &request.recovery.sealed_library_key,
    )
    .await?;
    keys_store::put_keys(&mut *conn, admin.id, &request.keys).await?;
    keys_store::put_grant(
        conn,
        admin.id,
        1,
        &request.keys.public_key,
        &request.grant,
        admin.id,
    )
    .await
}

async fn create(
    State(state): State<AppState>,
    AdminUser(admin): AdminUser,
    ApiJson(body): ApiJson<CreateLibraryRequest>,
) -> AppResult<(StatusCode, ApiJson<LibraryStatus>)> {
    let mut tx = state.db.begin().await?;
    create_library(&mut tx, &admin, &body).await?;
    tx.commit().await?;
    tracing::info!(by = %admin.username, "library set up");
    Ok((
        StatusCode::CREATED,
        ApiJson(status_for(&state, &admin).await?),
    ))
}

/// Tells every admin's open pages that `username` waits to be let in (personal frames: members
/// do not need to know).
pub async fn tell_admins_waiting(state: &AppState, username: &str) {
    match keys_store::admin_ids(&state.db).await {
        Ok(ids) => {
            for id in ids {
                state.events.send_personal(
                    id,
                    Event::AccessRequested {
                        username: username.to_owned(),
                    },
                );
            }
        }
        Err(err) => tracing::warn!(error = %err, "could not tell admins a member is waiting"),
    }
}

fn no_library() -> AppError {
    AppError::Conflict("The library has not been set up yet: an admin sets it up first.".to_owned())
}

async fn set_my_keys(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    ApiJson(body): ApiJson<SetMyKeysRequest>,
) -> AppResult<ApiJson<LibraryStatus>> {
    keys_store::check_kdf(&body.keys.kdf)?;
    let mut tx = state.db.begin().await?;
    let had_keys = keys_store::keys_of_user(&mut *tx, user.id).await?.is_some();
    let waits = match &body.self_grant {
        Some(self_grant) => {
            let row = store::get(&mut *tx).await?.ok_or_else(no_library)?;
            if row.shared.is_none() {
                return Err(AppError::Forbidden(
                    "Only converting from the shared library passphrase lets you grant yourself \
                     access; ask an admin to let you in."
                        .to_owned(),
                ));
            }
            if had_keys {
                return Err(AppError::Conflict(
                    "You have already chosen your own passphrase. Unlock with it, or ask an \
                     admin to let you in again if you forgot it."
                        .to_owned(),
                ));
            }
            if store::rotation_unfinished(&mut *tx).await? {
                return Err(AppError::Conflict(
                    "The library key is being changed, so the shared passphrase no longer \
                     lets you in. Choose your passphrase and ask an admin to let you in."
                        .to_owned(),
                ));
            }
            keys_store::put_keys(&mut tx, user.id, &body.keys).await?;
            keys_store::put_grant(
                &mut tx,
                user.id,
                row.generation,
                &body.keys.public_key,
                self_grant,
                user.id,
            )
            .await?;
            false
        }
        None => {
            keys_store::put_keys(&mut tx, user.id, &body.keys).await?;
            true
        }
    };
    let dropped = store::drop_shared_if_all_converted(&mut tx).await?;
    tx.commit().await?;
    tracing::info!(
        username = %user.username,
        replaced = had_keys,
        waits,
        "member keys set"
    );
    if dropped {
        tracing::info!("every member has their own keys: the shared passphrase is dropped");
    }
    if waits {
        tell_admins_waiting(&state, &user.username).await;
    }
    status_for(&state, &user).await.map(ApiJson)
}

async fn change_my_passphrase(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    ApiJson(body): ApiJson<ChangeMyPassphraseRequest>,
) -> AppResult<ApiJson<LibraryStatus>> {
    let changed = keys_store::rewrap_private_key(
        &state.db,
        user.id,
        &body.expected_wrapped_private_key,
        &body.kdf,
        &body.wrapped_private_key,
    )
    .await?;
    if !changed {
        if keys_store::keys_of_user(&state.db, user.id)
            .await?
            .is_none()
        {
            return Err(AppError::Conflict(
                "You have not chosen your passphrase yet.".to_owned(),
            ));
        }
        return Err(AppError::Conflict(
            "Your passphrase was changed since you unlocked. Unlock with the current passphrase \
             and try again."
                .to_owned(),
        ));
    }
    tracing::info!(username = %user.username, "own passphrase changed");
    status_for(&state, &user).await.map(ApiJson)
}
