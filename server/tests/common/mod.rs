//! A test app: the real router over a real SQLite file in a temp directory, driven in process.

#![allow(dead_code)] // Each test binary uses a different part of this helper.

pub mod cli;
pub mod database;
pub mod processing;
pub mod served;
pub mod uploads;

use axum::body::Body;
use axum::http::{header, HeaderMap, Method, Request, StatusCode};
use axum::Router;
use cloister::config::Config;
use cloister::AppState;
use cloister_shared::api::Role;
use http_body_util::BodyExt;
use serde_json::Value;
use tower::ServiceExt;
use zeroize::Zeroizing;

/// A password that passes the rules, for accounts made in tests.
pub const PASSWORD: &str = "correct horse battery";

pub struct TestApp {
    pub router: Router,
    pub state: AppState,
    // Dropped last: removes the data directory.
    _dir: tempfile::TempDir,
}

impl TestApp {
    pub async fn spawn() -> Self {
        Self::spawn_with(|_| {}).await
    }

    /// A test app whose configuration `adjust` may change first (e.g. `public_url`).
    pub async fn spawn_with(adjust: impl FnOnce(&mut Config)) -> Self {
        Self::spawn_with_state(adjust, |_| {}).await
    }

    /// Like `spawn_with`, and `adjust_state` may then replace parts of the state (e.g. the
    /// free-disk reading) before the router is built.
    pub async fn spawn_with_state(
        adjust: impl FnOnce(&mut Config),
        adjust_state: impl FnOnce(&mut AppState),
    ) -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        let mut config = Config::with_data_dir(dir.path());
        config.database_url = database::url_for(dir.path());
        adjust(&mut config);
        let mut state = AppState::open(config).await.expect("open state");
        adjust_state(&mut state);
        let router = cloister::router(state.clone());
        Self {
            router,
            state,
            _dir: dir,
        }
    }

    /// A test app on an existing data directory `dir` (e.g. a copy of a fixture): the server
    /// opens it as `cloister serve` would, running any new migrations.
    pub async fn spawn_on(dir: tempfile::TempDir) -> Self {
        let mut config = Config::with_data_dir(dir.path());
        config.database_url = database::url_for(dir.path());
        let state = AppState::open(config).await.expect("open state");
        let router = cloister::router(state.clone());
        Self {
            router,
            state,
            _dir: dir,
        }
    }

    pub async fn send(
        &self,
        request: Request<Body>,
    ) -> (StatusCode, axum::http::HeaderMap, Vec<u8>) {
        let response = self
            .router
            .clone()
            .oneshot(request)
            .await
            .expect("infallible");
        let status = response.status();
        let headers = response.headers().clone();
        let body = response
            .into_body()
            .collect()
            .await
            .expect("body")
            .to_bytes()
            .to_vec();
        (status, headers, body)
    }

    pub async fn get(&self, uri: &str) -> (StatusCode, axum::http::HeaderMap, Vec<u8>) {
        self.send(Request::get(uri).body(Body::empty()).expect("request"))
            .await
    }
}

impl TestApp {
    /// Serves the router on 127.0.0.1 through `cloister serve`'s accept loop with the
    /// event hub running, for real sockets and real clients; answers the address.
    pub async fn serve_on_loopback(&self) -> std::net::SocketAddr {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let addr = listener.local_addr().expect("addr");
        self.state.events.spawn_tail(self.state.db.clone());
        let router = self.router.clone();
        let http = self.state.config.http.clone();
        tokio::spawn(async move {
            cloister::http::serve::serve(listener, router, &http, std::future::pending()).await;
        });
        addr
    }

    pub fn data_dir(&self) -> &std::path::Path {
        self._dir.path()
    }

    /// Adds an account through the accounts domain, as `cloister user add` does.
    pub async fn add_user(&self, username: &str, role: Role) {
        cloister::accounts::users::create(
            &self.state.db,
            username,
            Zeroizing::new(PASSWORD.to_owned()),
            role,
            1 << 30,
        )
        .await
        .expect("create user");
    }

    /// Signs in and returns the `Cookie` header value that carries the session.
    pub async fn login(&self, username: &str, password: &str) -> String {
        let (status, headers, body) = self
            .call(
                Method::POST,
                "/api/auth/login",
                None,
                Some(serde_json::json!({"username": username, "password": password})),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "login failed: {body}");
        session_cookie(&headers).expect("a session cookie")
    }

    /// An account of `role` named `username`, signed in.
    pub async fn signed_in(&self, username: &str, role: Role) -> String {
        self.add_user(username, role).await;
        self.login(username, PASSWORD).await
    }

    /// A request as Cloister's own client sends it: the CSRF header, JSON, and the session cookie
    /// if given. Answers status, headers and the body as JSON (`Null` when empty).
    pub async fn call(
        &self,
        method: Method,
        uri: &str,
        cookie: Option<&str>,
        body: Option<Value>,
    ) -> (StatusCode, HeaderMap, Value) {
        let mut builder = Request::builder()
            .method(method)
            .uri(uri)
            .header("host", "localhost:3000")
            .header("x-cloister-request", "1");
        if let Some(cookie) = cookie {
            builder = builder.header(header::COOKIE, cookie);
        }
        let request = match body {
            Some(body) => builder
                .header(header::CONTENT_TYPE, "application/json")
                .body(Body::from(body.to_string())),
            None => builder.body(Body::empty()),
        }
        .expect("request");
        let (status, headers, bytes) = self.send(request).await;
        let value = if bytes.is_empty() {
            Value::Null
        } else {
            json(&bytes)
        };
        (status, headers, value)
    }
}

/// `cloister_session=...` from a response's Set-Cookie, ready for a Cookie header.
pub fn session_cookie(headers: &HeaderMap) -> Option<String> {
    headers
        .get_all(header::SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with("cloister_session="))
        .and_then(|v| v.split(';').next())
        .map(str::to_owned)
}

/// The error message of an API error body.
pub fn message(body: &Value) -> &str {
    body["error"]["message"].as_str().unwrap_or_default()
}

pub fn json(body: &[u8]) -> serde_json::Value {
    serde_json::from_slice(body)
        .unwrap_or_else(|err| panic!("not JSON ({err}): {}", String::from_utf8_lossy(body)))
}

/// Recorded events of `job` whose fields match every `(name, value)` of `fields` (the event
/// log's JSON read here, so the query is the same on SQLite and PostgreSQL).
pub async fn count_events(db: &cloister::db::Db, job: i64, fields: &[(&str, &str)]) -> i64 {
    let payloads: Vec<String> = sqlx::query_scalar("SELECT payload FROM job_events ORDER BY seq")
        .fetch_all(db)
        .await
        .expect("events");
    payloads
        .iter()
        .filter_map(|p| serde_json::from_str::<serde_json::Value>(p).ok())
        .filter(|e| e["job_id"] == job && fields.iter().all(|(k, v)| e[*k] == *v))
        .count() as i64
}
