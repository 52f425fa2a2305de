//! Keys for people through the real router (docs/accounts.md, "Keys for people"): the library is
//! made once with the admin's keys, invited members register keys and wait, only an admin lets
//! them in and only with a grant sealed to their current key for the current generation, the
//! passphrase change is compare-and-swap, uploads carry the key generation, and no refused
//! request changes any key material.

mod common;

use axum::http::{Method, StatusCode};
use cloister_shared::api::keys::{LibraryMode, LibraryStatus, MemberKeys, WaitingMember};
use cloister_shared::api::Role;
use cloister_shared::crypto::member::seal_library_key;
use cloister_shared::keyring::{self, KeyringError, Unlocked};
use common::uploads::SealedFile;
use common::{message, session_cookie, TestApp, PASSWORD};
use serde_json::{json, Value};

const ADMIN_PASSPHRASE: &str = "the admin's own passphrase";
const BOB_PASSPHRASE: &str = "bob's very own passphrase";

async fn status(app: &TestApp, cookie: &str) -> LibraryStatus {
    let (code, _, body) = app
        .call(Method::GET, "/api/library", Some(cookie), None)
        .await;
    assert_eq!(code, StatusCode::OK, "{body}");
    serde_json::from_value(body).expect("library status")
}

fn to_json<T: serde::Serialize>(value: &T) -> Value {
    serde_json::to_value(value).expect("json")
}

/// Every stored key: the library row, key pairs, grants, recovery challenges. A refused request
/// must leave this exactly as it was.
/// The library row's generation and key columns.
type LibraryKeys = (i64, Option<Vec<u8>>, Option<Vec<u8>>, Option<Vec<u8>>);
/// A member's (or grant's) id column and three byte columns.
type KeyRow = (i64, Vec<u8>, Vec<u8>, Vec<u8>);

async fn key_material(app: &TestApp) -> Vec<String> {
    let db = &app.state.db;
    let hex_or_dash = |bytes: &Option<Vec<u8>>| bytes.as_ref().map_or("-".to_owned(), hex::encode);
    let library: Vec<LibraryKeys> = sqlx::query_as(
        "SELECT key_generation, shared_wrapped_library_key, recovery_public_key,
                recovery_sealed_key FROM library",
    )
    .fetch_all(db)
    .await
    .expect("library");
    let keys: Vec<KeyRow> = sqlx::query_as(
        "SELECT user_id, public_key, kdf_salt, wrapped_private_key FROM member_keys
         ORDER BY user_id",
    )
    .fetch_all(db)
    .await
    .expect("keys");
    let grants: Vec<(i64, i64, Vec<u8>, Vec<u8>)> = sqlx::query_as(
        "SELECT user_id, generation, public_key, sealed_library_key FROM library_grants
         ORDER BY user_id, generation",
    )
    .fetch_all(db)
    .await
    .expect("grants");
    let mut rows: Vec<String> = library
        .iter()
        .map(|(generation, shared, public, sealed)| {
            format!(
                "library {generation} {} {} {}",
                hex_or_dash(shared),
                hex_or_dash(public),
                hex_or_dash(sealed)
            )
        })
        .collect();
    rows.extend(keys.iter().map(|(user, public, salt, wrapped)| {
        format!(
            "keys {user} {} {} {}",
            hex::encode(public),
            hex::encode(salt),
            hex::encode(wrapped)
        )
    }));
    rows.extend(grants.iter().map(|(user, generation, public, sealed)| {
        format!(
            "grant {user} {generation} {} {}",
            hex::encode(public),
            hex::encode(sealed)
        )
    }));
    rows
}

/// Sets the library up as `admin` (signed in): answers the admin's unlocked keys and the recovery
/// words.
async fn create_library(app: &TestApp, admin: &str) -> (Unlocked, Vec<String>) {
    let (request, unlocked, recovery) = keyring::new_library(ADMIN_PASSPHRASE).expect("new");
    let (code, _, body) = app
        .call(
            Method::POST,
            "/api/library",
            Some(admin),
            Some(to_json(&request)),
        )
        .await;
    assert_eq!(code, StatusCode::CREATED, "{body}");
    (unlocked, recovery.words())
}

