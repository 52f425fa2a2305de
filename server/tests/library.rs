//! The library passphrase through the real router: the server stores only salt, parameters and
//! the wrapped library key, refuses a second set-up, and changes the passphrase by
//! compare-and-swap.

mod common;

use axum::http::{Method, StatusCode};
use cloister_shared::api::{KdfInfo, LibraryStatus, Role};
use cloister_shared::{
    unwrap_dek, unwrap_library_key, wrap_dek, wrap_library_key, Dek, KdfParams, LibraryKey,
    PassphraseKey, VideoId, WrappedKey,
};
use common::{message, TestApp};
use serde_json::{json, Value};

fn wrap(passphrase: &str, salt: [u8; 16], key: &LibraryKey) -> (Value, WrappedKey) {
    let params = KdfParams::default();
    let pk = PassphraseKey::derive(passphrase.as_bytes(), &salt, &params).expect("derive");
    let wrapped = wrap_library_key(&pk, key).expect("wrap");
    let kdf = KdfInfo::new(&salt, params);
    (
        json!({"salt_hex": kdf.salt_hex, "params": params, "wrapped_library_key": wrapped}),
        wrapped,
    )
}

async fn library_status(app: &TestApp, cookie: &str) -> LibraryStatus {
    let (status, _, body) = app
        .call(Method::GET, "/api/library", Some(cookie), None)
        .await;
    assert_eq!(status, StatusCode::OK);
    serde_json::from_value(body).expect("library status")
}

#[tokio::test]
async fn a_new_library_is_uninitialised_then_set_up_once_and_readable_by_members() {
    let app = TestApp::spawn().await;
    let admin = app.signed_in("root", Role::Admin).await;
    let member = app.signed_in("bob", Role::Member).await;
    let (_, _, raw) = app
        .call(Method::GET, "/api/library", Some(&member), None)
        .await;
    assert_eq!(raw, json!({"initialized": false}));

    let key = LibraryKey::generate().expect("key");
    let (body, _) = wrap("the first passphrase", [7; 16], &key);
    let (status, _, answer) = app
        .call(Method::POST, "/api/library", Some(&admin), Some(body))
        .await;
    assert_eq!(status, StatusCode::CREATED, "{answer}");

    // A member fetches what is needed to unlock, and the passphrase opens the same key.
    let seen = library_status(&app, &member).await;
    assert!(seen.initialized);
    let kdf = seen.kdf.expect("kdf");
    assert_eq!(kdf.params, KdfParams::default());
    let pk = PassphraseKey::derive(
        b"the first passphrase",
        &kdf.salt().expect("salt"),
        &kdf.params,
    )
    .expect("derive");
    let opened =
        unwrap_library_key(&pk, &seen.wrapped_library_key.expect("wrapped")).expect("unwrap");
    assert_eq!(opened.as_bytes(), key.as_bytes());

    // A second set-up would orphan every video: refused, and nothing changes.
    let (again, _) = wrap(
        "another passphrase",
        [9; 16],
        &LibraryKey::generate().expect("key"),
    );
    let (status, _, answer) = app
        .call(Method::POST, "/api/library", Some(&admin), Some(again))
        .await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert!(message(&answer).contains("orphan every video"), "{answer}");
    assert_eq!(
        library_status(&app, &member)
            .await
            .kdf
            .expect("kdf")
            .salt_hex,
        "07".repeat(16)
    );
}

