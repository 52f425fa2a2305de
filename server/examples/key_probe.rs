//! For the rotation end-to-end test (end2end/tests/rotation.spec.ts): what a removed member could
//! do with the key material they kept. Reads one JSON object on stdin (secrets never in argv):
//!
//! - `{"open_grant": {"secret": hex, "sealed": hex, "generation": n}}` prints the library key
//!   (hex) the member's private key opens from their grant;
//! - `{"open_dek": {"library_key": hex, "video_id": hex, "wrapped_dek": hex}}` prints `opens` or
//!   `does not open`.

use std::io::Read;

use cloister_shared::crypto::member::{open_library_key, MemberSecretKey, SealedLibraryKey};
use cloister_shared::{unwrap_dek, LibraryKey, VideoId, WrappedKey};
use serde::Deserialize;

#[derive(Deserialize)]
#[serde(rename_all = "snake_case")]
enum Probe {
    OpenGrant {
        secret: String,
        sealed: SealedLibraryKey,
        generation: u32,
    },
    OpenDek {
        library_key: String,
        video_id: VideoId,
        wrapped_dek: WrappedKey,
    },
}

fn key_bytes(hex_key: &str) -> Result<[u8; 32], String> {
    let mut bytes = [0u8; 32];
    hex::decode_to_slice(hex_key, &mut bytes).map_err(|err| format!("bad key: {err}"))?;
    Ok(bytes)
}

fn main() -> Result<(), String> {
    let mut input = String::new();
    std::io::stdin()
        .read_to_string(&mut input)
        .map_err(|err| err.to_string())?;
    let probe: Probe = serde_json::from_str(&input).map_err(|err| err.to_string())?;
    match probe {
        Probe::OpenGrant {
            secret,
            sealed,
            generation,
        } => {
            let secret = MemberSecretKey::from_bytes(key_bytes(&secret)?);
            let key = open_library_key(&secret, &sealed, generation)
                .map_err(|err| format!("the grant does not open: {err}"))?;
            println!("{}", hex::encode(key.as_bytes()));
        }
        Probe::OpenDek {
            library_key,
            video_id,
            wrapped_dek,
        } => {
            let key = LibraryKey::from_bytes(key_bytes(&library_key)?);
            let opens = unwrap_dek(&key, &video_id, &wrapped_dek).is_ok();
            println!("{}", if opens { "opens" } else { "does not open" });
        }
    }
    Ok(())
}
