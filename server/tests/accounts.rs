//! Accounts and sessions through the real router: sign-in, cookies, sessions, throttling, admin
//! account management and invites.

mod common;

use std::net::SocketAddr;

use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::{header, Method, Request, StatusCode};
use cloister_shared::api::Role;
use common::{message, session_cookie, TestApp, PASSWORD};
use serde_json::json;

fn login_body(username: &str, password: &str) -> serde_json::Value {
    json!({"username": username, "password": password})
}

#[tokio::test]
async fn login_sets_a_session_cookie_and_me_answers_who_is_signed_in() {
    let app = TestApp::spawn().await;
    app.add_user("alice", Role::Admin).await;
    let (status, headers, body) = app
        .call(
            Method::POST,
            "/api/auth/login",
            None,
            Some(login_body("Alice", PASSWORD)),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        body,
        json!({"user": {"username": "alice", "role": "admin"}})
    );
    let cookie = session_cookie(&headers).expect("cookie");
    let (status, _, me) = app
        .call(Method::GET, "/api/auth/me", Some(&cookie), None)
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        me,
        json!({"username": "alice", "role": "admin", "quota_bytes": 1u64 << 30})
    );
}

#[tokio::test]
async fn the_session_cookie_is_httponly_strict_and_not_secure_over_plain_http() {
    let app = TestApp::spawn().await;
    app.add_user("alice", Role::Member).await;
    let (_, headers, _) = app
        .call(
            Method::POST,
            "/api/auth/login",
            None,
            Some(login_body("alice", PASSWORD)),
        )
        .await;
    let set_cookie = headers[header::SET_COOKIE].to_str().expect("ascii");
    assert!(set_cookie.starts_with("cloister_session="), "{set_cookie}");
    assert!(set_cookie.contains("HttpOnly"), "{set_cookie}");
    assert!(set_cookie.contains("SameSite=Strict"), "{set_cookie}");
    assert!(set_cookie.contains("Path=/"), "{set_cookie}");
    assert!(
        set_cookie.contains(&format!("Max-Age={}", 30 * 24 * 3600)),
        "{set_cookie}"
    );
    assert!(!set_cookie.contains("Secure"), "{set_cookie}");
    // The token is 256 random bits, base64url.
    let token = session_cookie(&headers).expect("cookie");
    assert_eq!(token.len(), "cloister_session=".len() + 43);
}

#[tokio::test]
async fn the_session_cookie_is_secure_behind_an_https_public_url() {
    let app = TestApp::spawn_with(|c| {
        c.accounts.public_url = Some("https://videos.example.org".into());
        c.accounts.session_days = 7;
    })
    .await;
    app.add_user("alice", Role::Member).await;
    let (_, headers, _) = app
        .call(
            Method::POST,
            "/api/auth/login",
            None,
            Some(login_body("alice", PASSWORD)),
        )
        .await;
    let set_cookie = headers[header::SET_COOKIE].to_str().expect("ascii");
    assert!(set_cookie.contains("Secure"), "{set_cookie}");
    assert!(
        set_cookie.contains(&format!("Max-Age={}", 7 * 24 * 3600)),
        "{set_cookie}"
    );
}

#[tokio::test]
async fn forwarded_proto_makes_the_cookie_secure_only_with_a_trusted_proxy() {
    for trust in [false, true] {
        let app = TestApp::spawn_with(|c| c.accounts.trust_proxy = trust).await;
        app.add_user("alice", Role::Member).await;
        let request = Request::post("/api/auth/login")
            .header("x-cloister-request", "1")
            .header("x-forwarded-proto", "https")
            .header(header::CONTENT_TYPE, "application/json")
            .body(Body::from(login_body("alice", PASSWORD).to_string()))
            .expect("request");
        let (status, headers, _) = app.send(request).await;
        assert_eq!(status, StatusCode::OK);
        let set_cookie = headers[header::SET_COOKIE].to_str().expect("ascii");
        assert_eq!(set_cookie.contains("Secure"), trust, "{set_cookie}");
    }
}

