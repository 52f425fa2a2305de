//! What stands in front of every API route: a session (401), the admin role (403), and the CSRF
//! guard on mutating requests (403).

mod common;

use axum::body::Body;
use axum::http::{header, Method, Request, StatusCode};
use cloister_shared::api::Role;
use common::{message, TestApp, PASSWORD};
use serde_json::json;

/// Every route that needs a session, with a body that would otherwise be acceptable.
fn protected_routes() -> Vec<(Method, &'static str, Option<serde_json::Value>)> {
    vec![
        (Method::GET, "/api/auth/me", None),
        (Method::GET, "/api/library", None),
        (Method::POST, "/api/library", Some(json!({}))),
        (Method::PUT, "/api/library/me", Some(json!({}))),
        (Method::PUT, "/api/library/me/passphrase", Some(json!({}))),
        (Method::POST, "/api/library/grants", Some(json!({}))),
        (Method::POST, "/api/library/recovery", Some(json!({}))),
        (Method::POST, "/api/library/recovery/challenge", None),
        (Method::POST, "/api/library/recovery/restore", Some(json!({}))),
        (Method::GET, "/api/admin/users", None),
        (
            Method::POST,
            "/api/admin/users",
            Some(json!({"username": "x", "password": "12345678"})),
        ),
        (Method::DELETE, "/api/admin/users/someone", None),
        (Method::POST, "/api/admin/invites", Some(json!({}))),
        (Method::GET, "/api/videos", None),
        (Method::GET, "/api/jobs?active=true", None),
        (Method::GET, "/api/jobs/1", None),
        (Method::POST, "/api/jobs/1/cancel", None),
        (Method::POST, "/api/jobs/1/run-anyway", None),
        (Method::GET, "/api/status/load", None),
        (Method::GET, "/api/events", None),
        (
            Method::GET,
            "/api/videos/00000000000000000000000000000000/comments",
            None,
        ),
        (
            Method::POST,
            "/api/videos/00000000000000000000000000000000/comments",
            Some(json!({})),
        ),
        (
            Method::DELETE,
            "/api/videos/00000000000000000000000000000000/comments/00000000000000000000000000000000",
            None,
        ),
    ]
}

/// Admin routes that answer a member with the general refusal (`POST /api/library/grants` says
/// "Only an admin can let someone in.", tested in member_keys.rs).
fn admin_routes() -> Vec<(Method, &'static str, Option<serde_json::Value>)> {
    protected_routes()
        .into_iter()
        .filter(|(method, path, _)| {
            path.starts_with("/api/admin/")
                || (path.starts_with("/api/library")
                    && method != Method::GET
                    && !path.starts_with("/api/library/me")
                    && *path != "/api/library/grants")
        })
        .collect()
}

#[tokio::test]
async fn every_protected_route_is_401_without_a_session() {
    let app = TestApp::spawn().await;
    for (method, path, body) in protected_routes() {
        let (status, _, answer) = app.call(method.clone(), path, None, body).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{method} {path}");
        assert_eq!(answer["error"]["code"], "unauthorized", "{method} {path}");
        assert_eq!(message(&answer), "Please sign in first.", "{method} {path}");
    }
}

#[tokio::test]
async fn health_and_login_need_no_session() {
    let app = TestApp::spawn().await;
    let (status, _, _) = app.call(Method::GET, "/api/health", None, None).await;
    assert_eq!(status, StatusCode::OK);
    let (status, _, _) = app
        .call(
            Method::POST,
            "/api/auth/login",
            None,
            Some(json!({"username": "a", "password": "12345678"})),
        )
        .await;
    assert_eq!(
        status,
        StatusCode::UNAUTHORIZED,
        "a wrong password, not a missing session"
    );
}

#[tokio::test]
async fn a_member_calling_an_admin_route_is_403() {
    let app = TestApp::spawn().await;
    let member = app.signed_in("bob", Role::Member).await;
    let routes = admin_routes();
    assert_eq!(routes.len(), 8);
    for (method, path, body) in routes {
        let (status, _, answer) = app.call(method.clone(), path, Some(&member), body).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{method} {path}");
        assert_eq!(
            message(&answer),
            "Only an admin can do that.",
            "{method} {path}"
        );
    }
    // Members may read the library's status: they need their keys and grant to unlock.
    let (status, _, _) = app
        .call(Method::GET, "/api/library", Some(&member), None)
        .await;
    assert_eq!(status, StatusCode::OK);
}

fn mutating(uri: &str, extra: &[(&str, &str)]) -> Request<Body> {
    let mut builder = Request::post(uri)
        .header("host", "localhost:3000")
        .header(header::CONTENT_TYPE, "application/json");
    for (name, value) in extra {
        builder = builder.header(*name, *value);
    }
    builder
        .body(Body::from(
            json!({"username": "alice", "password": PASSWORD}).to_string(),
        ))
        .expect("request")
}

