//! `/api/auth/*`, `/api/admin/users*`, `/api/admin/invites` and `/api/invites/accept`.

use std::time::Duration;

use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::routing::{delete, get, post};
use axum::Router;
use axum_extra::extract::cookie::{Cookie, SameSite};
use axum_extra::extract::CookieJar;
use cloister_shared::api::users::{PASSWORD_MAX_CHARS, PASSWORD_RULE};
use cloister_shared::api::{
    AcceptInviteRequest, CreateInviteRequest, CreateUserRequest, InviteCreated, LoginRequest,
    LoginResponse, Me, Role, SessionStatus, UserInfo, UserList, UserSummary, SESSION_COOKIE,
};
use zeroize::Zeroizing;

use super::sessions::{self, NewSession};
use super::{invites, unix_now, users, AdminUser, CurrentUser, User};
use crate::error::{AppError, AppResult};
use crate::http::json::ApiJson;
use crate::http::request_info::{served_over_https, ClientIp};
use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/auth/login", post(login))
        .route("/api/auth/logout", post(logout))
        .route("/api/auth/me", get(me))
        .route("/api/auth/session", get(session_status))
        .route("/api/admin/users", get(list_users).post(create_user))
        .route("/api/admin/users/{username}", delete(remove_user))
        .route("/api/admin/invites", post(create_invite))
        .route("/api/invites/accept", post(accept_invite))
}

fn session_lifetime(state: &AppState) -> Duration {
    Duration::from_secs(u64::from(state.config.accounts.session_days) * 24 * 3600)
}

/// HttpOnly (no script can read it), SameSite=Strict (never sent on a cross-site request),
/// Secure when the browser reaches us over HTTPS.
fn session_cookie(state: &AppState, headers: &HeaderMap, session: &NewSession) -> Cookie<'static> {
    let max_age = session.expires_at.saturating_sub(unix_now()).max(0);
    Cookie::build((SESSION_COOKIE, session.token.as_str().to_owned()))
        .http_only(true)
        .same_site(SameSite::Strict)
        .path("/")
        .max_age(time::Duration::seconds(max_age))
        .secure(served_over_https(headers, &state.config.accounts))
        .build()
}

fn summary(user: &User) -> LoginResponse {
    LoginResponse {
        user: UserSummary {
            username: user.username.clone(),
            role: user.role,
        },
    }
}

async fn login(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    headers: HeaderMap,
    jar: CookieJar,
    ApiJson(body): ApiJson<LoginRequest>,
) -> AppResult<(CookieJar, ApiJson<LoginResponse>)> {
    let password = Zeroizing::new(body.password);
    // Malformed input is answered before it costs an attempt or a hash.
    let username = users::valid_username(&body.username)?;
    if password.chars().take(PASSWORD_MAX_CHARS + 1).count() > PASSWORD_MAX_CHARS {
        return Err(AppError::BadRequest(PASSWORD_RULE.to_owned()));
    }
    // Charged before the hash, so parallel guesses get no more checks than the allowance.
    let attempt = state.login_limiter.begin(&username, ip)?;
    if let Some(wait) = attempt.slow_down {
        tokio::time::sleep(wait).await;
    }
    let user = match users::authenticate(&state.db, &username, password).await {
        Ok(user) => user,
        // Only a wrong password spends the attempt.
        Err(err @ AppError::WrongCredentials) => return Err(err),
        Err(other) => {
            state.login_limiter.refund(attempt);
            return Err(other);
        }
    };
    state.login_limiter.refund(attempt);
    let session = sessions::create(&state.db, user.id, session_lifetime(&state)).await?;
    tracing::info!(username = %user.username, "signed in");
    let jar = jar.add(session_cookie(&state, &headers, &session));
    Ok((jar, ApiJson(summary(&user))))
}

/// Always succeeds, even without a valid session: signing out must work when the session has
/// already expired.
async fn logout(
    State(state): State<AppState>,
    headers: HeaderMap,
    jar: CookieJar,
) -> AppResult<(CookieJar, StatusCode)> {
    if let Some(cookie) = jar.get(SESSION_COOKIE) {
        sessions::delete(&state.db, cookie.value()).await?;
        state.live_sessions.recheck();
    }
    let removal = Cookie::build((SESSION_COOKIE, ""))
        .http_only(true)
        .same_site(SameSite::Strict)
        .path("/")
        .secure(served_over_https(&headers, &state.config.accounts));
    Ok((jar.remove(removal), StatusCode::NO_CONTENT))
}