#[tokio::test]
async fn wrong_password_and_unknown_user_get_the_same_401() {
    let app = TestApp::spawn().await;
    app.add_user("alice", Role::Member).await;
    let (s1, h1, b1) = app
        .call(
            Method::POST,
            "/api/auth/login",
            None,
            Some(login_body("alice", "wrong password")),
        )
        .await;
    let (s2, _, b2) = app
        .call(
            Method::POST,
            "/api/auth/login",
            None,
            Some(login_body("nobody", PASSWORD)),
        )
        .await;
    assert_eq!(s1, StatusCode::UNAUTHORIZED);
    assert_eq!(s2, StatusCode::UNAUTHORIZED);
    assert_eq!(message(&b1), "Wrong username or password.");
    assert_eq!(b1, b2);
    assert!(session_cookie(&h1).is_none());
}

#[tokio::test]
async fn over_long_or_malformed_credentials_are_400_with_the_rule() {
    let app = TestApp::spawn().await;
    let (status, _, body) = app
        .call(
            Method::POST,
            "/api/auth/login",
            None,
            Some(login_body(&"a".repeat(33), PASSWORD)),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(message(&body).contains("1 to 32 characters"), "{body}");
    let (status, _, body) = app
        .call(
            Method::POST,
            "/api/auth/login",
            None,
            Some(login_body("alice", &"x".repeat(257))),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(message(&body).contains("8 to 256 characters"), "{body}");
}

#[tokio::test]
async fn malformed_json_is_a_400_that_says_so() {
    let app = TestApp::spawn().await;
    let request = Request::post("/api/auth/login")
        .header("x-cloister-request", "1")
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from("{\"username\": \"alice\", "))
        .expect("request");
    let (status, _, body) = app.send(request).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(
        common::json(&body)["error"]["message"],
        "The request body is not valid JSON."
    );
    let (status, _, body) = app
        .call(
            Method::POST,
            "/api/auth/login",
            None,
            Some(json!({"username": "alice"})),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(message(&body).contains("password"), "{body}");
}

#[tokio::test]
async fn logout_deletes_the_session_and_clears_the_cookie() {
    let app = TestApp::spawn().await;
    let cookie = app.signed_in("alice", Role::Member).await;
    let (status, headers, _) = app
        .call(Method::POST, "/api/auth/logout", Some(&cookie), None)
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let cleared = headers[header::SET_COOKIE].to_str().expect("ascii");
    assert!(cleared.starts_with("cloister_session=;"), "{cleared}");
    assert!(cleared.contains("Max-Age=0"), "{cleared}");
    // The old cookie no longer works, even if a browser kept it.
    let (status, _, body) = app
        .call(Method::GET, "/api/auth/me", Some(&cookie), None)
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(message(&body), "Please sign in first.");
    let count: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM sessions")
        .fetch_one(&app.state.db)
        .await
        .expect("count");
    assert_eq!(count, 0);
    // Signing out again, without a session, still succeeds.
    let (status, _, _) = app.call(Method::POST, "/api/auth/logout", None, None).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
}

#[tokio::test]
async fn an_expired_session_is_refused_and_deleted() {
    let app = TestApp::spawn().await;
    let cookie = app.signed_in("alice", Role::Member).await;
    sqlx::query("UPDATE sessions SET expires_at = 1")
        .execute(&app.state.db)
        .await
        .expect("expire");
    let (status, _, body) = app
        .call(Method::GET, "/api/auth/me", Some(&cookie), None)
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(message(&body), "Please sign in first.");
    let count: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM sessions")
        .fetch_one(&app.state.db)
        .await
        .expect("count");
    assert_eq!(count, 0, "the expired session row must be deleted");
}

#[tokio::test]
async fn forged_session_cookies_are_refused() {
    let app = TestApp::spawn().await;
    let real = app.signed_in("alice", Role::Member).await;
    let mut tampered = real.clone();
    let last = tampered.pop().expect("char");
    tampered.push(if last == 'A' { 'B' } else { 'A' });
    for cookie in [
        "cloister_session=".to_owned(),
        "cloister_session=forged".to_owned(),
        format!("cloister_session={}", "A".repeat(43)),
        tampered,
    ] {
        let (status, _, body) = app
            .call(Method::GET, "/api/auth/me", Some(&cookie), None)
            .await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{cookie}");
        assert_eq!(message(&body), "Please sign in first.");
    }
}

#[tokio::test]
async fn only_the_hash_of_a_session_token_is_stored() {
    let app = TestApp::spawn().await;
    let cookie = app.signed_in("alice", Role::Member).await;
    let token = cookie.trim_start_matches("cloister_session=");
    let stored: Vec<u8> = sqlx::query_scalar("SELECT token_hash FROM sessions")
        .fetch_one(&app.state.db)
        .await
        .expect("row");
    assert_eq!(stored.len(), 32);
    assert!(!stored
        .windows(8)
        .any(|w| token.as_bytes().windows(8).any(|t| t == w)));
}

fn login_from(address: [u8; 4], username: &str, password: &str) -> Request<Body> {
    let mut request = Request::post("/api/auth/login")
        .header("x-cloister-request", "1")
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from(login_body(username, password).to_string()))
        .expect("request");
    request
        .extensions_mut()
        .insert(ConnectInfo(SocketAddr::from((address, 40000))));
    request
}

fn retry_after(headers: &axum::http::HeaderMap) -> u64 {
    headers["retry-after"]
        .to_str()
        .expect("ascii")
        .parse()
        .expect("secs")
}

#[tokio::test]
async fn an_address_that_spent_its_attempts_on_a_username_is_refused_until_one_refills() {
    let app = TestApp::spawn().await;
    app.add_user("alice", Role::Member).await;
    for i in 0..5 {
        let (status, _, _) = app
            .send(login_from([10, 0, 0, 1], "alice", "wrong password"))
            .await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "attempt {i}");
    }
    // Past the allowance, even the right password from that address waits, and is told how long.
    let (status, headers, body) = app.send(login_from([10, 0, 0, 1], "alice", PASSWORD)).await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS);
    let retry = retry_after(&headers);
    assert!((1..=30).contains(&retry), "{retry}");
    let body = common::json(&body);
    assert_eq!(
        message(&body),
        format!("Too many sign-in attempts. Try again in {retry} seconds.")
    );
    // Another user from that address is not affected.
    app.add_user("bob", Role::Member).await;
    let (status, _, _) = app.send(login_from([10, 0, 0, 1], "bob", PASSWORD)).await;
    assert_eq!(status, StatusCode::OK);
}

