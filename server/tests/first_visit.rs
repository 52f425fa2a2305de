//! The first visit's bytes: built files served pre-compressed by Accept-Encoding and cached by
//! their hashed names, pages revalidated and rendered for the visitor's session, and large JSON
//! compressed while media never is (docs/decisions.md, "The first visit").

mod common;

use std::io::Read;

use axum::body::Body;
use axum::http::{header, HeaderMap, Request, StatusCode};
use axum::routing::get;
use axum::Router;
use cloister_shared::api::Role;
use common::TestApp;
use tower::ServiceExt;

const HASHED_WASM: &str = "/pkg/cloister.AbCdEfGhIjKlMnOpQrSt_-.wasm";

/// A built site as cargo-leptos leaves it (hashed bundle, plain favicon), compressed by
/// `cloister compress-site`, served by a test app.
async fn app_with_site() -> (TestApp, tempfile::TempDir, Vec<u8>) {
    let site = tempfile::tempdir().expect("site dir");
    std::fs::create_dir_all(site.path().join("pkg")).expect("pkg dir");
    // Repetitive like real code, so Brotli and gzip both shrink it.
    let wasm: Vec<u8> = (0..64 * 1024).map(|i| (i % 251) as u8 / 8).collect();
    std::fs::write(site.path().join(&HASHED_WASM[1..]), &wasm).expect("write wasm");
    std::fs::write(site.path().join("favicon.png"), b"\x89PNG not really").expect("favicon");
    let summary = cloister::http::precompress::compress_site(site.path()).expect("compress");
    assert_eq!(summary.files, 1, "only the wasm is compressible");
    let root = site.path().to_path_buf();
    let app = TestApp::spawn_with(|config| config.site_root = root).await;
    (app, site, wasm)
}

async fn get_with(
    app: &TestApp,
    uri: &str,
    headers: &[(&str, &str)],
) -> (StatusCode, HeaderMap, Vec<u8>) {
    let mut request = Request::get(uri).header("host", "localhost:3000");
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    app.send(request.body(Body::empty()).expect("request"))
        .await
}

fn header_str(headers: &HeaderMap, name: header::HeaderName) -> &str {
    headers
        .get(name)
        .and_then(|value| value.to_str().ok())
        .unwrap_or("")
}

fn brotli_decode(bytes: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    brotli::Decompressor::new(bytes, 4096)
        .read_to_end(&mut out)
        .expect("valid brotli");
    out
}

fn gzip_decode(bytes: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    flate2::read::GzDecoder::new(bytes)
        .read_to_end(&mut out)
        .expect("valid gzip");
    out
}

#[tokio::test]
async fn built_files_come_in_the_encoding_the_browser_accepts() {
    let (app, _site, wasm) = app_with_site().await;

    let (status, headers, body) = get_with(
        &app,
        HASHED_WASM,
        &[("accept-encoding", "gzip, deflate, br")],
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(header_str(&headers, header::CONTENT_ENCODING), "br");
    assert_eq!(
        header_str(&headers, header::CONTENT_TYPE),
        "application/wasm"
    );
    assert!(
        body.len() < wasm.len() / 2,
        "Brotli copy is {} bytes",
        body.len()
    );
    assert_eq!(brotli_decode(&body), wasm);

    let (status, headers, body) = get_with(&app, HASHED_WASM, &[("accept-encoding", "gzip")]).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(header_str(&headers, header::CONTENT_ENCODING), "gzip");
    assert_eq!(gzip_decode(&body), wasm);

    let (status, headers, body) = get_with(&app, HASHED_WASM, &[]).await;
    assert_eq!(status, StatusCode::OK);
    assert!(headers.get(header::CONTENT_ENCODING).is_none());
    assert_eq!(body, wasm);

    for encoding in ["br", "gzip", "identity"] {
        let (_, headers, _) = get_with(&app, HASHED_WASM, &[("accept-encoding", encoding)]).await;
        assert!(
            header_str(&headers, header::VARY).contains("accept-encoding"),
            "Vary for {encoding}: {headers:?}"
        );
    }
}

#[tokio::test]
async fn hashed_names_are_cached_for_a_year_and_the_rest_revalidated() {
    let (app, _site, _) = app_with_site().await;

    let (status, headers, _) = get_with(&app, HASHED_WASM, &[("accept-encoding", "br")]).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        header_str(&headers, header::CACHE_CONTROL),
        "public, max-age=31536000, immutable"
    );

    let (status, headers, _) = get_with(&app, "/favicon.png", &[("accept-encoding", "br")]).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(header_str(&headers, header::CACHE_CONTROL), "no-cache");
    assert!(
        headers.get(header::CONTENT_ENCODING).is_none(),
        "a PNG has no compressed copy"
    );

    let (status, headers, body) = get_with(&app, "/login", &[]).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(header_str(&headers, header::CACHE_CONTROL), "no-cache");
    assert!(header_str(&headers, header::CONTENT_TYPE).starts_with("text/html"));
    assert!(String::from_utf8_lossy(&body).contains("Sign in"));

    // A missing file is the app's "Page not found" page, not a stale cached copy.
    let (status, headers, body) = get_with(&app, "/pkg/nothing.wasm", &[]).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(header_str(&headers, header::CACHE_CONTROL), "no-cache");
    assert!(String::from_utf8_lossy(&body).contains("Page not found"));
}

