//! What this process's download handlers share with the dispatcher: which links are streaming
//! right now (a link in use never expires under its transfer, and serves one transfer at a time),
//! and a wake-up for the dispatcher when a slot frees.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;

#[derive(Default)]
pub struct DownloadRuntime {
    transfers: Mutex<HashMap<String, CancellationToken>>,
    wake: Notify,
}

impl DownloadRuntime {
    /// Claims the link for one transfer; `None` if a transfer of it is already under way.
    pub fn begin(self: &Arc<Self>, download_id: &str) -> Option<Transfer> {
        let mut transfers = self.transfers.lock().ok()?;
        if transfers.contains_key(download_id) {
            return None;
        }
        let token = CancellationToken::new();
        transfers.insert(download_id.to_owned(), token.clone());
        Some(Transfer {
            runtime: Arc::clone(self),
            download_id: download_id.to_owned(),
            cancelled: token,
        })
    }

    pub fn is_transferring(&self, download_id: &str) -> bool {
        self.transfers
            .lock()
            .map(|t| t.contains_key(download_id))
            .unwrap_or(false)
    }

    /// Stops a transfer of the link, if one runs in this process.
    pub fn stop(&self, download_id: &str) {
        if let Ok(transfers) = self.transfers.lock() {
            if let Some(token) = transfers.get(download_id) {
                token.cancel();
            }
        }
    }

    /// A slot may have freed, or a download was queued: the dispatcher looks now.
    pub fn wake(&self) {
        self.wake.notify_one();
    }

    pub async fn woken(&self) {
        self.wake.notified().await;
    }
}

/// One transfer of a link; releases the link when dropped.
pub struct Transfer {
    runtime: Arc<DownloadRuntime>,
    download_id: String,
    pub cancelled: CancellationToken,
}

impl Transfer {
    pub fn download_id(&self) -> &str {
        &self.download_id
    }
}

impl Drop for Transfer {
    fn drop(&mut self) {
        if let Ok(mut transfers) = self.runtime.transfers.lock() {
            transfers.remove(&self.download_id);
        }
        self.runtime.wake();
    }
}
