//! Who is signed in, known before a page is rendered: the server renders the page that person
//! will see (the sign-in form, or their header and library) instead of a placeholder, and the
//! browser starts hydrating from the same answer (docs/decisions.md, "The first visit").

use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::Response;
use axum_extra::extract::CookieJar;
use cloister_app::session::ServerSession;
use cloister_shared::api::{Me, SESSION_COOKIE};

use crate::accounts::sessions;
use crate::state::AppState;

/// Middleware on the page routes: looks the session cookie up and leaves the answer in the
/// request's extensions, where the app finds it while rendering.
pub async fn attach(State(state): State<AppState>, request: Request, next: Next) -> Response {
    next.run(with_session(&state, request).await).await
}

/// The request with a `ServerSession` in its extensions: the signed-in user, or none. A cookie
/// that is missing, unknown, expired or unreadable — or a database error — renders the signed-out
/// page; the browser asks again once it runs.
pub async fn with_session(state: &AppState, mut request: Request) -> Request {
    let jar = CookieJar::from_headers(request.headers());
    let user = match jar.get(SESSION_COOKIE) {
        Some(cookie) => match sessions::lookup(&state.db, cookie.value()).await {
            Ok(user) => user,
            Err(err) => {
                tracing::warn!(error = %err, "cannot look the session up for a page");
                None
            }
        },
        None => None,
    };
    let user = user.map(|user| Me {
        username: user.username,
        role: user.role,
        quota_bytes: user.quota_bytes,
    });
    request.extensions_mut().insert(ServerSession { user });
    request
}