async fn new_invite(app: &TestApp, admin: &str) -> String {
    let (code, _, body) = app
        .call(
            Method::POST,
            "/api/admin/invites",
            Some(admin),
            Some(json!({})),
        )
        .await;
    assert_eq!(code, StatusCode::CREATED, "{body}");
    body["token"].as_str().expect("token").to_owned()
}

/// Accepts `token` as `username` with `keys`; answers status, body and the session cookie.
async fn accept(
    app: &TestApp,
    token: &str,
    username: &str,
    keys: Option<&MemberKeys>,
    cookie: Option<&str>,
) -> (StatusCode, Value, Option<String>) {
    let mut body = json!({"token": token, "username": username, "password": PASSWORD});
    if let Some(keys) = keys {
        body["keys"] = to_json(keys);
    }
    let (code, headers, answer) = app
        .call(Method::POST, "/api/invites/accept", cookie, Some(body))
        .await;
    (code, answer, session_cookie(&headers))
}

async fn grant(app: &TestApp, cookie: &str, request: &Value) -> (StatusCode, Value) {
    let (code, _, body) = app
        .call(
            Method::POST,
            "/api/library/grants",
            Some(cookie),
            Some(request.clone()),
        )
        .await;
    (code, body)
}

fn waiting(keys: &MemberKeys, username: &str) -> WaitingMember {
    WaitingMember {
        username: username.into(),
        public_key: keys.public_key,
        since: 0,
    }
}

#[tokio::test]
async fn the_library_is_made_once_and_opens_with_the_admins_own_passphrase() {
    let app = TestApp::spawn().await;
    let admin = app.signed_in("ada", Role::Admin).await;
    let before = status(&app, &admin).await;
    assert_eq!(before.mode, LibraryMode::New);
    assert_eq!(before.generation, 0);

    let (made, _) = create_library(&app, &admin).await;
    let seen = status(&app, &admin).await;
    assert_eq!(seen.mode, LibraryMode::Members);
    assert_eq!(seen.generation, 1);
    assert!(seen.recovery_set);
    assert!(seen.shared.is_none());
    assert_eq!(seen.holders.len(), 1);
    let unlocked = keyring::unlock(ADMIN_PASSPHRASE, &seen).expect("unlock");
    assert_eq!(unlocked.library_key.as_bytes(), made.library_key.as_bytes());
    // A wrong passphrase is told on the client, before any request.
    let wrong = keyring::unlock("not my passphrase", &seen).unwrap_err();
    assert_eq!(wrong, KeyringError::WrongPassphrase);
    assert_eq!(wrong.to_string(), "Unable to decrypt. Check passphrase.");

    // A second set-up is refused and changes nothing.
    let stored = key_material(&app).await;
    let (again, _, _) = keyring::new_library("another passphrase").expect("new");
    let (code, _, body) = app
        .call(
            Method::POST,
            "/api/library",
            Some(&admin),
            Some(to_json(&again)),
        )
        .await;
    assert_eq!(code, StatusCode::CONFLICT);
    assert!(message(&body).contains("already set up"), "{body}");
    // A member cannot make it either.
    let member = app.signed_in("bob", Role::Member).await;
    let (code, _, _) = app
        .call(
            Method::POST,
            "/api/library",
            Some(&member),
            Some(to_json(&again)),
        )
        .await;
    assert_eq!(code, StatusCode::FORBIDDEN);
    // Weak key-derivation parameters are refused.
    let mut weak = to_json(&again);
    weak["keys"]["kdf"]["params"]["m_cost_kib"] = json!(1024);
    let (code, _, body) = app
        .call(Method::POST, "/api/library", Some(&admin), Some(weak))
        .await;
    assert_eq!(code, StatusCode::BAD_REQUEST);
    assert!(message(&body).contains("out of range"), "{body}");
    assert_eq!(key_material(&app).await, stored);
    // Members see neither who waits nor who holds keys.
    let bob_view = status(&app, &member).await;
    assert!(bob_view.holders.is_empty() && bob_view.waiting.is_empty());
    assert!(bob_view.me.is_none() && bob_view.my_grant.is_none());
}

