use cloister_shared::crypto::keys::{
    unwrap_dek, unwrap_library_key, wrap_dek, wrap_library_key, Dek, KdfParams, LibraryKey,
    PassphraseKey, WrappedKey,
};
use cloister_shared::{CryptoError, VideoId};

const SALT: [u8; 16] = *b"0123456789abcdef";

fn pk(passphrase: &str) -> PassphraseKey {
    PassphraseKey::derive(passphrase.as_bytes(), &SALT, &KdfParams::default()).unwrap()
}

#[test]
fn default_params_are_the_floor() {
    let p = KdfParams::default();
    assert_eq!((p.m_cost_kib, p.t_cost, p.p_cost), (65536, 3, 1));
    assert_eq!(p.validate(), Ok(()));
}

#[test]
fn kdf_params_below_floor_or_absurd_are_refused() {
    let d = KdfParams::default();
    let bad = [
        KdfParams {
            m_cost_kib: 65535,
            ..d
        },
        KdfParams { t_cost: 2, ..d },
        KdfParams { p_cost: 0, ..d },
        KdfParams {
            m_cost_kib: 1024 * 1024 + 1,
            ..d
        },
        KdfParams { t_cost: 21, ..d },
        KdfParams { p_cost: 9, ..d },
        KdfParams {
            m_cost_kib: 0,
            t_cost: 0,
            p_cost: 0,
        },
    ];
    for p in bad {
        assert_eq!(p.validate(), Err(CryptoError::BadKdfParams), "{p:?}");
        // derive must refuse before doing any work.
        assert_eq!(
            PassphraseKey::derive(b"pw", &SALT, &p).map(|_| ()),
            Err(CryptoError::BadKdfParams)
        );
    }
    let max = KdfParams {
        m_cost_kib: 1024 * 1024,
        t_cost: 20,
        p_cost: 8,
    };
    assert_eq!(max.validate(), Ok(()));
}

#[test]
fn kdf_params_serde_round_trip() {
    let p = KdfParams::default();
    let json = serde_json::to_string(&p).unwrap();
    assert_eq!(serde_json::from_str::<KdfParams>(&json).unwrap(), p);
}

#[test]
fn library_key_round_trips_and_wrong_passphrase_is_detected() {
    let lk = LibraryKey::generate().unwrap();
    let wrapped = wrap_library_key(&pk("right"), &lk).unwrap();
    let opened = unwrap_library_key(&pk("right"), &wrapped).unwrap();
    assert_eq!(opened.as_bytes(), lk.as_bytes());
    assert_eq!(
        unwrap_library_key(&pk("wrong"), &wrapped).map(|_| ()),
        Err(CryptoError::WrongPassphrase)
    );
}

#[test]
fn wrapping_twice_uses_fresh_nonces() {
    let lk = LibraryKey::generate().unwrap();
    let dek = Dek::generate().unwrap();
    let v = VideoId::random().unwrap();
    assert_ne!(
        wrap_dek(&lk, &v, &dek).unwrap(),
        wrap_dek(&lk, &v, &dek).unwrap()
    );
}

#[test]
fn passphrase_change_rewraps_only_the_library_key() {
    let lk = LibraryKey::generate().unwrap();
    let old = wrap_library_key(&pk("old"), &lk).unwrap();
    let v = VideoId::random().unwrap();
    let dek = Dek::generate().unwrap();
    let wrapped_dek = wrap_dek(&lk, &v, &dek).unwrap();

    // Change: open with the old passphrase, wrap under the new one.
    let lk_again = unwrap_library_key(&pk("old"), &old).unwrap();
    let new = wrap_library_key(&pk("new"), &lk_again).unwrap();

    let lk_new = unwrap_library_key(&pk("new"), &new).unwrap();
    let dek_again = unwrap_dek(&lk_new, &v, &wrapped_dek).unwrap();
    assert_eq!(dek_again.as_bytes(), dek.as_bytes());
    assert!(unwrap_library_key(&pk("old"), &new).is_err());
}

#[test]
fn dek_is_bound_to_its_video_and_library_key() {
    let lk = LibraryKey::generate().unwrap();
    let (v1, v2) = (VideoId::random().unwrap(), VideoId::random().unwrap());
    let dek = Dek::generate().unwrap();
    let w = wrap_dek(&lk, &v1, &dek).unwrap();
    assert_eq!(unwrap_dek(&lk, &v1, &w).unwrap().as_bytes(), dek.as_bytes());
    assert_eq!(
        unwrap_dek(&lk, &v2, &w).map(|_| ()),
        Err(CryptoError::Decrypt)
    );
    let other = LibraryKey::generate().unwrap();
    assert_eq!(
        unwrap_dek(&other, &v1, &w).map(|_| ()),
        Err(CryptoError::Decrypt)
    );
    // Every single bit flip is caught.
    let bytes = w.to_bytes();
    for i in 0..bytes.len() * 8 {
        let mut b = bytes;
        b[i / 8] ^= 1 << (i % 8);
        let w2 = WrappedKey::from_bytes(&b).unwrap();
        assert!(unwrap_dek(&lk, &v1, &w2).is_err(), "bit {i}");
    }
}

#[test]
fn wrapped_key_encoding_is_length_checked() {
    let lk = LibraryKey::generate().unwrap();
    let w = wrap_dek(&lk, &VideoId::random().unwrap(), &Dek::generate().unwrap()).unwrap();
    assert_eq!(w.to_bytes().len(), 60);
    assert_eq!(WrappedKey::from_bytes(&w.to_bytes()).unwrap(), w);
    assert_eq!(WrappedKey::from_hex(&w.to_hex()).unwrap(), w);
    assert_eq!(
        WrappedKey::from_bytes(&[0; 59]),
        Err(CryptoError::BadWrappedKey)
    );
    assert_eq!(
        WrappedKey::from_bytes(&[0; 61]),
        Err(CryptoError::BadWrappedKey)
    );
    assert_eq!(WrappedKey::from_hex("zz"), Err(CryptoError::BadWrappedKey));
    assert_eq!(
        WrappedKey::from_hex(&w.to_hex()[2..]),
        Err(CryptoError::BadWrappedKey)
    );
    let json = serde_json::to_string(&w).unwrap();
    assert_eq!(serde_json::from_str::<WrappedKey>(&json).unwrap(), w);
}

#[test]
fn debug_never_prints_key_bytes() {
    let dek = Dek::from_bytes([0x41; 32]);
    assert_eq!(format!("{dek:?}"), "Dek(..)");
    assert_eq!(
        format!("{:?}", LibraryKey::from_bytes([7; 32])),
        "LibraryKey(..)"
    );
}

/// The block cipher under every AES-256-GCM key (stream chunks, key wrapping) is built with its
/// `zeroize` feature: the expanded round keys are wiped when a cipher is dropped. Without the
/// feature this does not compile.
#[test]
fn aes_round_keys_are_wiped_on_drop() {
    fn wiped_on_drop<T: zeroize::ZeroizeOnDrop>() {}
    wiped_on_drop::<aes::Aes256>();
}