#[tokio::test]
async fn a_mutating_request_without_the_cloister_header_is_403() {
    let app = TestApp::spawn().await;
    app.add_user("alice", Role::Admin).await;
    for extra in [vec![], vec![("x-cloister-request", "0")]] {
        let (status, headers, body) = app.send(mutating("/api/auth/login", &extra)).await;
        assert_eq!(status, StatusCode::FORBIDDEN);
        assert!(common::session_cookie(&headers).is_none());
        let body = common::json(&body);
        assert!(message(&body).contains("X-Cloister-Request"), "{body}");
    }
    // Reads need no header.
    let (status, _, _) = app.get("/api/health").await;
    assert_eq!(status, StatusCode::OK);
}

#[tokio::test]
async fn a_request_from_another_origin_is_403_even_with_the_header() {
    let app = TestApp::spawn().await;
    app.add_user("alice", Role::Admin).await;
    let marked = ("x-cloister-request", "1");
    for origin in ["https://evil.example", "http://localhost:3001", "null"] {
        let (status, _, body) = app
            .send(mutating("/api/auth/login", &[marked, ("origin", origin)]))
            .await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{origin}");
        let body = common::json(&body);
        assert!(message(&body).contains("another website"), "{body}");
    }
    // Our own origin passes.
    let (status, _, _) = app
        .send(mutating(
            "/api/auth/login",
            &[marked, ("origin", "http://localhost:3000")],
        ))
        .await;
    assert_eq!(status, StatusCode::OK);
}

#[tokio::test]
async fn the_configured_public_url_is_an_accepted_origin() {
    let app =
        TestApp::spawn_with(|c| c.accounts.public_url = Some("https://videos.example.org/".into()))
            .await;
    app.add_user("alice", Role::Admin).await;
    let marked = ("x-cloister-request", "1");
    let (status, _, _) = app
        .send(mutating(
            "/api/auth/login",
            &[marked, ("origin", "https://videos.example.org")],
        ))
        .await;
    assert_eq!(status, StatusCode::OK);
}

#[tokio::test]
async fn an_https_origin_is_refused_by_a_plain_http_server_of_the_same_host() {
    let marked = ("x-cloister-request", "1");
    let app = TestApp::spawn().await;
    app.add_user("alice", Role::Admin).await;
    let (status, _, body) = app
        .send(mutating(
            "/api/auth/login",
            &[marked, ("origin", "https://localhost:3000")],
        ))
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert!(message(&common::json(&body)).contains("another website"));
    // Behind a trusted TLS proxy, https is our scheme and plain http is not.
    let proxied = TestApp::spawn_with(|c| c.accounts.trust_proxy = true).await;
    proxied.add_user("alice", Role::Admin).await;
    let https = ("x-forwarded-proto", "https");
    let (status, _, _) = proxied
        .send(mutating(
            "/api/auth/login",
            &[marked, https, ("origin", "https://localhost:3000")],
        ))
        .await;
    assert_eq!(status, StatusCode::OK);
    let (status, _, _) = proxied
        .send(mutating(
            "/api/auth/login",
            &[marked, https, ("origin", "http://localhost:3000")],
        ))
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
}

fn csp(headers: &axum::http::HeaderMap) -> String {
    headers
        .get(header::CONTENT_SECURITY_POLICY)
        .expect("a Content-Security-Policy")
        .to_str()
        .expect("ascii")
        .to_owned()
}

/// Pages allow our scripts, WebAssembly, blob: media and images and the WebSocket, and inline
/// scripts only with this response's nonce, which every inline script Leptos wrote carries.
#[tokio::test]
async fn pages_carry_a_content_security_policy_whose_nonce_is_on_every_script() {
    let app = TestApp::spawn().await;
    let mut nonces = Vec::new();
    for path in ["/", "/login", "/no-such-page"] {
        let request = Request::get(path)
            .header("host", "localhost:3000")
            .body(Body::empty())
            .expect("request");
        let (_, headers, body) = app.send(request).await;
        let policy = csp(&headers);
        for directive in [
            "default-src 'none'",
            "'wasm-unsafe-eval'",
            "img-src 'self' blob:",
            "media-src 'self' blob:",
            "connect-src 'self' ws://localhost:3000",
            "frame-ancestors 'none'",
        ] {
            assert!(
                policy.contains(directive),
                "{path}: {directive} in {policy}"
            );
        }
        assert!(
            !policy.contains("'unsafe-eval'") && !policy.contains("script-src 'unsafe-inline'")
        );
        let nonce = policy
            .split("'nonce-")
            .nth(1)
            .and_then(|rest| rest.split('\'').next())
            .expect("a nonce")
            .to_owned();
        let html = String::from_utf8(body).expect("utf-8");
        let scripts: Vec<_> = html.match_indices("<script").collect();
        assert!(!scripts.is_empty(), "{path}: no hydration script");
        for (at, _) in scripts {
            let tag = &html[at..at + html[at..].find('>').expect("tag end")];
            assert!(tag.contains(&format!("nonce=\"{nonce}\"")), "{path}: {tag}");
        }
        nonces.push(nonce);
    }
    nonces.sort();
    nonces.dedup();
    assert_eq!(nonces.len(), 3, "a nonce was used twice");
    // API answers allow nothing at all.
    let (_, headers, _) = app.get("/api/health").await;
    assert_eq!(
        csp(&headers),
        cloister::http::security_headers::NON_PAGE_POLICY
    );
}