/// The lock-out of issue 12: failures timed to Retry-After kept the username locked, so its owner
/// got 429s with the right password. Now the attacker's address is what is locked.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_attacker_timing_failures_to_retry_after_cannot_keep_the_owner_out() {
    let app = std::sync::Arc::new(
        TestApp::spawn_with(|c| {
            c.accounts.login_burst = 2;
            c.accounts.login_refill_secs = 1;
        })
        .await,
    );
    app.add_user("alice", Role::Member).await;
    let attacker = {
        let app = app.clone();
        tokio::spawn(async move {
            let (mut refused, mut checked) = (0, 0);
            let until = std::time::Instant::now() + std::time::Duration::from_secs(4);
            while std::time::Instant::now() < until {
                let (status, headers, _) = app
                    .send(login_from([203, 0, 113, 66], "alice", "wrong password"))
                    .await;
                match status {
                    StatusCode::UNAUTHORIZED => checked += 1,
                    StatusCode::TOO_MANY_REQUESTS => {
                        refused += 1;
                        let wait = retry_after(&headers);
                        tokio::time::sleep(std::time::Duration::from_secs(wait)).await;
                    }
                    other => panic!("attacker got {other}"),
                }
            }
            (refused, checked)
        })
    };
    let mut owner = Vec::new();
    for _ in 0..8 {
        tokio::time::sleep(std::time::Duration::from_millis(500)).await;
        let (status, _, _) = app
            .send(login_from([198, 51, 100, 7], "alice", PASSWORD))
            .await;
        owner.push(status);
    }
    let (refused, checked) = attacker.await.expect("attacker");
    assert!(
        refused >= 2,
        "the attacker was refused only {refused} times"
    );
    // The burst of 2, then about one per second for 4 s.
    assert!(checked <= 2 + 5, "{checked} guesses were checked");
    assert!(
        owner.iter().all(|s| *s == StatusCode::OK),
        "the owner got {owner:?}"
    );
}

/// Guesses from many addresses spend the username's own allowance; then each attempt on it waits
/// a little before it is checked, but the owner still gets in.
#[tokio::test]
async fn guesses_from_many_addresses_slow_the_username_down_without_locking_it() {
    let app = TestApp::spawn_with(|c| c.accounts.login_burst = 1).await;
    app.add_user("alice", Role::Member).await;
    let spent = cloister::accounts::limiter::USERNAME_BURST_FACTOR as u8;
    for i in 0..spent {
        let (status, _, _) = app
            .send(login_from([10, 7, 0, i], "alice", "wrong password"))
            .await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "guess {i}");
    }
    let started = std::time::Instant::now();
    let (status, _, _) = app.send(login_from([10, 7, 1, 1], "alice", PASSWORD)).await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        started.elapsed() >= cloister::accounts::limiter::SLOW_DOWN,
        "the sign-in was not slowed down"
    );
}

