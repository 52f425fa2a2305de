//! Server custody of a DEK (docs/format.md): while a job needs it, the DEK is kept at rest wrapped
//! under `server.key` with AES-256-GCM, the video id bound in the associated data so a wrapped
//! DEK cannot be moved to another video's job. The worker unwraps it and erases the row's copy
//! when the job ends.

use aes_gcm::aead::{Aead, KeyInit, Payload};
use aes_gcm::Aes256Gcm;
use cloister_shared::crypto::random;
use cloister_shared::{Dek, VideoId};
use zeroize::Zeroizing;

use crate::data_dir::SERVER_KEY_LEN;

const AAD_PREFIX: &[u8] = b"cloister/server-dek/v1";
const NONCE_LEN: usize = 12;

fn aad(video: &VideoId) -> Vec<u8> {
    let mut aad = AAD_PREFIX.to_vec();
    aad.push(0);
    aad.extend_from_slice(video.to_string().as_bytes());
    aad
}

#[derive(Debug, thiserror::Error)]
pub enum CustodyError {
    #[error("the system random number generator failed")]
    Random,
    #[error("a held DEK does not open under the server key (wrong key, or tampered with)")]
    Open,
}

/// nonce (12) ‖ ciphertext (32) ‖ tag (16). A random nonce is safe: the key wraps few DEKs.
pub fn wrap_dek(
    server_key: &[u8; SERVER_KEY_LEN],
    video: &VideoId,
    dek: &Dek,
) -> Result<Vec<u8>, CustodyError> {
    let mut nonce = [0u8; NONCE_LEN];
    random::fill(&mut nonce).map_err(|_| CustodyError::Random)?;
    let aad = aad(video);
    let sealed = Aes256Gcm::new(&(*server_key).into())
        .encrypt(
            &nonce.into(),
            Payload {
                msg: dek.as_bytes(),
                aad: &aad,
            },
        )
        .map_err(|_| CustodyError::Random)?;
    let mut out = nonce.to_vec();
    out.extend_from_slice(&sealed);
    Ok(out)
}

pub fn unwrap_dek(
    server_key: &[u8; SERVER_KEY_LEN],
    video: &VideoId,
    wrapped: &[u8],
) -> Result<Dek, CustodyError> {
    if wrapped.len() < NONCE_LEN {
        return Err(CustodyError::Open);
    }
    let (nonce, sealed) = wrapped.split_at(NONCE_LEN);
    let nonce: [u8; NONCE_LEN] = nonce.try_into().map_err(|_| CustodyError::Open)?;
    let aad = aad(video);
    let plain = Aes256Gcm::new(&(*server_key).into())
        .decrypt(
            &nonce.into(),
            Payload {
                msg: sealed,
                aad: &aad,
            },
        )
        .map(Zeroizing::new)
        .map_err(|_| CustodyError::Open)?;
    let bytes: [u8; 32] = plain
        .as_slice()
        .try_into()
        .map_err(|_| CustodyError::Open)?;
    Ok(Dek::from_bytes(bytes))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_held_dek_opens_only_for_its_video_and_key() {
        let key = [4u8; SERVER_KEY_LEN];
        let video = VideoId::from_bytes([1; 16]);
        let dek = Dek::from_bytes([9; 32]);
        let wrapped = wrap_dek(&key, &video, &dek).expect("wrap");
        assert_eq!(wrapped.len(), 60);
        let back = unwrap_dek(&key, &video, &wrapped).expect("unwrap");
        assert_eq!(back.as_bytes(), dek.as_bytes());
        assert!(unwrap_dek(&key, &VideoId::from_bytes([2; 16]), &wrapped).is_err());
        assert!(unwrap_dek(&[5u8; SERVER_KEY_LEN], &video, &wrapped).is_err());
        assert!(unwrap_dek(&key, &video, &wrapped[..10]).is_err());
    }
}
