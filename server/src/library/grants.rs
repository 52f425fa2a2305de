//! Letting a member in: `POST /api/library/grants` (admin). The admin's client sealed the library
//! key to the member's public key; the server checks that it is sealed to the member's current key
//! for the current generation, so a grant made for someone else, or before a key change, is refused
//! (docs/accounts.md, "Keys for people").

use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::post;
use axum::Router;
use cloister_shared::api::keys::GrantRequest;
use cloister_shared::api::{Event, Role};

use super::{keys_store, store};
use crate::accounts::{users, CurrentUser};
use crate::error::{AppError, AppResult};
use crate::http::json::ApiJson;
use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new().route("/api/library/grants", post(grant))
}

async fn grant(
    State(state): State<AppState>,
    CurrentUser(admin): CurrentUser,
    body: Result<ApiJson<GrantRequest>, AppError>,
) -> AppResult<StatusCode> {
    // The role is checked before the body, so a member is told why whatever they sent.
    if admin.role != Role::Admin {
        return Err(AppError::Forbidden(
            "Only an admin can let someone in.".to_owned(),
        ));
    }
    let ApiJson(body) = body?;
    let username = users::valid_username(&body.username)?;
    let member = users::find(&state.db, &username)
        .await?
        .ok_or_else(|| AppError::NotFound(format!("There is no member called {username}.")))?;
    let mut tx = state.db.begin().await?;
    let generation = store::generation(&mut *tx)
        .await?
        .ok_or_else(|| AppError::Conflict("The library has not been set up yet.".to_owned()))?;
    if body.generation != generation {
        return Err(AppError::Conflict(
            "The library key has changed since you unlocked. Reload and grant again.".to_owned(),
        ));
    }
    let keys = keys_store::keys_of_user(&mut *tx, member.id)
        .await?
        .ok_or_else(|| {
            AppError::Conflict(format!(
                "{username} has not chosen a passphrase yet, so there is nothing to seal the \
                 library key to."
            ))
        })?;
    if keys.public_key != body.public_key {
        return Err(AppError::Conflict(format!(
            "This grant is not sealed to {username}'s current key (it was made for someone \
             else, or {username} has made new keys since). Reload and grant again."
        )));
    }
    keys_store::put_grant(
        &mut tx,
        member.id,
        generation,
        &body.public_key,
        &body.sealed_library_key,
        admin.id,
    )
    .await?;
    tx.commit().await?;
    tracing::info!(by = %admin.username, username = %username, generation, "access granted");
    state.events.send_personal(member.id, Event::AccessGranted);
    Ok(StatusCode::NO_CONTENT)
}
