//! "Download from server": the server decrypts with the key this tab hands it for one download.
//! Ready → the file download starts; busy (503 `download_busy`) → the member chooses between
//! queueing and trying again; queued → a line with the position and Cancel, and a toast later.

use cloister_shared::api::downloads::{
    DownloadInfo, DownloadState, StartDownloadRequest, DOWNLOAD_BUSY_CODE,
};
use cloister_shared::{Dek, VideoId};

use crate::api;

#[derive(Debug, Clone, PartialEq)]
pub enum ServerState {
    Idle,
    Asking,
    /// The gate is closed or every slot is taken: Queue download or Try now.
    Busy(String),
    Queued {
        download_id: String,
        position: Option<u64>,
    },
    /// The file download was started (or can be, from `url`).
    Ready {
        url: String,
    },
    Cancelled,
    Failed(String),
}

impl ServerState {
    pub fn from_info(info: &DownloadInfo) -> Self {
        match info.state {
            DownloadState::Queued => Self::Queued {
                download_id: info.download_id.clone(),
                position: info.queue_position,
            },
            DownloadState::Ready => match &info.url {
                Some(url) => Self::Ready { url: url.clone() },
                None => Self::Failed(
                    "The server said the download is ready but gave no link. Try again.".to_owned(),
                ),
            },
            DownloadState::Done => Self::Idle,
            DownloadState::Cancelled => Self::Cancelled,
            DownloadState::Expired => Self::Failed(
                "The download link expired before it was used. Start the download again."
                    .to_owned(),
            ),
        }
    }
}

/// Asks the server for a download of `video` (queued if `queue` and it cannot start now).
pub async fn request(video: VideoId, dek: &Dek, file_name: &str, queue: bool) -> ServerState {
    let request = StartDownloadRequest {
        // The key travels only in the body of this POST: never in a URL, never logged.
        dek: hex::encode(dek.as_bytes()),
        file_name: file_name.to_owned(),
        queue,
    };
    match api::start_download(&video, &request).await {
        Ok(info) => ServerState::from_info(&info),
        Err(err) if err.code == DOWNLOAD_BUSY_CODE => ServerState::Busy(err.message),
        Err(err) => ServerState::Failed(err.message),
    }
}

pub async fn cancel(download_id: &str) -> ServerState {
    match api::cancel_download(download_id).await {
        Ok(info) => ServerState::from_info(&info),
        Err(err) => ServerState::Failed(err.message),
    }
}

/// The download's state now (after an event said it changed).
pub async fn refresh(download_id: &str) -> Option<ServerState> {
    api::download(download_id)
        .await
        .ok()
        .map(|info| ServerState::from_info(&info))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn info(state: DownloadState) -> DownloadInfo {
        DownloadInfo {
            download_id: "ab".repeat(16),
            video_id: VideoId::from_bytes([1; 16]),
            state,
            file_name: "a.mp4".to_owned(),
            size_bytes: 10,
            created_at: 0,
            expires_at: None,
            url: None,
            queue_position: Some(2),
        }
    }

    #[test]
    fn answers_become_states() {
        assert_eq!(
            ServerState::from_info(&info(DownloadState::Queued)),
            ServerState::Queued {
                download_id: "ab".repeat(16),
                position: Some(2)
            }
        );
        let mut ready = info(DownloadState::Ready);
        ready.url = Some("/api/downloads/x/file".to_owned());
        assert_eq!(
            ServerState::from_info(&ready),
            ServerState::Ready {
                url: "/api/downloads/x/file".to_owned()
            }
        );
        assert!(matches!(
            ServerState::from_info(&info(DownloadState::Ready)),
            ServerState::Failed(_)
        ));
        assert_eq!(
            ServerState::from_info(&info(DownloadState::Cancelled)),
            ServerState::Cancelled
        );
    }
}
