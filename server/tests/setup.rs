//! The first run (docs/accounts.md, "First run"): the setup link printed by `cloister serve` and
//! `cloister setup-link`, `GET`/`POST /api/setup`, and everything a wrong, used or late request
//! gets.

mod common;

use std::io::Read;

use axum::http::{Method, StatusCode};
use cloister_shared::api::keys::{CreateLibraryRequest, MemberKeys};
use cloister_shared::api::library::KdfInfo;
use cloister_shared::api::Role;
use cloister_shared::crypto::member::{open_library_key, MemberPublicKey, SealedLibraryKey};
use cloister_shared::crypto::recovery::RecoveryKey;
use cloister_shared::{keyring, KdfParams, WrappedKey};
use common::cli::{cloister, run, serve_logging_to};
use common::{message, session_cookie, TestApp, PASSWORD};
use serde_json::{json, Value};

const PASSPHRASE: &str = "my own long passphrase";

/// The secret of a link `…/setup#<secret>`.
fn secret_of(link: &str) -> String {
    link.split_once("/setup#")
        .expect("a setup link")
        .1
        .to_owned()
}

async fn new_secret(app: &TestApp) -> String {
    let link = cloister::accounts::setup::new_link(&app.state.db, "http://localhost:3000")
        .await
        .expect("new link")
        .expect("nobody owns it yet");
    assert!(link.starts_with("http://localhost:3000/setup#"), "{link:?}");
    secret_of(&link)
}

fn new_library() -> (CreateLibraryRequest, keyring::Unlocked, RecoveryKey) {
    keyring::new_library(PASSPHRASE).expect("new library")
}

fn setup_body(secret: &str, username: &str, library: &CreateLibraryRequest) -> Value {
    json!({
        "secret": secret,
        "username": username,
        "password": PASSWORD,
        "library": library,
    })
}

async fn post_setup(app: &TestApp, body: Value) -> (StatusCode, axum::http::HeaderMap, Value) {
    app.call(Method::POST, "/api/setup", None, Some(body)).await
}

async fn needed(app: &TestApp) -> bool {
    let (status, _, body) = app.call(Method::GET, "/api/setup", None, None).await;
    assert_eq!(status, StatusCode::OK);
    body["needed"].as_bool().expect("needed")
}

async fn count(app: &TestApp, table: &str) -> i64 {
    sqlx::query_scalar(&format!("SELECT COUNT(*) FROM {table}"))
        .fetch_one(&app.state.db)
        .await
        .expect("count")
}

/// Nothing a refused request could have left: no user, no library, no keys, no grant.
async fn assert_nothing_created(app: &TestApp) {
    for table in [
        "users",
        "library",
        "member_keys",
        "library_grants",
        "sessions",
    ] {
        assert_eq!(count(app, table).await, 0, "{table} should be empty");
    }
}

#[tokio::test]
async fn the_link_creates_the_first_admin_signed_in_with_keys_grant_and_recovery() {
    let app = TestApp::spawn().await;
    assert!(needed(&app).await);
    let secret = new_secret(&app).await;
    let (library, unlocked, recovery) = new_library();

    let (status, headers, body) = post_setup(&app, setup_body(&secret, "Owner", &library)).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    assert_eq!(
        body,
        json!({"user": {"username": "owner", "role": "admin"}})
    );
    let cookie = session_cookie(&headers).expect("a session cookie");
    let (status, _, me) = app
        .call(Method::GET, "/api/auth/me", Some(&cookie), None)
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(me["role"], "admin");
    assert!(!needed(&app).await);
    assert_eq!(count(&app, "setup_tokens").await, 0, "the link is used up");

    // What was stored opens the library key with the passphrase, and with the recovery key.
    let (public, salt, m, t, p, wrapped): (Vec<u8>, Vec<u8>, i64, i64, i64, Vec<u8>) =
        sqlx::query_as(
            "SELECT public_key, kdf_salt, kdf_m_cost_kib, kdf_t_cost, kdf_p_cost,
                    wrapped_private_key FROM member_keys",
        )
        .fetch_one(&app.state.db)
        .await
        .expect("the admin's keys");
    let keys = MemberKeys {
        public_key: MemberPublicKey::from_bytes(&public).expect("public key"),
        kdf: KdfInfo::new(
            &salt.try_into().expect("16 bytes"),
            KdfParams {
                m_cost_kib: m.try_into().expect("u32"),
                t_cost: t.try_into().expect("u32"),
                p_cost: p.try_into().expect("u32"),
            },
        ),
        wrapped_private_key: WrappedKey::from_bytes(&wrapped).expect("wrapped"),
    };
    let secret_key = keyring::open_private_key(PASSPHRASE, &keys).expect("passphrase opens it");
    let (generation, grant, grant_public): (i64, Vec<u8>, Vec<u8>) =
        sqlx::query_as("SELECT generation, sealed_library_key, public_key FROM library_grants")
            .fetch_one(&app.state.db)
            .await
            .expect("the admin's grant");
    assert_eq!(generation, 1);
    assert_eq!(grant_public, public);
    let opened = open_library_key(
        &secret_key,
        &SealedLibraryKey::from_bytes(&grant).expect("sealed"),
        1,
    )
    .expect("the grant opens");
    assert_eq!(opened.as_bytes(), unlocked.library_key.as_bytes());

    let (key_generation, recovery_public, recovery_sealed, shared): (
        i64,
        Vec<u8>,
        Vec<u8>,
        Option<Vec<u8>>,
    ) = sqlx::query_as(
        "SELECT key_generation, recovery_public_key, recovery_sealed_key,
                shared_wrapped_library_key FROM library",
    )
    .fetch_one(&app.state.db)
    .await
    .expect("the library");
    assert_eq!(key_generation, 1);
    assert_eq!(shared, None, "no shared passphrase in a new library");
    let recovery_secret = recovery.secret_key().expect("recovery secret");
    assert_eq!(
        recovery_secret.public_key().as_bytes().as_slice(),
        recovery_public
    );
    let by_recovery = open_library_key(
        &recovery_secret,
        &SealedLibraryKey::from_bytes(&recovery_sealed).expect("sealed"),
        1,
    )
    .expect("the recovery key opens it");
    assert_eq!(by_recovery.as_bytes(), unlocked.library_key.as_bytes());
}