#[tokio::test]
async fn an_invited_member_registers_keys_waits_and_only_an_admin_lets_them_in() {
    let app = TestApp::spawn().await;
    let admin = app.signed_in("ada", Role::Admin).await;
    let (ada, _) = create_library(&app, &admin).await;

    // Accepting while signed in as someone else is refused, and leaves the invite usable.
    let token = new_invite(&app, &admin).await;
    let (bob_keys, bob_secret) = keyring::new_member_keys(BOB_PASSPHRASE).expect("keys");
    let (code, body, _) = accept(&app, &token, "bob", Some(&bob_keys), Some(&admin)).await;
    assert_eq!(code, StatusCode::CONFLICT);
    assert_eq!(
        message(&body),
        "You are signed in as ada. Sign out first, or open the invite in a private window."
    );
    // A public key that is not a valid point is refused, with nothing stored.
    let mut bad = to_json(&bob_keys);
    bad["public_key"] = json!("00".repeat(32));
    let (code, _, answer) = app
        .call(
            Method::POST,
            "/api/invites/accept",
            None,
            Some(json!({"token": token, "username": "bob", "password": PASSWORD, "keys": bad})),
        )
        .await;
    assert_eq!(code, StatusCode::BAD_REQUEST);
    assert!(
        message(&answer).contains("not a valid public key"),
        "{answer}"
    );

    let (code, body, bob) = accept(&app, &token, "bob", Some(&bob_keys), None).await;
    assert_eq!(code, StatusCode::OK, "{body}");
    let bob = bob.expect("bob's session");
    // The invite is used up.
    let (again, _) = keyring::new_member_keys("someone else's passphrase").expect("keys");
    let (code, body, _) = accept(&app, &token, "mallory", Some(&again), None).await;
    assert_eq!(code, StatusCode::NOT_FOUND);
    assert!(message(&body).contains("already used"), "{body}");
    // An expired invite is refused too.
    let expired = new_invite(&app, &admin).await;
    sqlx::query("UPDATE invites SET expires_at = 1")
        .execute(&app.state.db)
        .await
        .expect("expire");
    let (code, _, _) = accept(&app, &expired, "mallory", Some(&again), None).await;
    assert_eq!(code, StatusCode::NOT_FOUND);

    // Bob waits: he has keys, no grant.
    let bob_status = status(&app, &bob).await;
    assert_eq!(bob_status.me.as_ref(), Some(&bob_keys));
    assert_eq!(
        keyring::unlock(BOB_PASSPHRASE, &bob_status).unwrap_err(),
        KeyringError::NotGranted
    );
    let admin_view = status(&app, &admin).await;
    assert_eq!(admin_view.waiting.len(), 1);
    assert_eq!(admin_view.waiting[0].username, "bob");
    assert_eq!(admin_view.waiting[0].public_key, bob_keys.public_key);

    let right = to_json(&keyring::grant(&ada, &admin_view.waiting[0]).expect("grant"));
    let stored = key_material(&app).await;
    // A member cannot grant.
    let (code, body) = grant(&app, &bob, &right).await;
    assert_eq!(code, StatusCode::FORBIDDEN);
    assert_eq!(message(&body), "Only an admin can let someone in.");
    // A grant sealed to another member's key, replayed for bob, is refused.
    let carol_token = new_invite(&app, &admin).await;
    let (carol_keys, _) = keyring::new_member_keys("carol's own passphrase").expect("keys");
    let (code, _, _) = accept(&app, &carol_token, "carol", Some(&carol_keys), None).await;
    assert_eq!(code, StatusCode::OK);
    let stored_with_carol = key_material(&app).await;
    assert_ne!(stored, stored_with_carol);
    let for_carol = keyring::grant(&ada, &waiting(&carol_keys, "carol")).expect("grant");
    let mut replayed = to_json(&for_carol);
    replayed["username"] = json!("bob");
    let (code, body) = grant(&app, &admin, &replayed).await;
    assert_eq!(code, StatusCode::CONFLICT);
    assert!(
        message(&body).contains("not sealed to bob's current key"),
        "{body}"
    );
    // A grant for another generation is refused.
    let mut stale = right.clone();
    stale["generation"] = json!(2);
    let (code, body) = grant(&app, &admin, &stale).await;
    assert_eq!(code, StatusCode::CONFLICT);
    assert!(
        message(&body).contains("changed since you unlocked"),
        "{body}"
    );
    // A public key that is not a valid point is a 400.
    let mut bad_point = right.clone();
    bad_point["public_key"] = json!("00".repeat(32));
    let (code, _) = grant(&app, &admin, &bad_point).await;
    assert_eq!(code, StatusCode::BAD_REQUEST);
    // A member with no keys cannot be granted anything.
    app.add_user("dave", Role::Member).await;
    let mut keyless = right.clone();
    keyless["username"] = json!("dave");
    let (code, body) = grant(&app, &admin, &keyless).await;
    assert_eq!(code, StatusCode::CONFLICT);
    assert!(
        message(&body).contains("has not chosen a passphrase"),
        "{body}"
    );
    assert_eq!(key_material(&app).await, stored_with_carol);

    // The right grant lets bob in: his passphrase opens the same library key.
    let (code, body) = grant(&app, &admin, &right).await;
    assert_eq!(code, StatusCode::NO_CONTENT, "{body}");
    let bob_status = status(&app, &bob).await;
    let opened = keyring::unlock(BOB_PASSPHRASE, &bob_status).expect("bob unlocks");
    assert_eq!(opened.library_key.as_bytes(), ada.library_key.as_bytes());
    let admin_view = status(&app, &admin).await;
    assert_eq!(
        admin_view
            .waiting
            .iter()
            .map(|w| w.username.as_str())
            .collect::<Vec<_>>(),
        ["carol"]
    );
    assert_eq!(admin_view.holders.len(), 2);

    // A grant sealed for another generation does not open on bob's side: his client says so.
    let wrong_generation =
        seal_library_key(&bob_keys.public_key, &ada.library_key, 2).expect("seal");
    let tampered = LibraryStatus {
        my_grant: Some(wrong_generation),
        ..bob_status
    };
    assert_eq!(
        keyring::open_library(&bob_secret, &tampered).unwrap_err(),
        KeyringError::StaleGrant
    );
}