async fn me(CurrentUser(user): CurrentUser) -> ApiJson<Me> {
    ApiJson(me_of(user))
}

fn me_of(user: User) -> Me {
    Me {
        username: user.username,
        role: user.role,
        quota_bytes: user.quota_bytes,
    }
}

/// Whether anyone is signed in, without a 401 for visitors: the app asks this on every page load,
/// and a signed-out visitor is not an error. Says nothing a visitor does not already know.
async fn session_status(user: Result<CurrentUser, AppError>) -> AppResult<ApiJson<SessionStatus>> {
    match user {
        Ok(CurrentUser(user)) => Ok(ApiJson(SessionStatus {
            user: Some(me_of(user)),
        })),
        Err(AppError::Unauthorized) => Ok(ApiJson(SessionStatus { user: None })),
        Err(other) => Err(other),
    }
}

async fn list_users(
    State(state): State<AppState>,
    AdminUser(_): AdminUser,
) -> AppResult<ApiJson<UserList>> {
    let users = users::list(&state.db).await?;
    Ok(ApiJson(UserList {
        users: users.iter().map(User::info).collect(),
    }))
}

async fn create_user(
    State(state): State<AppState>,
    AdminUser(admin): AdminUser,
    ApiJson(body): ApiJson<CreateUserRequest>,
) -> AppResult<(StatusCode, ApiJson<UserInfo>)> {
    let user = users::create(
        &state.db,
        &body.username,
        Zeroizing::new(body.password),
        body.role.unwrap_or(Role::Member),
        body.quota_bytes
            .unwrap_or(state.config.limits.default_quota_bytes),
    )
    .await?;
    tracing::info!(by = %admin.username, username = %user.username, role = %user.role, "user created");
    Ok((StatusCode::CREATED, ApiJson(user.info())))
}

/// `?videos=move&to=<member>` or `?videos=trash` says where a member's videos go
/// (docs/api.md, "Trash").
async fn remove_user(
    State(state): State<AppState>,
    AdminUser(admin): AdminUser,
    Path(username): Path<String>,
    query: Result<
        axum::extract::Query<cloister_shared::api::trash::RemoveUserQuery>,
        axum::extract::rejection::QueryRejection,
    >,
) -> AppResult<StatusCode> {
    let axum::extract::Query(query) = query.map_err(|_| {
        AppError::BadRequest("videos must be `move` (with `to`) or `trash`.".to_owned())
    })?;
    super::removal::remove_member(&state, &admin, &username, query.videos, query.to.as_deref())
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn create_invite(
    State(state): State<AppState>,
    AdminUser(admin): AdminUser,
    ApiJson(body): ApiJson<CreateInviteRequest>,
) -> AppResult<(StatusCode, ApiJson<InviteCreated>)> {
    let invite = invites::create(&state.db, &admin, body.role.unwrap_or(Role::Member)).await?;
    tracing::info!(by = %admin.username, "invite created");
    Ok((
        StatusCode::CREATED,
        ApiJson(InviteCreated {
            url_path: format!("/invite#{}", invite.token.as_str()),
            token: invite.token.as_str().to_owned(),
            expires_at: invite.expires_at,
        }),
    ))
}

/// Refused while the browser is signed in: the new account's session would silently replace the
/// other member's, and their open pages would act as the new one.
async fn accept_invite(
    State(state): State<AppState>,
    signed_in: Result<CurrentUser, AppError>,
    headers: HeaderMap,
    jar: CookieJar,
    ApiJson(body): ApiJson<AcceptInviteRequest>,
) -> AppResult<(CookieJar, ApiJson<LoginResponse>)> {
    match signed_in {
        Ok(CurrentUser(other)) => {
            return Err(AppError::Conflict(format!(
                "You are signed in as {}. Sign out first, or open the invite in a private window.",
                other.username
            )))
        }
        Err(AppError::Unauthorized) => {}
        Err(other) => return Err(other),
    }
    let (user, session) = invites::accept(
        &state.db,
        &body.token,
        &body.username,
        Zeroizing::new(body.password),
        body.keys.as_ref(),
        state.config.limits.default_quota_bytes,
        session_lifetime(&state),
    )
    .await?;
    tracing::info!(username = %user.username, role = %user.role, keys = body.keys.is_some(), "invite accepted");
    if body.keys.is_some() {
        crate::library::members::tell_admins_waiting(&state, &user.username).await;
    }
    let jar = jar.add(session_cookie(&state, &headers, &session));
    Ok((jar, ApiJson(summary(&user))))
}
