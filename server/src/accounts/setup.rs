//! The first run in the browser: with no users, a one-time setup link (its secret only in the URL
//! fragment, its SHA-256 stored) lets the owner create the first admin and the library
//! (docs/accounts.md, "First run"). `GET`/`POST /api/setup`.

use std::net::SocketAddr;

use crate::db::Db;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::get;
use axum::Router;
use axum_extra::extract::CookieJar;
use cloister_shared::api::keys::{CreateLibraryRequest, SetupRequest, SetupStatus};
use cloister_shared::api::{LoginResponse, Role, UserSummary};
use cloister_shared::KdfParams;
use zeroize::Zeroizing;

use super::routes::{session_cookie, session_lifetime};
use super::{passwords, sessions, setup_store, users};
use crate::error::{AppError, AppResult};
use crate::http::json::ApiJson;
use crate::http::request_info::ClientIp;
use crate::state::AppState;

/// What `setup-link` says when the link is no longer the way in.
pub const ALREADY_OWNED: &str = "Cloister already has an admin; sign in instead.";

/// The sign-in limiter's name for attempts with a setup secret: not a username anyone can have
/// (usernames have no spaces or brackets), so it shares no bucket with a real account.
const LIMITER_NAME: &str = "(setup link)";

pub fn router() -> Router<AppState> {
    Router::new().route("/api/setup", get(status).post(set_up))
}

/// Where links printed on the server point: the public URL when one is configured, otherwise the
/// address the server listens on.
pub fn link_base(public_url: Option<&str>, addr: SocketAddr) -> String {
    match public_url {
        Some(url) => url.trim_end_matches('/').to_owned(),
        None => format!("http://{addr}"),
    }
}

/// A new setup link (replacing any earlier one) while nobody has an account; `None` once someone
/// does (and any leftover token is dropped). The secret exists only in the returned link.
pub async fn new_link(pool: &Db, base: &str) -> AppResult<Option<Zeroizing<String>>> {
    let mut tx = pool.begin().await?;
    if setup_store::user_count(&mut *tx).await? > 0 {
        setup_store::drop_tokens(&mut *tx).await?;
        tx.commit().await?;
        return Ok(None);
    }
    let secret = sessions::new_token()?;
    let hash = sessions::token_hash(&secret)
        .ok_or_else(|| AppError::Internal("a fresh setup secret did not decode".to_owned()))?;
    setup_store::replace_token(&mut *tx, &hash).await?;
    tx.commit().await?;
    Ok(Some(Zeroizing::new(format!(
        "{base}/setup#{}",
        secret.as_str()
    ))))
}

/// The sentence `cloister serve` prints at start while nobody owns this Cloister.
pub fn no_owner_message(link: &str) -> String {
    format!("No one owns this Cloister yet. Open this link to create the first admin: {link}")
}

async fn status(State(state): State<AppState>) -> AppResult<ApiJson<SetupStatus>> {
    let needed = setup_store::user_count(&state.db).await? == 0;
    Ok(ApiJson(SetupStatus { needed }))
}

fn invalid_link() -> AppError {
    AppError::NotFound(
        "This setup link is not valid: it was already used, replaced by a newer one, or copied \
         incompletely. Run `cloister setup-link` on the server for a new one."
            .to_owned(),
    )
}

fn already_owned() -> AppError {
    AppError::Conflict(ALREADY_OWNED.to_owned())
}

/// Checks what the server can check of a new library: the passphrase key's parameters are at
/// least the floor, and the admin's and the recovery key are different keys (public keys of small
/// order are refused when the body is read).
fn check_library(library: &CreateLibraryRequest) -> AppResult<()> {
    library
        .keys
        .kdf
        .salt()
        .map_err(|err| AppError::BadRequest(format!("keys.kdf: {err}")))?;
    library.keys.kdf.params.validate().map_err(|_| {
        AppError::BadRequest(format!(
            "The key-derivation parameters are out of range: memory must be {}..={} KiB, \
             iterations {}..={}, parallelism {}..={}.",
            KdfParams::MIN_M_COST_KIB,
            KdfParams::MAX_M_COST_KIB,
            KdfParams::MIN_T_COST,
            KdfParams::MAX_T_COST,
            KdfParams::MIN_P_COST,
            KdfParams::MAX_P_COST,
        ))
    })?;
    if library.keys.public_key == library.recovery.public_key {
        return Err(AppError::BadRequest(
            "The recovery key must be a different key from the admin's own.".to_owned(),
        ));
    }
    Ok(())
}

/// `POST /api/setup`: uses the link's secret up, and creates the first admin (signed in) and the
/// library in one transaction. A wrong secret spends a sign-in attempt of the caller's address.
async fn set_up(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    headers: HeaderMap,
    jar: CookieJar,
    ApiJson(body): ApiJson<SetupRequest>,
) -> AppResult<(StatusCode, CookieJar, ApiJson<LoginResponse>)> {
    let SetupRequest {
        secret,
        username,
        password,
        library,
    } = body;
    let secret = Zeroizing::new(secret);
    let password = Zeroizing::new(password);
    if setup_store::user_count(&state.db).await? > 0 {
        return Err(already_owned());
    }
    let username = users::valid_username(&username)?;
    users::valid_password(&password)?;
    check_library(&library)?;

    let attempt = state.login_limiter.begin(LIMITER_NAME, ip)?;
    if let Some(wait) = attempt.slow_down {
        tokio::time::sleep(wait).await;
    }
    // A secret we could not have made, or not the live one, spends the attempt.
    let Some(hash) = sessions::token_hash(&secret) else {
        return Err(invalid_link());
    };
    if !setup_store::token_is_live(&state.db, &hash).await? {
        return Err(invalid_link());
    }
    state.login_limiter.refund(attempt);
    let password_hash = passwords::hash(password).await?;
    let quota = i64::try_from(state.config.limits.default_quota_bytes).unwrap_or(i64::MAX);

    let mut tx = state.db.begin().await?;
    // Taken first: the write lock it holds makes a second request with the same secret wait, then
    // find it gone.
    if !setup_store::take_token(&mut tx, &hash).await? {
        return Err(invalid_link());
    }
    if setup_store::user_count(&mut *tx).await? > 0 {
        return Err(already_owned());
    }
    let user = users::insert(&mut *tx, &username, &password_hash, Role::Admin, quota).await?;
    setup_store::create_library(&mut tx, user.id, &library).await?;
    let session = sessions::create(&mut *tx, user.id, session_lifetime(&state)).await?;
    tx.commit().await?;

    tracing::info!(username = %user.username, "first admin and library created with the setup link");
    let jar = jar.add(session_cookie(&state, &headers, &session));
    Ok((
        StatusCode::CREATED,
        jar,
        ApiJson(LoginResponse {
            user: UserSummary {
                username: user.username,
                role: user.role,
            },
        }),
    ))
}