#[tokio::test]
async fn own_passphrase_changes_by_compare_and_swap_and_forgetting_it_means_waiting_again() {
    let app = TestApp::spawn().await;
    let admin = app.signed_in("ada", Role::Admin).await;
    let (ada, _) = create_library(&app, &admin).await;
    let bob = app.signed_in("bob", Role::Member).await;

    // Bob's first keys: he waits.
    let (keys, _) = keyring::new_member_keys(BOB_PASSPHRASE).expect("keys");
    let (code, _, body) = app
        .call(
            Method::PUT,
            "/api/library/me",
            Some(&bob),
            Some(json!({ "keys": keys })),
        )
        .await;
    assert_eq!(code, StatusCode::OK, "{body}");
    // Granting himself is only for converting from a shared passphrase.
    let self_grant = seal_library_key(&keys.public_key, &ada.library_key, 1).expect("seal");
    let stored = key_material(&app).await;
    let (code, _, body) = app
        .call(
            Method::PUT,
            "/api/library/me",
            Some(&bob),
            Some(json!({ "keys": keys, "self_grant": self_grant })),
        )
        .await;
    assert_eq!(code, StatusCode::FORBIDDEN, "{body}");
    assert_eq!(key_material(&app).await, stored);
    let request = keyring::grant(&ada, &waiting(&keys, "bob")).expect("grant");
    let (code, _) = grant(&app, &admin, &to_json(&request)).await;
    assert_eq!(code, StatusCode::NO_CONTENT);

    // Change: same key pair, new passphrase; the old wrapping is the compare-and-swap.
    let seen = status(&app, &bob).await;
    let me = seen.me.clone().expect("keys");
    let change =
        keyring::change_passphrase(BOB_PASSPHRASE, "bob's next passphrase", &me).expect("change");
    // The old passphrase is checked on the client.
    assert_eq!(
        keyring::change_passphrase("not it", "x", &me).unwrap_err(),
        KeyringError::WrongPassphrase
    );
    let (code, _, body) = app
        .call(
            Method::PUT,
            "/api/library/me/passphrase",
            Some(&bob),
            Some(to_json(&change)),
        )
        .await;
    assert_eq!(code, StatusCode::OK, "{body}");
    let after = status(&app, &bob).await;
    let opened = keyring::unlock("bob's next passphrase", &after).expect("unlock");
    assert_eq!(opened.library_key.as_bytes(), ada.library_key.as_bytes());
    assert_eq!(after.me.as_ref().expect("keys").public_key, me.public_key);
    // Replaying the same change (its expected wrapping is stale now) is refused.
    let stored = key_material(&app).await;
    let (code, _, body) = app
        .call(
            Method::PUT,
            "/api/library/me/passphrase",
            Some(&bob),
            Some(to_json(&change)),
        )
        .await;
    assert_eq!(code, StatusCode::CONFLICT);
    assert!(
        message(&body).contains("changed since you unlocked"),
        "{body}"
    );
    assert_eq!(key_material(&app).await, stored);

    // Forgot it: new keys replace the old ones and the grant goes; bob waits again.
    let (fresh, _) = keyring::new_member_keys("bob starts over").expect("keys");
    let (code, _, body) = app
        .call(
            Method::PUT,
            "/api/library/me",
            Some(&bob),
            Some(json!({ "keys": fresh })),
        )
        .await;
    assert_eq!(code, StatusCode::OK, "{body}");
    let reset = status(&app, &bob).await;
    assert!(reset.my_grant.is_none());
    assert_eq!(
        keyring::unlock("bob starts over", &reset).unwrap_err(),
        KeyringError::NotGranted
    );
    let admin_view = status(&app, &admin).await;
    assert_eq!(admin_view.waiting[0].public_key, fresh.public_key);
    // The old grant request (to his old key) is refused now.
    let (code, _) = grant(&app, &admin, &to_json(&request)).await;
    assert_eq!(code, StatusCode::CONFLICT);
}

