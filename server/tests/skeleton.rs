//! The server skeleton through its real router: health, errors as JSON, the rendered shell.

mod common;

use axum::http::StatusCode;
use common::{json, TestApp};

#[tokio::test]
async fn health_reports_ok_with_the_database() {
    let app = TestApp::spawn().await;
    let (status, _, body) = app.get("/api/health").await;
    assert_eq!(status, StatusCode::OK);
    let body = json(&body);
    assert_eq!(body["status"], "ok");
    assert_eq!(body["database"], "ok");
    assert_eq!(body["version"], env!("CARGO_PKG_VERSION"));
}

#[tokio::test]
async fn health_fails_cleanly_when_the_database_is_gone() {
    let app = TestApp::spawn().await;
    app.state.db.close().await;
    let (status, _, body) = app.get("/api/health").await;
    assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR);
    let body = json(&body);
    assert_eq!(body["error"]["code"], "internal");
    // The cause is logged, not leaked.
    let message = body["error"]["message"].as_str().expect("message");
    assert!(!message.to_lowercase().contains("pool"), "{message}");
    assert!(message.contains("server log"), "{message}");
}

#[tokio::test]
async fn an_unknown_api_path_is_a_json_404() {
    let app = TestApp::spawn().await;
    let (status, headers, body) = app.get("/api/no-such-thing").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(headers["content-type"], "application/json");
    assert_eq!(json(&body)["error"]["code"], "not_found");
}

#[tokio::test]
async fn the_home_page_is_rendered_on_the_server_with_hydration_scripts() {
    let app = TestApp::spawn().await;
    let (status, headers, body) = app.get("/").await;
    assert_eq!(status, StatusCode::OK);
    assert!(headers["content-type"]
        .to_str()
        .expect("ascii")
        .starts_with("text/html"));
    assert_eq!(headers["x-frame-options"], "DENY");
    assert_eq!(headers["x-content-type-options"], "nosniff");
    let html = String::from_utf8(body).expect("utf-8");
    // The server knows nobody is signed in and renders the welcome page, not a placeholder.
    assert!(html.contains("<title>Cloister</title>"), "{html}");
    assert!(html.contains("Private videos for your group"), "{html}");
    assert!(!html.contains("Loading…"), "{html}");
    assert!(
        html.contains("/pkg/cloister.js"),
        "hydration script missing: {html}"
    );
}

#[tokio::test]
async fn an_unknown_page_renders_the_not_found_page_with_404() {
    let app = TestApp::spawn().await;
    let (status, _, body) = app.get("/no/such/page").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert!(String::from_utf8(body)
        .expect("utf-8")
        .contains("Page not found"));
}
