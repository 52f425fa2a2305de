//! Test vectors for keys for people (docs/format.md, "Member keys" and "Recovery key"), computed
//! independently of this crate by `tests/vectors/make_member_keys.py` (Python `cryptography`,
//! PyNaCl, `mnemonic`). The same file runs natively (`cargo test`) and in headless Chromium
//! (wasm), so the browser, the CLI and an outside implementation agree byte for byte.

use cloister_shared::crypto::member::{
    open_challenge, open_library_key, unwrap_previous_library_key, unwrap_private_key,
    MemberPublicKey, MemberSecretKey, SealedChallenge, SealedLibraryKey,
};
use cloister_shared::crypto::recovery::RecoveryKey;
use cloister_shared::crypto::CryptoError;
use cloister_shared::{KdfParams, LibraryKey, PassphraseKey, WrappedKey};
use serde_json::Value;

#[cfg(target_arch = "wasm32")]
wasm_bindgen_test::wasm_bindgen_test_configure!(run_in_browser);

const VECTORS: &str = include_str!("vectors/member-keys.json");

fn vectors() -> Value {
    serde_json::from_str(VECTORS).expect("member-keys.json is JSON")
}

fn bytes(v: &Value, field: &str) -> Vec<u8> {
    hex::decode(v[field].as_str().expect(field)).expect(field)
}

fn key32(v: &Value, field: &str) -> [u8; 32] {
    bytes(v, field).try_into().expect(field)
}

fn secret(v: &Value, field: &str) -> MemberSecretKey {
    MemberSecretKey::from_bytes(key32(v, field))
}

fn sealed(v: &Value, field: &str) -> SealedLibraryKey {
    SealedLibraryKey::from_bytes(&bytes(v, field)).expect(field)
}

#[cfg_attr(not(target_arch = "wasm32"), test)]
#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
fn passphrase_opens_the_member_private_key() {
    let v = vectors();
    let kdf = &v["kdf"];
    let params = KdfParams {
        m_cost_kib: u32::try_from(kdf["m_cost_kib"].as_u64().expect("m")).expect("m"),
        t_cost: u32::try_from(kdf["t_cost"].as_u64().expect("t")).expect("t"),
        p_cost: u32::try_from(kdf["p_cost"].as_u64().expect("p")).expect("p"),
    };
    let salt: [u8; 16] = bytes(kdf, "salt").try_into().expect("salt");
    let passphrase = v["passphrase"].as_str().expect("passphrase");
    let passphrase_key =
        PassphraseKey::derive(passphrase.as_bytes(), &salt, &params).expect("derive");
    assert_eq!(passphrase_key.as_bytes(), &key32(&v, "passphrase_key"));

    let public = MemberPublicKey::from_bytes(&bytes(&v, "member_public_key")).expect("public");
    assert_eq!(secret(&v, "member_secret_key").public_key(), public);
    let wrapped = WrappedKey::from_bytes(&bytes(&v, "wrapped_private_key")).expect("wrapped");
    let opened = unwrap_private_key(&passphrase_key, &public, &wrapped).expect("unwrap");
    assert_eq!(*opened.to_bytes(), key32(&v, "member_secret_key"));

    // Bound to its public key: presented as another member's, it does not open.
    let other = MemberPublicKey::from_bytes(&bytes(&v, "recovery_public_key")).expect("other");
    assert_eq!(
        unwrap_private_key(&passphrase_key, &other, &wrapped).unwrap_err(),
        CryptoError::WrongPassphrase
    );
}

#[cfg_attr(not(target_arch = "wasm32"), test)]
#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
fn the_grant_opens_to_the_library_key_of_its_generation_only() {
    let v = vectors();
    let member = secret(&v, "member_secret_key");
    let grant = sealed(&v, "sealed_library_key");
    let generation = u32::try_from(v["generation"].as_u64().expect("generation")).expect("u32");
    let key = open_library_key(&member, &grant, generation).expect("open");
    assert_eq!(key.as_bytes(), &key32(&v, "library_key"));
    assert_eq!(
        open_library_key(&member, &grant, generation + 1).unwrap_err(),
        CryptoError::WrongGeneration
    );
    // Sealed to the member, not to the recovery key.
    assert_eq!(
        open_library_key(&secret(&v, "recovery_secret_key"), &grant, generation).unwrap_err(),
        CryptoError::Decrypt
    );
}

#[cfg_attr(not(target_arch = "wasm32"), test)]
#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
fn the_previous_library_key_unwraps_under_the_current_one() {
    let v = vectors();
    let current = LibraryKey::from_bytes(key32(&v, "current_library_key"));
    let generation =
        u32::try_from(v["current_generation"].as_u64().expect("generation")).expect("u32");
    let wrapped =
        WrappedKey::from_bytes(&bytes(&v, "wrapped_previous_library_key")).expect("wrapped");
    let previous = unwrap_previous_library_key(&current, generation, &wrapped).expect("unwrap");
    assert_eq!(previous.as_bytes(), &key32(&v, "library_key"));
    assert_eq!(
        unwrap_previous_library_key(&current, generation + 1, &wrapped).unwrap_err(),
        CryptoError::Decrypt
    );
}

#[cfg_attr(not(target_arch = "wasm32"), test)]
#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
fn the_recovery_words_are_bip39_of_the_entropy_and_make_the_recovery_key_pair() {
    let v = vectors();
    let words = v["recovery_words"].as_str().expect("words");
    let from_entropy = RecoveryKey::from_entropy(key32(&v, "recovery_entropy"));
    assert_eq!(from_entropy.words().join(" "), words);
    let parsed = RecoveryKey::parse(words).expect("parse");
    let recovery_secret = parsed.secret_key().expect("secret");
    assert_eq!(
        *recovery_secret.to_bytes(),
        key32(&v, "recovery_secret_key")
    );
    assert_eq!(
        parsed.public_key().expect("public").as_bytes(),
        &key32(&v, "recovery_public_key")
    );

    let key = open_library_key(
        &recovery_secret,
        &sealed(&v, "recovery_sealed_library_key"),
        1,
    )
    .expect("open");
    assert_eq!(key.as_bytes(), &key32(&v, "library_key"));

    let challenge = SealedChallenge::from_bytes(&bytes(&v, "sealed_challenge")).expect("challenge");
    let answer = open_challenge(&recovery_secret, &challenge).expect("answer");
    assert_eq!(answer, key32(&v, "challenge_answer"));
}
