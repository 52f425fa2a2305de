//! A member's HTTP client for the real `cloister serve` on loopback (see `cli::serve_with`):
//! sign in, upload a sealed file, call the API; and the server process's memory readings.

use std::path::Path;

use reqwest::{Method, RequestBuilder, Response};
use serde_json::Value;

use super::cli::{cloister, gate_open_with, run, serve_with, set_up, PASSWORD};
use super::uploads::SealedFile;

/// `cloister serve` with the gate open on a fresh data directory, an admin "root" signed in.
pub struct Served {
    pub server: tokio::process::Child,
    pub data: tempfile::TempDir,
    pub base: String,
    pub pid: u32,
    pub root: Member,
}

impl Served {
    pub async fn start() -> Self {
        let data = tempfile::tempdir().expect("data dir");
        let (server, base) = serve_with(
            data.path(),
            0,
            &gate_open_with(&[
                ("CLOISTER_WORKERS", "0"),
                ("CLOISTER_DISK_RESERVE_BYTES", "0"),
            ]),
        )
        .await;
        set_up(data.path(), &base).await;
        let pid = server.id().expect("pid");
        let root = Member::sign_in(&base, "root", PASSWORD).await;
        Self {
            server,
            data,
            base,
            pid,
            root,
        }
    }
}

/// A figure in kB from `/proc/<pid>/status` (`VmRSS`, `VmHWM`), in bytes; 0 if unreadable.
pub fn proc_status_bytes(pid: u32, field: &str) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    status
        .lines()
        .find_map(|line| line.strip_prefix(field)?.strip_prefix(':'))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
        .map_or(0, |kib| kib * 1024)
}

/// Adds a member with `cloister user add`, as an admin does on the server.
pub async fn add_member(data: &Path, username: &str, password: &str) {
    let mut add = cloister();
    add.args(["user", "add", username, "--password-stdin"])
        .envs(super::cli::data_env(data));
    let r = run(add, &format!("{password}\n")).await;
    assert_eq!(r.code, 0, "{}", r.stderr);
}

/// A signed-in member: every request carries the session cookie and the CSRF header.
pub struct Member {
    pub http: reqwest::Client,
    pub base: String,
    /// `cloister_session=…`, for a `Cookie` header.
    pub cookie: String,
}

impl Member {
    pub async fn sign_in(base: &str, username: &str, password: &str) -> Self {
        let http = reqwest::Client::new();
        let response = http
            .post(format!("{base}/api/auth/login"))
            .header("x-cloister-request", "1")
            .json(&serde_json::json!({"username": username, "password": password}))
            .send()
            .await
            .expect("login");
        assert!(response.status().is_success(), "{}", response.status());
        let cookie = super::session_cookie(response.headers()).expect("a session cookie");
        Self {
            http,
            base: base.to_owned(),
            cookie,
        }
    }

    pub fn request(&self, method: Method, path: &str) -> RequestBuilder {
        self.http
            .request(method, format!("{}{path}", self.base))
            .header("cookie", &self.cookie)
            .header("x-cloister-request", "1")
    }

    /// Sends, and insists on a 2xx.
    pub async fn ok(&self, request: RequestBuilder) -> Response {
        let response = request.send().await.expect("request");
        assert!(
            response.status().is_success(),
            "{} {}",
            response.status(),
            response.text().await.unwrap_or_default()
        );
        response
    }

    pub async fn post(&self, path: &str, body: Value) -> Value {
        let request = self.request(Method::POST, path).json(&body);
        self.ok(request).await.json().await.expect("json")
    }

    /// Create, every chunk, complete: the video is `uploaded` and its original on disk.
    pub async fn upload(&self, file: &SealedFile) {
        self.post("/api/uploads", file.create_body()).await;
        for index in 0..file.chunk_count() {
            let path = format!("/api/uploads/{}/chunks/{index}", file.id);
            self.ok(self.request(Method::PUT, &path).body(file.chunk(index)))
                .await;
        }
        self.post(
            &format!("/api/uploads/{}/complete", file.id),
            serde_json::json!({"dek": file.dek_hex()}),
        )
        .await;
    }
}