#[tokio::test]
async fn a_used_link_is_refused_and_changes_nothing() {
    let app = TestApp::spawn().await;
    let secret = new_secret(&app).await;
    let (library, _, _) = new_library();
    let (status, _, _) = post_setup(&app, setup_body(&secret, "owner", &library)).await;
    assert_eq!(status, StatusCode::CREATED);
    let users_before = count(&app, "users").await;

    // Used again, by someone racing the owner: nobody owns it any more, so the plain answer is 409.
    let (again, _, _) = new_library();
    let (status, _, body) = post_setup(&app, setup_body(&secret, "intruder", &again)).await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    assert_eq!(
        message(&body),
        "Cloister already has an admin; sign in instead."
    );
    assert_eq!(count(&app, "users").await, users_before);
    assert_eq!(count(&app, "member_keys").await, 1);
    assert_eq!(count(&app, "library_grants").await, 1);
}

#[tokio::test]
async fn a_replaced_or_wrong_secret_is_refused_in_plain_words() {
    let app = TestApp::spawn().await;
    let old = new_secret(&app).await;
    let _current = new_secret(&app).await;
    let (library, _, _) = new_library();
    for secret in [
        old.as_str(),
        "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
        "short",
        "",
    ] {
        let (status, _, body) = post_setup(&app, setup_body(secret, "owner", &library)).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{secret}: {body}");
        assert!(
            message(&body).starts_with("This setup link is not valid"),
            "{body}"
        );
        assert!(message(&body).contains("cloister setup-link"), "{body}");
    }
    assert_nothing_created(&app).await;
    assert_eq!(count(&app, "setup_tokens").await, 1, "the live link stays");
    assert!(needed(&app).await);
}

#[tokio::test]
async fn wrong_secrets_are_throttled_like_sign_ins_and_the_right_one_then_waits_its_turn() {
    let app = TestApp::spawn_with(|c| {
        c.accounts.login_burst = 2;
        c.accounts.login_refill_secs = 3600;
    })
    .await;
    let secret = new_secret(&app).await;
    let (library, _, _) = new_library();
    let wrong = "BBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBB";
    for _ in 0..2 {
        let (status, _, _) = post_setup(&app, setup_body(wrong, "owner", &library)).await;
        assert_eq!(status, StatusCode::NOT_FOUND);
    }
    let (status, headers, body) = post_setup(&app, setup_body(wrong, "owner", &library)).await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS, "{body}");
    assert!(headers.contains_key("retry-after"));
    // Guessing has no attempt left from this address, the right secret included.
    let (status, _, _) = post_setup(&app, setup_body(&secret, "owner", &library)).await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS);
    assert_nothing_created(&app).await;
}

