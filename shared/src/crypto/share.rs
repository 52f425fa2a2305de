//! Share links (docs/format.md, "Share links"): `/s/<share id>#<secret>`.
//!
//! The browser makes a share id and a secret, derives a wrapping key from the secret with HKDF,
//! and wraps the video's DEK under it with the share id and the video id as associated data. The
//! server stores the share id and the wrapped key; the secret stays in the URL fragment, which a
//! browser never sends. So whoever holds the whole link can open the video, and the server cannot.

use std::fmt;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use hkdf::Hkdf;
use sha2::Sha256;
use zeroize::{Zeroize, ZeroizeOnDrop, Zeroizing};

use super::keys::{self, Dek, WrappedKey, KEY_LEN};
use super::{random, CryptoError};
pub use crate::ids::ShareId;
use crate::ids::VideoId;

/// HKDF info of the wrapping key: its own label, so a secret is never a key for anything else.
const WRAPPING_KEY_INFO: &[u8] = b"cloister/share-wrapping-key/v1";
/// Prefix of the associated data of a share's wrapped DEK.
const SHARE_DEK_AAD_PREFIX: &[u8] = b"cloister/share-dek/v1";

/// The secret in a share link's fragment: 32 random bytes (256 bits), written base64url without
/// padding (43 characters). Made in the browser; never sent to the server.
#[derive(Clone, Zeroize, ZeroizeOnDrop)]
pub struct ShareSecret([u8; ShareSecret::LEN]);

impl ShareSecret {
    pub const LEN: usize = 32;
    /// Characters of the base64url form.
    pub const ENCODED_LEN: usize = 43;

    pub fn generate() -> Result<Self, CryptoError> {
        random::array().map(Self)
    }

    pub fn from_bytes(bytes: [u8; Self::LEN]) -> Self {
        Self(bytes)
    }

    /// For the URL fragment.
    pub fn to_base64url(&self) -> String {
        URL_SAFE_NO_PAD.encode(self.0)
    }

    /// Exactly the 43 characters `to_base64url` writes (surrounding whitespace from a paste is
    /// trimmed); anything else — a cut-off or altered link — is `BadShareSecret`.
    pub fn from_base64url(s: &str) -> Result<Self, CryptoError> {
        let s = s.trim();
        if s.len() != Self::ENCODED_LEN {
            return Err(CryptoError::BadShareSecret);
        }
        let bytes = Zeroizing::new(
            URL_SAFE_NO_PAD
                .decode(s)
                .map_err(|_| CryptoError::BadShareSecret)?,
        );
        let bytes: [u8; Self::LEN] = bytes
            .as_slice()
            .try_into()
            .map_err(|_| CryptoError::BadShareSecret)?;
        Ok(Self(bytes))
    }

    /// HKDF-SHA256(ikm = secret, no salt, info = `cloister/share-wrapping-key/v1`).
    fn wrapping_key(&self) -> Zeroizing<[u8; KEY_LEN]> {
        let mut out = Zeroizing::new([0u8; KEY_LEN]);
        // 32 bytes is far below HKDF-SHA256's output limit, so expand cannot fail; the fallback
        // (an all-zero key that opens nothing wrapped by a real one) keeps this free of panics.
        if Hkdf::<Sha256>::new(None, &self.0)
            .expand(WRAPPING_KEY_INFO, out.as_mut())
            .is_err()
        {
            *out = [0u8; KEY_LEN];
        }
        out
    }
}

// Never print the secret.
impl fmt::Debug for ShareSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ShareSecret(..)")
    }
}

/// `cloister/share-dek/v1` ‖ 0 ‖ share id (hex) ‖ 0 ‖ video id (hex): the wrapped key opens only
/// for the share and the video it was made for.
fn share_dek_aad(share: &ShareId, video: &VideoId) -> Vec<u8> {
    let mut aad = SHARE_DEK_AAD_PREFIX.to_vec();
    aad.push(0);
    aad.extend_from_slice(share.to_string().as_bytes());
    aad.push(0);
    aad.extend_from_slice(video.to_string().as_bytes());
    aad
}

/// Wraps `dek` for the share link `share`, under the key derived from `secret`.
pub fn wrap_dek_for_share(
    secret: &ShareSecret,
    share: &ShareId,
    video: &VideoId,
    dek: &Dek,
) -> Result<WrappedKey, CryptoError> {
    keys::wrap(
        &secret.wrapping_key(),
        dek.as_bytes(),
        &share_dek_aad(share, video),
    )
}

/// Opens a share's wrapped DEK; `Decrypt` when the secret, the share id or the video id is not
/// the one it was wrapped for (a tampered or cut link).
pub fn unwrap_dek_for_share(
    secret: &ShareSecret,
    share: &ShareId,
    video: &VideoId,
    wrapped: &WrappedKey,
) -> Result<Dek, CryptoError> {
    keys::unwrap(
        &secret.wrapping_key(),
        wrapped,
        &share_dek_aad(share, video),
    )
    .map(|bytes| Dek::from_bytes(*Zeroizing::new(bytes)))
    .ok_or(CryptoError::Decrypt)
}