#[test]
fn only_content_hashes_count_as_hashed_names() {
    use cloister::http::static_files::is_hashed_name;
    assert!(is_hashed_name("/pkg/cloister.AbCdEfGhIjKlMnOpQrSt_-.wasm"));
    assert!(is_hashed_name(
        "/pkg/cloister.AbCdEfGhIjKlMnOpQrSt_-.wasm.br"
    ));
    assert!(!is_hashed_name("/pkg/cloister.wasm"));
    assert!(!is_hashed_name("/favicon.png"));
    assert!(!is_hashed_name("/sw.js"));
    assert!(!is_hashed_name("/manifest.webmanifest"));
    assert!(!is_hashed_name("/pkg/cloister.short.js"));
}

#[tokio::test]
async fn pages_are_rendered_for_the_session_in_the_cookie() {
    let app = TestApp::spawn().await;
    let cookie = app.signed_in("ada", Role::Admin).await;

    let (status, _, body) = get_with(&app, "/", &[]).await;
    assert_eq!(status, StatusCode::OK);
    let page = String::from_utf8_lossy(&body);
    assert!(
        page.contains("Sign in"),
        "a visitor sees the welcome: {page}"
    );
    assert!(!page.contains("Loading…"));
    assert!(
        page.contains(r#"content="{&quot;user&quot;:null}""#),
        "{page}"
    );
    assert!(!page.contains("ada"));

    let (status, _, body) = get_with(&app, "/", &[("cookie", &cookie)]).await;
    assert_eq!(status, StatusCode::OK);
    let page = String::from_utf8_lossy(&body);
    assert!(
        page.contains("&quot;username&quot;:&quot;ada&quot;"),
        "{page}"
    );
    assert!(
        !page.contains(">Loading…<"),
        "the signed-in frame, not a placeholder: {page}"
    );

    // A session that is no longer valid renders the visitor's page.
    let (_, _, body) = get_with(&app, "/", &[("cookie", "cloister_session=forged")]).await;
    let page = String::from_utf8_lossy(&body);
    assert!(!page.contains("ada"));
    assert!(page.contains(r#"content="{&quot;user&quot;:null}""#));
}

#[tokio::test]
async fn large_json_is_compressed_and_small_json_is_not() {
    let app = TestApp::spawn().await;
    let cookie = app.signed_in("ada", Role::Admin).await;

    let (status, headers, _) = get_with(
        &app,
        "/api/auth/me",
        &[("cookie", &cookie), ("accept-encoding", "br, gzip")],
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        headers.get(header::CONTENT_ENCODING).is_none(),
        "a small answer: {headers:?}"
    );

    for i in 0..40 {
        app.add_user(&format!("member-number-{i:02}"), Role::Member)
            .await;
    }
    let (status, headers, body) = get_with(
        &app,
        "/api/admin/users",
        &[("cookie", &cookie), ("accept-encoding", "br, gzip")],
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(header_str(&headers, header::CONTENT_ENCODING), "br");
    assert!(header_str(&headers, header::VARY).contains("accept-encoding"));
    let json = brotli_decode(&body);
    assert!(json.len() >= 1024, "the list is {} bytes", json.len());
    let list: serde_json::Value = serde_json::from_slice(&json).expect("JSON");
    assert!(list.to_string().contains("member-number-39"));
}

/// The layer the API sits behind, around answers of the kinds it must leave alone.
#[tokio::test]
async fn media_and_event_streams_are_never_compressed() {
    let big = "0123456789abcdef".repeat(1024);
    let router = Router::new()
        .route(
            "/media",
            get({
                let big = big.clone();
                move || async move { ([(header::CONTENT_TYPE, "application/octet-stream")], big) }
            }),
        )
        .route(
            "/stream",
            get({
                let big = big.clone();
                move || async move { ([(header::CONTENT_TYPE, "text/event-stream")], big) }
            }),
        )
        .route(
            "/json",
            get(move || async move { ([(header::CONTENT_TYPE, "application/json")], big) }),
        )
        .layer(cloister::http::compression::json_layer());
    for (path, compressed) in [("/media", false), ("/stream", false), ("/json", true)] {
        let response = router
            .clone()
            .oneshot(
                Request::get(path)
                    .header("accept-encoding", "br, gzip")
                    .body(Body::empty())
                    .expect("request"),
            )
            .await
            .expect("infallible");
        assert_eq!(
            response.headers().get(header::CONTENT_ENCODING).is_some(),
            compressed,
            "{path}"
        );
    }
}

#[tokio::test]
async fn a_sign_in_form_posted_before_hydration_comes_back_to_the_page() {
    let app = TestApp::spawn().await;
    let request = Request::post("/login?next=%2Fupload")
        .header("host", "localhost:3000")
        .header("content-type", "application/x-www-form-urlencoded")
        .body(Body::from("username=ada&password=secret"))
        .expect("request");
    let (status, headers, _) = app.send(request).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert_eq!(
        header_str(&headers, header::LOCATION),
        "/login?next=%2Fupload"
    );
    // The page itself still answers GET.
    let (status, _, body) = get_with(&app, "/login", &[]).await;
    assert_eq!(status, StatusCode::OK);
    assert!(String::from_utf8_lossy(&body).contains("Sign in"));
}