#[tokio::test]
async fn the_recovery_key_restores_an_admin_once_per_challenge() {
    let app = TestApp::spawn().await;
    let admin = app.signed_in("ada", Role::Admin).await;
    let (ada, words) = create_library(&app, &admin).await;
    let other_admin = app.signed_in("root", Role::Admin).await;

    // An admin who cannot open the library cannot replace its recovery key.
    let (replacement, _) = keyring::new_recovery(&ada).expect("recovery");
    let stored = key_material(&app).await;
    let (code, _, body) = app
        .call(
            Method::POST,
            "/api/library/recovery",
            Some(&other_admin),
            Some(to_json(&replacement)),
        )
        .await;
    assert_eq!(code, StatusCode::FORBIDDEN, "{body}");
    assert_eq!(key_material(&app).await, stored);
    let member = app.signed_in("bob", Role::Member).await;
    let (code, _, _) = app
        .call(
            Method::POST,
            "/api/library/recovery/challenge",
            Some(&member),
            None,
        )
        .await;
    assert_eq!(code, StatusCode::FORBIDDEN);

    // Words one off, in the wrong order, or of another recovery key are refused on the client.
    let (code, _, body) = app
        .call(
            Method::POST,
            "/api/library/recovery/challenge",
            Some(&admin),
            None,
        )
        .await;
    assert_eq!(code, StatusCode::OK, "{body}");
    let challenge = serde_json::from_value(body).expect("challenge");
    let mut one_off = words.clone();
    one_off[3] = if one_off[3] == "abandon" {
        "ability"
    } else {
        "abandon"
    }
    .to_owned();
    assert!(matches!(
        keyring::recover(&one_off.join(" "), &challenge, "x").unwrap_err(),
        KeyringError::Phrase(_)
    ));
    let mut swapped = words.clone();
    swapped.swap(0, 1);
    if swapped != words {
        assert!(keyring::recover(&swapped.join(" "), &challenge, "x").is_err());
    }
    assert!(matches!(
        keyring::recover(&words[..23].join(" "), &challenge, "x").unwrap_err(),
        KeyringError::Phrase(_)
    ));

    // A wrong answer is refused and uses the challenge up; nothing changes.
    let (mut restore, _) =
        keyring::recover(&words.join(" "), &challenge, "ada's new passphrase").expect("recover");
    let right_answer = restore.answer.clone();
    restore.answer = "ab".repeat(32);
    let (code, _, body) = app
        .call(
            Method::POST,
            "/api/library/recovery/restore",
            Some(&admin),
            Some(to_json(&restore)),
        )
        .await;
    assert_eq!(code, StatusCode::FORBIDDEN, "{body}");
    assert!(message(&body).contains("did not match"), "{body}");
    restore.answer = right_answer;
    let (code, _, body) = app
        .call(
            Method::POST,
            "/api/library/recovery/restore",
            Some(&admin),
            Some(to_json(&restore)),
        )
        .await;
    assert_eq!(code, StatusCode::CONFLICT, "{body}");
    assert_eq!(key_material(&app).await, stored);

    // An expired challenge is refused.
    let (_, _, body) = app
        .call(
            Method::POST,
            "/api/library/recovery/challenge",
            Some(&admin),
            None,
        )
        .await;
    let challenge = serde_json::from_value(body).expect("challenge");
    let (restore, _) =
        keyring::recover(&words.join(" "), &challenge, "ada's new passphrase").expect("recover");
    sqlx::query("UPDATE recovery_challenges SET expires_at = 1")
        .execute(&app.state.db)
        .await
        .expect("expire");
    let (code, _, body) = app
        .call(
            Method::POST,
            "/api/library/recovery/restore",
            Some(&admin),
            Some(to_json(&restore)),
        )
        .await;
    assert_eq!(code, StatusCode::CONFLICT);
    assert!(message(&body).contains("expired"), "{body}");
    assert_eq!(key_material(&app).await, stored);

    // The right words, in time: new keys, a grant, the same library key. Used once only.
    let (_, _, body) = app
        .call(
            Method::POST,
            "/api/library/recovery/challenge",
            Some(&admin),
            None,
        )
        .await;
    let challenge = serde_json::from_value(body).expect("challenge");
    let (restore, _) =
        keyring::recover(&words.join(" "), &challenge, "ada's new passphrase").expect("recover");
    let (code, _, body) = app
        .call(
            Method::POST,
            "/api/library/recovery/restore",
            Some(&admin),
            Some(to_json(&restore)),
        )
        .await;
    assert_eq!(code, StatusCode::OK, "{body}");
    let restored: LibraryStatus = serde_json::from_value(body).expect("status");
    let unlocked = keyring::unlock("ada's new passphrase", &restored).expect("unlock");
    assert_eq!(unlocked.library_key.as_bytes(), ada.library_key.as_bytes());
    assert_eq!(
        keyring::unlock(ADMIN_PASSPHRASE, &restored).unwrap_err(),
        KeyringError::WrongPassphrase
    );
    let (code, _, _) = app
        .call(
            Method::POST,
            "/api/library/recovery/restore",
            Some(&admin),
            Some(to_json(&restore)),
        )
        .await;
    assert_eq!(code, StatusCode::CONFLICT);

    // The admin who holds the key may replace the recovery key; the old words stop working.
    let (code, _, body) = app
        .call(
            Method::POST,
            "/api/library/recovery",
            Some(&admin),
            Some(to_json(&replacement)),
        )
        .await;
    assert_eq!(code, StatusCode::NO_CONTENT, "{body}");
    let (_, _, body) = app
        .call(
            Method::POST,
            "/api/library/recovery/challenge",
            Some(&admin),
            None,
        )
        .await;
    let challenge = serde_json::from_value(body).expect("challenge");
    assert_eq!(
        keyring::recover(&words.join(" "), &challenge, "x").unwrap_err(),
        KeyringError::NotThisLibrary
    );
}

