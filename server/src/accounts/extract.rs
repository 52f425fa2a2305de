//! Who is asking: `CurrentUser` (any valid session, else 401), `CurrentSession` (the same, with
//! the session's token hash, for connections that must end with it) and `AdminUser` (else 403),
//! as extractors, so a handler cannot forget the check.

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum_extra::extract::CookieJar;
use cloister_shared::api::{Role, SESSION_COOKIE};

use super::sessions::{self, TokenHash};
use super::User;
use crate::error::AppError;
use crate::state::AppState;

#[derive(Debug, Clone)]
pub struct CurrentUser(pub User);

#[derive(Debug, Clone)]
pub struct AdminUser(pub User);

/// The signed-in user and which session it is.
#[derive(Debug, Clone)]
pub struct CurrentSession {
    pub user: User,
    pub token_hash: TokenHash,
}

impl FromRequestParts<AppState> for CurrentSession {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, AppError> {
        if let Some(session) = parts.extensions.get::<CurrentSession>() {
            return Ok(session.clone());
        }
        let jar = CookieJar::from_headers(&parts.headers);
        let token = jar.get(SESSION_COOKIE).ok_or(AppError::Unauthorized)?;
        let token_hash = sessions::token_hash(token.value()).ok_or(AppError::Unauthorized)?;
        let user = sessions::lookup(&state.db, token.value())
            .await?
            .ok_or(AppError::Unauthorized)?;
        let session = CurrentSession { user, token_hash };
        parts.extensions.insert(session.clone());
        Ok(session)
    }
}

impl FromRequestParts<AppState> for CurrentUser {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, AppError> {
        let session = CurrentSession::from_request_parts(parts, state).await?;
        Ok(CurrentUser(session.user))
    }
}

impl FromRequestParts<AppState> for AdminUser {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, AppError> {
        let CurrentUser(user) = CurrentUser::from_request_parts(parts, state).await?;
        if user.role == Role::Admin {
            Ok(Self(user))
        } else {
            Err(AppError::Forbidden("Only an admin can do that.".to_owned()))
        }
    }
}