#[tokio::test]
async fn sign_in_attempts_are_throttled_per_address_across_usernames() {
    let app = TestApp::spawn().await;
    app.add_user("alice", Role::Member).await;
    let allowance = 5 * cloister::accounts::limiter::ADDRESS_BURST_FACTOR;
    for i in 0..allowance {
        let (status, _, _) = app
            .send(login_from(
                [192, 0, 2, 7],
                &format!("guess{i}"),
                "wrong password",
            ))
            .await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "attempt {i}");
    }
    let (status, _, _) = app
        .send(login_from([192, 0, 2, 7], "guess99", "wrong password"))
        .await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS);
    let (status, headers, _) = app
        .send(login_from([192, 0, 2, 7], "alice", PASSWORD))
        .await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS);
    assert!(headers.contains_key("retry-after"));
    // Another address may still sign in as alice.
    let (status, _, _) = app
        .send(login_from([192, 0, 2, 8], "alice", PASSWORD))
        .await;
    assert_eq!(status, StatusCode::OK);
}

#[tokio::test]
async fn an_admin_creates_lists_and_removes_members() {
    let app = TestApp::spawn().await;
    let admin = app.signed_in("root", Role::Admin).await;
    let (status, _, created) = app
        .call(
            Method::POST,
            "/api/admin/users",
            Some(&admin),
            Some(json!({"username": "Bob", "password": "bob's password"})),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED);
    assert_eq!(created["username"], "bob");
    assert_eq!(created["role"], "member");
    assert_eq!(
        created["quota_bytes"],
        app.state.config.limits.default_quota_bytes
    );
    // Bob can sign in with the password the admin chose.
    app.login("bob", "bob's password").await;
    let (status, _, body) = app
        .call(
            Method::POST,
            "/api/admin/users",
            Some(&admin),
            Some(json!({"username": "BOB", "password": "another password"})),
        )
        .await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert!(message(&body).contains("already taken"), "{body}");
    let (status, _, list) = app
        .call(Method::GET, "/api/admin/users", Some(&admin), None)
        .await;
    assert_eq!(status, StatusCode::OK);
    let names: Vec<&str> = list["users"]
        .as_array()
        .expect("users")
        .iter()
        .filter_map(|u| u["username"].as_str())
        .collect();
    assert_eq!(names, ["bob", "root"]);
    assert!(list["users"][0]["created_at"].as_i64().expect("created_at") > 0);
    let (status, _, _) = app
        .call(Method::DELETE, "/api/admin/users/bob", Some(&admin), None)
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, _, body) = app
        .call(Method::DELETE, "/api/admin/users/bob", Some(&admin), None)
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert!(message(&body).contains("no user named bob"), "{body}");
}

#[tokio::test]
async fn bad_new_accounts_get_a_400_with_the_rule() {
    let app = TestApp::spawn().await;
    let admin = app.signed_in("root", Role::Admin).await;
    for (username, password, expected) in [
        ("has space", "long enough", "1 to 32 characters"),
        (&*"x".repeat(33), "long enough", "1 to 32 characters"),
        ("carol", "short", "8 to 256 characters"),
        ("carol", &*"p".repeat(257), "8 to 256 characters"),
    ] {
        let (status, _, body) = app
            .call(
                Method::POST,
                "/api/admin/users",
                Some(&admin),
                Some(json!({"username": username, "password": password})),
            )
            .await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{username}");
        assert!(message(&body).contains(expected), "{body}");
    }
}