#[tokio::test]
async fn a_shared_passphrase_library_converts_member_by_member_then_drops_it() {
    let app = TestApp::spawn().await;
    let ada = app.signed_in("ada", Role::Admin).await;
    let bob = app.signed_in("bob", Role::Member).await;
    // A library as made before member keys: only the shared passphrase's wrapping.
    let library_key = cloister_shared::LibraryKey::generate().expect("key");
    let params = cloister_shared::KdfParams::default();
    let pk = cloister_shared::PassphraseKey::derive(b"old shared passphrase", &[9; 16], &params)
        .expect("derive");
    let wrapped = cloister_shared::wrap_library_key(&pk, &library_key).expect("wrap");
    sqlx::query(
        "INSERT INTO library (id, key_generation, shared_kdf_salt, shared_kdf_m_cost_kib,
                              shared_kdf_t_cost, shared_kdf_p_cost, shared_wrapped_library_key,
                              created_at, updated_at)
         VALUES (1, 1, $1, $2, $3, $4, $5, 0, 0)",
    )
    .bind([9u8; 16].as_slice())
    .bind(i64::from(params.m_cost_kib))
    .bind(i64::from(params.t_cost))
    .bind(i64::from(params.p_cost))
    .bind(wrapped.to_bytes().as_slice())
    .execute(&app.state.db)
    .await
    .expect("old library");

    let seen = status(&app, &ada).await;
    assert_eq!(seen.mode, LibraryMode::Shared);
    let shared = seen.shared.clone().expect("shared");
    assert_eq!(
        keyring::unlock_shared("wrong", &shared, 1).unwrap_err(),
        KeyringError::WrongPassphrase
    );
    let opened = keyring::unlock_shared("old shared passphrase", &shared, 1).expect("shared");
    let (convert, ada_unlocked) =
        keyring::convert_from_shared(&opened, ADMIN_PASSPHRASE).expect("convert");
    let (code, _, body) = app
        .call(
            Method::PUT,
            "/api/library/me",
            Some(&ada),
            Some(to_json(&convert)),
        )
        .await;
    assert_eq!(code, StatusCode::OK, "{body}");
    let after: LibraryStatus = serde_json::from_value(body).expect("status");
    assert_eq!(after.mode, LibraryMode::Shared, "bob has not converted yet");
    let unlocked = keyring::unlock(ADMIN_PASSPHRASE, &after).expect("own passphrase");
    assert_eq!(unlocked.library_key.as_bytes(), library_key.as_bytes());
    // The first admin to convert sets a recovery key.
    let (recovery, _) = keyring::new_recovery(&ada_unlocked).expect("recovery");
    let (code, _, _) = app
        .call(
            Method::POST,
            "/api/library/recovery",
            Some(&ada),
            Some(to_json(&recovery)),
        )
        .await;
    assert_eq!(code, StatusCode::NO_CONTENT);
    // Converting again is refused.
    let stored = key_material(&app).await;
    let (code, _, _) = app
        .call(
            Method::PUT,
            "/api/library/me",
            Some(&ada),
            Some(to_json(&convert)),
        )
        .await;
    assert_eq!(code, StatusCode::CONFLICT);
    assert_eq!(key_material(&app).await, stored);

    // Bob converts on his unlock: the shared passphrase is then gone.
    let bob_seen = status(&app, &bob).await;
    let opened = keyring::unlock_shared(
        "old shared passphrase",
        bob_seen.shared.as_ref().expect("shared"),
        1,
    )
    .expect("shared");
    let (convert, _) = keyring::convert_from_shared(&opened, BOB_PASSPHRASE).expect("convert");
    let (code, _, body) = app
        .call(
            Method::PUT,
            "/api/library/me",
            Some(&bob),
            Some(to_json(&convert)),
        )
        .await;
    assert_eq!(code, StatusCode::OK, "{body}");
    let done = status(&app, &bob).await;
    assert_eq!(done.mode, LibraryMode::Members);
    assert!(done.shared.is_none());
    let bob_unlocked = keyring::unlock(BOB_PASSPHRASE, &done).expect("bob");
    assert_eq!(bob_unlocked.library_key.as_bytes(), library_key.as_bytes());
    let gone: Option<Vec<u8>> =
        sqlx::query_scalar("SELECT shared_wrapped_library_key FROM library")
            .fetch_one(&app.state.db)
            .await
            .expect("row");
    assert!(gone.is_none());
}