#[tokio::test]
async fn bad_input_is_refused_before_the_link_is_spent() {
    let app = TestApp::spawn().await;
    let secret = new_secret(&app).await;
    let (library, _, _) = new_library();

    let (status, _, body) =
        post_setup(&app, setup_body(&secret, "no spaces please", &library)).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");

    let mut short_password = setup_body(&secret, "owner", &library);
    short_password["password"] = json!("short");
    let (status, _, body) = post_setup(&app, short_password).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");

    let mut weak = library.clone();
    weak.keys.kdf.params.m_cost_kib = 1024;
    let (status, _, body) = post_setup(&app, setup_body(&secret, "owner", &weak)).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert!(
        message(&body).contains("key-derivation parameters"),
        "{body}"
    );

    let mut same_keys = library.clone();
    same_keys.recovery.public_key = same_keys.keys.public_key;
    let (status, _, body) = post_setup(&app, setup_body(&secret, "owner", &same_keys)).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");

    // A public key of small order (here: zero) is not a key anything can be sealed to.
    let mut body = setup_body(&secret, "owner", &library);
    body["library"]["keys"]["public_key"] = json!("00".repeat(32));
    let (status, _, answer) = post_setup(&app, body).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{answer}");

    let mut body = setup_body(&secret, "owner", &library);
    body["library"]["grant"] = json!("abcd");
    let (status, _, answer) = post_setup(&app, body).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{answer}");

    assert_nothing_created(&app).await;
    let (status, _, body) = post_setup(&app, setup_body(&secret, "owner", &library)).await;
    assert_eq!(status, StatusCode::CREATED, "the link still works: {body}");
}

#[tokio::test]
async fn with_an_admin_made_on_the_command_line_there_is_no_link_and_setup_is_refused() {
    let app = TestApp::spawn().await;
    let secret = new_secret(&app).await;
    app.add_user("root", Role::Admin).await;
    assert!(!needed(&app).await);
    let (library, _, _) = new_library();
    let (status, _, body) = post_setup(&app, setup_body(&secret, "owner", &library)).await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    assert_eq!(
        message(&body),
        "Cloister already has an admin; sign in instead."
    );
    let link = cloister::accounts::setup::new_link(&app.state.db, "http://x")
        .await
        .expect("new_link");
    assert!(link.is_none());
    assert_eq!(
        count(&app, "setup_tokens").await,
        0,
        "the stale link is dropped"
    );
    assert_eq!(count(&app, "library").await, 0);
}

#[tokio::test]
async fn setup_link_and_serve_print_a_working_link_and_the_secret_never_reaches_the_log() {
    let dir = tempfile::tempdir().expect("temp dir");
    let data = dir.path().join("data");
    let log_path = dir.path().join("serve.log");
    let log = std::fs::File::create(&log_path).expect("log file");
    let (mut server, base) = serve_logging_to(&data, 0, &[], log).await;

    // `serve` printed a link to its own address on stderr.
    let printed = std::fs::read_to_string(&log_path).expect("log");
    let line = printed
        .lines()
        .find(|l| l.starts_with("No one owns this Cloister yet."))
        .unwrap_or_else(|| panic!("no setup message in: {printed}"));
    let served_link = line
        .rsplit(' ')
        .next()
        .expect("link at the end of the line");
    assert!(served_link.starts_with(&format!("{base}/setup#")), "{line}");

    // `setup-link` replaces it while the server runs.
    let mut command = cloister();
    command
        .args(["setup-link", "--public-url", "https://videos.example.org"])
        .envs(common::cli::data_env(&data));
    let made = run(command, "").await;
    assert_eq!(made.code, 0, "{}", made.stderr);
    let link = made
        .stdout
        .lines()
        .find(|l| l.contains("/setup#"))
        .expect("a link")
        .trim()
        .to_owned();
    assert!(
        link.starts_with("https://videos.example.org/setup#"),
        "{link}"
    );
    let secret = secret_of(&link);

    let client = reqwest::Client::new();
    let (library, _, _) = new_library();
    let post = |secret: String| {
        client
            .post(format!("{base}/api/setup"))
            .header("x-cloister-request", "1")
            .json(&setup_body(&secret, "owner", &library))
            .send()
    };
    let refused = post(secret_of(served_link)).await.expect("request");
    assert_eq!(refused.status(), 404, "the printed link was replaced");
    let created = post(secret.clone()).await.expect("request");
    assert_eq!(created.status(), 201);

    let mut command = cloister();
    command
        .args(["setup-link"])
        .envs(common::cli::data_env(&data));
    let owned = run(command, "").await;
    assert_eq!(owned.code, 1);
    assert!(
        owned
            .stderr
            .contains("Cloister already has an admin; sign in instead."),
        "{}",
        owned.stderr
    );

    server.kill().await.expect("kill");
    let _ = server.wait().await;
    let mut logged = String::new();
    std::fs::File::open(&log_path)
        .expect("log")
        .read_to_string(&mut logged)
        .expect("read log");
    assert!(
        !logged.contains(&secret),
        "the secret reached the log: {logged}"
    );
    assert!(
        logged.contains("first admin and library created"),
        "{logged}"
    );

    // Started again with an owner, `serve` prints no link.
    let log = std::fs::File::create(&log_path).expect("log file");
    let (mut again, _) = serve_logging_to(&data, 0, &[], log).await;
    again.kill().await.expect("kill");
    let _ = again.wait().await;
    let printed = std::fs::read_to_string(&log_path).expect("log");
    assert!(!printed.contains("No one owns this Cloister"), "{printed}");
}