#[tokio::test]
async fn the_last_admin_cannot_be_removed() {
    let app = TestApp::spawn().await;
    let admin = app.signed_in("root", Role::Admin).await;
    let (status, _, body) = app
        .call(Method::DELETE, "/api/admin/users/root", Some(&admin), None)
        .await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert!(message(&body).contains("last admin"), "{body}");
    // With a second admin, one of them may go.
    app.add_user("second", Role::Admin).await;
    let (status, _, _) = app
        .call(
            Method::DELETE,
            "/api/admin/users/second",
            Some(&admin),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
}

/// Two admins removing each other at the same moment: one removal wins, the other is refused,
/// and an admin is left (on PostgreSQL too, where the two transactions really run at once).
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_admins_removing_each_other_at_once_leave_one_admin() {
    let app = TestApp::spawn().await;
    for round in 0..8 {
        let (a, b) = (format!("a{round}"), format!("b{round}"));
        let a_cookie = app.signed_in(&a, Role::Admin).await;
        let b_cookie = app.signed_in(&b, Role::Admin).await;
        // The admins of earlier rounds go first, so only these two are left.
        for user in cloister::accounts::users::list(&app.state.db)
            .await
            .expect("list")
        {
            if user.username != a && user.username != b {
                cloister::accounts::users::remove(&app.state.db, &user.username)
                    .await
                    .expect("remove an earlier admin");
            }
        }
        let a_removes_b = format!("/api/admin/users/{b}");
        let b_removes_a = format!("/api/admin/users/{a}");
        let ((first, _, first_body), (second, _, second_body)) = tokio::join!(
            app.call(Method::DELETE, &a_removes_b, Some(&a_cookie), None),
            app.call(Method::DELETE, &b_removes_a, Some(&b_cookie), None),
        );
        let admins: Vec<String> = cloister::accounts::users::list(&app.state.db)
            .await
            .expect("list")
            .into_iter()
            .filter(|user| user.role == Role::Admin)
            .map(|user| user.username)
            .collect();
        assert_eq!(
            admins.len(),
            1,
            "round {round}: {first} {first_body} / {second} {second_body}: admins {admins:?}"
        );
        let statuses = [first, second];
        assert_eq!(
            statuses
                .iter()
                .filter(|s| **s == StatusCode::NO_CONTENT)
                .count(),
            1,
            "round {round}: {first} {first_body} / {second} {second_body}"
        );
        // The other was refused as the last admin, or found its own account already gone.
        assert!(
            statuses.iter().all(|s| [
                StatusCode::NO_CONTENT,
                StatusCode::CONFLICT,
                StatusCode::UNAUTHORIZED
            ]
            .contains(s)),
            "round {round}: {first} {first_body} / {second} {second_body}"
        );
    }
}

#[tokio::test]
async fn removing_a_user_signs_them_out() {
    let app = TestApp::spawn().await;
    let admin = app.signed_in("root", Role::Admin).await;
    let bob = app.signed_in("bob", Role::Member).await;
    app.call(Method::DELETE, "/api/admin/users/bob", Some(&admin), None)
        .await;
    let (status, _, _) = app
        .call(Method::GET, "/api/auth/me", Some(&bob), None)
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn a_password_change_signs_the_user_out_everywhere() {
    let app = TestApp::spawn().await;
    let bob = app.signed_in("bob", Role::Member).await;
    cloister::accounts::users::set_password(
        &app.state.db,
        "bob",
        zeroize::Zeroizing::new("a new password".to_owned()),
    )
    .await
    .expect("passwd");
    let (status, _, _) = app
        .call(Method::GET, "/api/auth/me", Some(&bob), None)
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    app.login("bob", "a new password").await;
}

#[tokio::test]
async fn an_invite_is_used_once_to_create_an_account_and_sign_in() {
    let app = TestApp::spawn().await;
    let admin = app.signed_in("root", Role::Admin).await;
    let (status, _, invite) = app
        .call(
            Method::POST,
            "/api/admin/invites",
            Some(&admin),
            Some(json!({})),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED);
    let token = invite["token"].as_str().expect("token").to_owned();
    assert_eq!(invite["url_path"], format!("/invite#{token}"));
    let week = invite["expires_at"].as_i64().expect("expiry") - cloister::accounts::unix_now();
    assert!((7 * 86400 - 60..=7 * 86400).contains(&week), "{week}");

    // A taken username leaves the invite usable.
    let (status, _, _) = app
        .call(
            Method::POST,
            "/api/invites/accept",
            None,
            Some(json!({"token": token, "username": "root", "password": "dana's password"})),
        )
        .await;
    assert_eq!(status, StatusCode::CONFLICT);
    let (status, headers, body) = app
        .call(
            Method::POST,
            "/api/invites/accept",
            None,
            Some(json!({"token": token, "username": "dana", "password": "dana's password"})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(
        body,
        json!({"user": {"username": "dana", "role": "member"}})
    );
    let dana = session_cookie(&headers).expect("signed in");
    let (status, _, me) = app
        .call(Method::GET, "/api/auth/me", Some(&dana), None)
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(me["username"], "dana");

    // Used up: a second acceptance fails, as does a made-up token.
    for token in [token.as_str(), "made-up"] {
        let (status, _, body) = app
            .call(
                Method::POST,
                "/api/invites/accept",
                None,
                Some(json!({"token": token, "username": "eve", "password": "eve's password"})),
            )
            .await;
        assert_eq!(status, StatusCode::NOT_FOUND);
        assert!(
            message(&body).contains("invite link is not valid"),
            "{body}"
        );
    }
}

#[tokio::test]
async fn an_expired_invite_is_refused() {
    let app = TestApp::spawn().await;
    let admin = app.signed_in("root", Role::Admin).await;
    let (_, _, invite) = app
        .call(
            Method::POST,
            "/api/admin/invites",
            Some(&admin),
            Some(json!({"role": "admin"})),
        )
        .await;
    sqlx::query("UPDATE invites SET expires_at = 1")
        .execute(&app.state.db)
        .await
        .expect("expire");
    let (status, _, _) = app
        .call(
            Method::POST,
            "/api/invites/accept",
            None,
            Some(
                json!({"token": invite["token"], "username": "eve", "password": "eve's password"}),
            ),
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn session_status_answers_null_for_a_visitor_and_the_user_when_signed_in() {
    let app = TestApp::spawn().await;
    app.add_user("alice", Role::Member).await;
    let (status, _, body) = app.call(Method::GET, "/api/auth/session", None, None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body, json!({"user": null}));
    // A forged cookie is a visitor too, not an error.
    let forged = "cloister_session=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA";
    let (status, _, body) = app
        .call(Method::GET, "/api/auth/session", Some(forged), None)
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body, json!({"user": null}));
    let (_, headers, _) = app
        .call(
            Method::POST,
            "/api/auth/login",
            None,
            Some(login_body("alice", PASSWORD)),
        )
        .await;
    let cookie = session_cookie(&headers).expect("cookie");
    let (status, _, body) = app
        .call(Method::GET, "/api/auth/session", Some(&cookie), None)
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["user"]["username"], "alice");
    assert_eq!(body["user"]["role"], "member");
}

#[tokio::test]
async fn correct_sign_ins_are_never_throttled() {
    let app = TestApp::spawn().await;
    app.add_user("alice", Role::Member).await;
    // A script running `cloister` commands signs in once per command.
    for i in 0..12 {
        let (status, _, _) = app.send(login_from([10, 9, 9, 9], "alice", PASSWORD)).await;
        assert_eq!(status, StatusCode::OK, "sign-in {i}");
    }
}

#[tokio::test]
async fn an_invite_request_of_the_wrong_shape_is_a_400_that_says_why() {
    let app = TestApp::spawn().await;
    let admin = app.signed_in("root", Role::Admin).await;
    for (body, says) in [
        (json!([]), "must be a JSON object"),
        (json!("member"), "must be a JSON object"),
        (json!({"role": 7}), "role"),
        (json!({"role": "superuser"}), "role"),
        (json!({"rol": "admin"}), "unknown field `rol`"),
    ] {
        let (status, _, answer) = app
            .call(
                Method::POST,
                "/api/admin/invites",
                Some(&admin),
                Some(body.clone()),
            )
            .await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{body}: {answer}");
        assert!(message(&answer).contains(says), "{body}: {answer}");
    }
    let count: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM invites")
        .fetch_one(&app.state.db)
        .await
        .expect("count");
    assert_eq!(count, 0, "a malformed request made an invite");
}

#[tokio::test]
async fn a_20_mib_json_body_is_413() {
    let app = TestApp::spawn().await;
    let big = format!(
        "{{\"username\": \"alice\", \"password\": \"{}\"}}",
        "x".repeat(20 << 20)
    );
    let request = Request::post("/api/auth/login")
        .header("x-cloister-request", "1")
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from(big))
        .expect("request");
    let (status, _, body) = app.send(request).await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);
    let body = common::json(&body);
    assert_eq!(body["error"]["code"], "payload_too_large");
    assert_eq!(message(&body), "The request body is too large.");
}
