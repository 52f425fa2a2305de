//! A test app: the real router over a real SQLite file in a temp directory, driven in process.

use axum::body::Body;
use axum::http::{Request, StatusCode};
use axum::Router;
use cloister::config::Config;
use cloister::AppState;
use http_body_util::BodyExt;
use tower::ServiceExt;

pub struct TestApp {
    pub router: Router,
    pub state: AppState,
    // Dropped last: removes the data directory.
    _dir: tempfile::TempDir,
}

impl TestApp {
    pub async fn spawn() -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        let state = AppState::open(Config::with_data_dir(dir.path()))
            .await
            .expect("open state");
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

pub fn json(body: &[u8]) -> serde_json::Value {
    serde_json::from_slice(body)
        .unwrap_or_else(|err| panic!("not JSON ({err}): {}", String::from_utf8_lossy(body)))
}