/// The fragment of a share link (`#<secret>`), read from `location.hash` with or without its `#`.
pub fn secret_from_fragment(fragment: &str) -> Result<ShareSecret, CryptoError> {
    ShareSecret::from_base64url(fragment.strip_prefix('#').unwrap_or(fragment))
}

/// The path and fragment of a share link: `/s/<share id>#<secret>` (prefix the site's origin).
pub fn link_path(share: &ShareId, secret: &ShareSecret) -> String {
    format!("/s/{share}#{}", secret.to_base64url())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fixed() -> (ShareSecret, ShareId, VideoId, Dek) {
        (
            ShareSecret::from_bytes([7; 32]),
            ShareId::from_bytes([1; 16]),
            VideoId::from_bytes([2; 16]),
            Dek::from_bytes([9; 32]),
        )
    }

    /// Computed independently (Python `cryptography`: HKDF-SHA256 and AES-GCM) from secret
    /// [7; 32], share id [1; 16], video id [2; 16], DEK [9; 32] and nonce 00 01 … 0b.
    const VECTOR_WRAPPING_KEY: &str =
        "31e6658388cea143fee073f99958e80c07a1a980bb0d38e8817f3221824043e9";
    const VECTOR_WRAPPED: &str = "000102030405060708090a0b3298b0f671f2aae928af89d26d4a5b7bf51ebc5a\
                                  a54082a6f9763c2a6a747a284cfae89ea23ee99f692cda8be4de157f";

    #[test]
    fn test_vector_wrapping_key_and_wrapped_dek() {
        let (secret, share, video, dek) = fixed();
        assert_eq!(hex::encode(*secret.wrapping_key()), VECTOR_WRAPPING_KEY);
        let wrapped = WrappedKey::from_hex(VECTOR_WRAPPED).unwrap();
        let opened = unwrap_dek_for_share(&secret, &share, &video, &wrapped).unwrap();
        assert_eq!(opened.as_bytes(), dek.as_bytes());
    }

    #[test]
    fn a_wrapped_dek_opens_with_its_secret_share_and_video() {
        let (secret, share, video, dek) = fixed();
        let wrapped = wrap_dek_for_share(&secret, &share, &video, &dek).unwrap();
        let opened = unwrap_dek_for_share(&secret, &share, &video, &wrapped).unwrap();
        assert_eq!(opened.as_bytes(), dek.as_bytes());
    }

    #[test]
    fn a_tampered_secret_fails() {
        let (secret, share, video, dek) = fixed();
        let wrapped = wrap_dek_for_share(&secret, &share, &video, &dek).unwrap();
        let mut text = secret.to_base64url().into_bytes();
        text[5] = if text[5] == b'A' { b'B' } else { b'A' };
        let tampered = ShareSecret::from_base64url(std::str::from_utf8(&text).unwrap()).unwrap();
        assert_eq!(
            unwrap_dek_for_share(&tampered, &share, &video, &wrapped).err(),
            Some(CryptoError::Decrypt)
        );
    }

    #[test]
    fn a_wrapping_for_one_share_fails_under_another_share_or_video() {
        let (secret, share, video, dek) = fixed();
        let wrapped = wrap_dek_for_share(&secret, &share, &video, &dek).unwrap();
        let other_share = ShareId::from_bytes([3; 16]);
        let other_video = VideoId::from_bytes([4; 16]);
        assert!(unwrap_dek_for_share(&secret, &other_share, &video, &wrapped).is_err());
        assert!(unwrap_dek_for_share(&secret, &share, &other_video, &wrapped).is_err());
    }

    #[test]
    fn the_share_key_is_not_the_library_dek_wrapping() {
        // A share's wrapped key never opens as a library wrapping of the same bytes.
        let (secret, share, video, dek) = fixed();
        let wrapped = wrap_dek_for_share(&secret, &share, &video, &dek).unwrap();
        let as_library = crate::LibraryKey::from_bytes(*secret.wrapping_key());
        assert!(crate::unwrap_dek(&as_library, &video, &wrapped).is_err());
    }

    #[test]
    fn secrets_have_one_spelling_of_43_characters() {
        let secret = ShareSecret::generate().unwrap();
        let text = secret.to_base64url();
        assert_eq!(text.len(), ShareSecret::ENCODED_LEN);
        let again = secret_from_fragment(&format!("#{text}")).unwrap();
        assert_eq!(again.0, secret.0);
        for bad in [
            "",
            "#",
            "abc",
            &text[..42],
            &format!("{text}A"),
            &text.replace(|c: char| c.is_ascii_alphanumeric(), "+"),
        ] {
            assert_eq!(
                secret_from_fragment(bad).err(),
                Some(CryptoError::BadShareSecret),
                "{bad}"
            );
        }
    }

    #[test]
    fn link_path_puts_the_secret_only_in_the_fragment() {
        let (secret, share, _, _) = fixed();
        let link = link_path(&share, &secret);
        let (path, fragment) = link.split_once('#').unwrap();
        assert_eq!(path, format!("/s/{share}"));
        assert_eq!(fragment, secret.to_base64url());
    }
}