#[tokio::test]
async fn weak_parameters_and_malformed_salts_or_keys_are_refused() {
    let app = TestApp::spawn().await;
    let admin = app.signed_in("root", Role::Admin).await;
    let key = LibraryKey::generate().expect("key");
    let (good, _) = wrap("a passphrase", [1; 16], &key);

    let mut weak = good.clone();
    weak["params"] = json!({"m_cost_kib": 8192, "t_cost": 1, "p_cost": 1});
    let (status, _, body) = app
        .call(Method::POST, "/api/library", Some(&admin), Some(weak))
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(
        message(&body).contains("key-derivation parameters"),
        "{body}"
    );

    for salt in ["00".repeat(15), "00".repeat(17), "zz".repeat(16)] {
        let mut bad = good.clone();
        bad["salt_hex"] = json!(salt);
        let (status, _, body) = app
            .call(Method::POST, "/api/library", Some(&admin), Some(bad))
            .await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{salt}");
        assert!(
            message(&body).contains("salt_hex must be 16 bytes"),
            "{body}"
        );
    }

    let mut short = good.clone();
    short["wrapped_library_key"] = json!("00".repeat(WrappedKey::LEN - 1));
    let (status, _, body) = app
        .call(Method::POST, "/api/library", Some(&admin), Some(short))
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(
        message(&body).contains("wrapped key is malformed"),
        "{body}"
    );

    // None of that initialised anything.
    assert!(!library_status(&app, &admin).await.initialized);
}

#[tokio::test]
async fn changing_the_passphrase_is_compare_and_swap_and_keeps_the_library_key() {
    let app = TestApp::spawn().await;
    let admin = app.signed_in("root", Role::Admin).await;
    let key = LibraryKey::generate().expect("key");
    let (body, old_wrapped) = wrap("old passphrase", [3; 16], &key);
    app.call(Method::POST, "/api/library", Some(&admin), Some(body))
        .await;

    // A video key wrapped under the library key before the change...
    let video = VideoId::random().expect("id");
    let dek = Dek::generate().expect("dek");
    let wrapped_dek = wrap_dek(&key, &video, &dek).expect("wrap dek");

    // A stale expected value (someone else changed it since) is refused.
    let (mut change, _) = wrap("new passphrase", [4; 16], &key);
    let stale = wrap("old passphrase", [3; 16], &key).1;
    change["expected_wrapped_library_key"] = json!(stale);
    let (status, _, answer) = app
        .call(
            Method::PUT,
            "/api/library/passphrase",
            Some(&admin),
            Some(change.clone()),
        )
        .await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert!(
        message(&answer).contains("changed since you unlocked it"),
        "{answer}"
    );

    change["expected_wrapped_library_key"] = json!(old_wrapped);
    let (status, _, answer) = app
        .call(
            Method::PUT,
            "/api/library/passphrase",
            Some(&admin),
            Some(change),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{answer}");

    // ...still unwraps with the library key opened by the new passphrase; the old one fails.
    let now = library_status(&app, &admin).await;
    let kdf = now.kdf.expect("kdf");
    let wrapped = now.wrapped_library_key.expect("wrapped");
    let salt = kdf.salt().expect("salt");
    let new_pk = PassphraseKey::derive(b"new passphrase", &salt, &kdf.params).expect("derive");
    let opened = unwrap_library_key(&new_pk, &wrapped).expect("new passphrase opens it");
    assert_eq!(
        unwrap_dek(&opened, &video, &wrapped_dek)
            .expect("dek")
            .as_bytes(),
        dek.as_bytes()
    );
    let old_pk = PassphraseKey::derive(b"old passphrase", &salt, &kdf.params).expect("derive");
    assert!(unwrap_library_key(&old_pk, &wrapped).is_err());

    // Replaying the same change (its expected value is now stale) is refused too.
    let (mut replay, _) = wrap("third passphrase", [5; 16], &key);
    replay["expected_wrapped_library_key"] = json!(old_wrapped);
    let (status, _, _) = app
        .call(
            Method::PUT,
            "/api/library/passphrase",
            Some(&admin),
            Some(replay),
        )
        .await;
    assert_eq!(status, StatusCode::CONFLICT);
}

#[tokio::test]
async fn changing_the_passphrase_of_an_uninitialised_library_is_409() {
    let app = TestApp::spawn().await;
    let admin = app.signed_in("root", Role::Admin).await;
    let key = LibraryKey::generate().expect("key");
    let (mut change, wrapped) = wrap("new passphrase", [4; 16], &key);
    change["expected_wrapped_library_key"] = json!(wrapped);
    let (status, _, answer) = app
        .call(
            Method::PUT,
            "/api/library/passphrase",
            Some(&admin),
            Some(change),
        )
        .await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert!(message(&answer).contains("no passphrase yet"), "{answer}");
}
