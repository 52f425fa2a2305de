//! The name a download is saved under. The server stores none: it reads the video's own sealed
//! file name (else its title) with the DEK it holds for the download, and only while it holds
//! it, so no plaintext name is ever written to the database (docs/downloads.md).

use cloister_shared::api::downloads::clean_file_name;
use cloister_shared::crypto::stream::open_all;
use cloister_shared::{Dek, Purpose, VideoId};

use super::store::{self, DownloadRow, SealedNames};
use crate::custody;
use crate::error::AppResult;
use crate::state::AppState;

/// The original file name when it was recorded, else the title, else "video"; cleaned for a
/// header and a file system (the browser's own "Save" picks the same).
pub fn open_name(dek: &Dek, video: &VideoId, names: &SealedNames) -> String {
    let open = |sealed: &[u8], purpose: &Purpose| {
        open_all(dek, video, purpose, sealed)
            .ok()
            .map(|plain| String::from_utf8_lossy(&plain).trim().to_owned())
            .filter(|name| !name.is_empty())
    };
    let name = names
        .file_name
        .as_deref()
        .and_then(|sealed| open(sealed, &Purpose::FileName))
        .or_else(|| open(&names.title, &Purpose::Title))
        .unwrap_or_else(|| "video".to_owned());
    clean_file_name(&name)
}

/// The download's name while the server holds its key; empty once the download has ended (the
/// key is erased, so the name can no longer be read).
pub async fn of_row(state: &AppState, row: &DownloadRow) -> AppResult<String> {
    let Some(wrapped) = row.wrapped_dek.as_deref() else {
        return Ok(String::new());
    };
    let video = row.video()?;
    let Ok(dek) = custody::unwrap_dek(&state.server_key, &video, wrapped) else {
        tracing::warn!(download = %row.id, "a held key does not open under the server key");
        return Ok(String::new());
    };
    let names = store::sealed_names(&state.db, &video).await?;
    Ok(open_name(&dek, &video, &names))
}