#[tokio::test]
async fn an_upload_must_be_under_the_current_key_generation() {
    let app = TestApp::spawn().await;
    let admin = app.signed_in("ada", Role::Admin).await;
    create_library(&app, &admin).await;
    let file = SealedFile::new(1000);
    let mut body = file.create_body();
    body["key_generation"] = json!(2);
    let (code, _, answer) = app
        .call(Method::POST, "/api/uploads", Some(&admin), Some(body))
        .await;
    assert_eq!(code, StatusCode::CONFLICT);
    assert_eq!(
        message(&answer),
        "The library key has changed since you unlocked. Unlock again and retry."
    );
    let count: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM videos")
        .fetch_one(&app.state.db)
        .await
        .expect("count");
    assert_eq!(count, 0);

    let (code, answer) = app.create_upload(&admin, &file).await;
    assert_eq!(code, StatusCode::CREATED, "{answer}");
    let stored: i64 = sqlx::query_scalar("SELECT key_generation FROM videos WHERE id = $1")
        .bind(file.id.to_string())
        .fetch_one(&app.state.db)
        .await
        .expect("generation");
    assert_eq!(stored, 1);

    // After a key change (generation 2), an upload under generation 1 is refused.
    sqlx::query("UPDATE library SET key_generation = 2")
        .execute(&app.state.db)
        .await
        .expect("bump");
    let late = SealedFile::new(1000);
    let (code, answer) = app.create_upload(&admin, &late).await;
    assert_eq!(code, StatusCode::CONFLICT, "{answer}");
}
