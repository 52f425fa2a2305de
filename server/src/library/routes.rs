//! `GET`/`POST /api/library` and `PUT /api/library/passphrase`.

use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::{get, put};
use axum::Router;
use cloister_shared::api::library::decode_salt;
use cloister_shared::api::{ChangePassphraseRequest, InitLibraryRequest, KdfInfo, LibraryStatus};
use cloister_shared::{KdfParams, WrappedKey};

use super::store::{self, LibraryRecord};
use crate::accounts::{AdminUser, CurrentUser};
use crate::error::{AppError, AppResult};
use crate::http::json::ApiJson;
use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/library", get(status).post(init))
        .route("/api/library/passphrase", put(change_passphrase))
}

fn record(salt_hex: &str, params: KdfParams, wrapped: WrappedKey) -> AppResult<LibraryRecord> {
    let salt = decode_salt(salt_hex).map_err(|err| AppError::BadRequest(format!("{err}.")))?;
    Ok(LibraryRecord {
        salt,
        params,
        wrapped_library_key: wrapped,
    })
}

async fn status(
    State(state): State<AppState>,
    CurrentUser(_): CurrentUser,
) -> AppResult<ApiJson<LibraryStatus>> {
    current(&state).await.map(ApiJson)
}

async fn current(state: &AppState) -> AppResult<LibraryStatus> {
    Ok(match store::get(&state.db).await? {
        None => LibraryStatus {
            initialized: false,
            kdf: None,
            wrapped_library_key: None,
        },
        Some(record) => LibraryStatus {
            initialized: true,
            kdf: Some(KdfInfo::new(&record.salt, record.params)),
            wrapped_library_key: Some(record.wrapped_library_key),
        },
    })
}

async fn init(
    State(state): State<AppState>,
    AdminUser(admin): AdminUser,
    ApiJson(body): ApiJson<InitLibraryRequest>,
) -> AppResult<(StatusCode, ApiJson<LibraryStatus>)> {
    let record = record(&body.salt_hex, body.params, body.wrapped_library_key)?;
    store::init(&state.db, &record).await?;
    tracing::info!(by = %admin.username, "library passphrase set up");
    Ok((StatusCode::CREATED, ApiJson(current(&state).await?)))
}

async fn change_passphrase(
    State(state): State<AppState>,
    AdminUser(admin): AdminUser,
    ApiJson(body): ApiJson<ChangePassphraseRequest>,
) -> AppResult<ApiJson<LibraryStatus>> {
    let record = record(&body.salt_hex, body.params, body.wrapped_library_key)?;
    store::change_passphrase(&state.db, &body.expected_wrapped_library_key, &record).await?;
    tracing::info!(by = %admin.username, "library passphrase changed");
    current(&state).await.map(ApiJson)
}
