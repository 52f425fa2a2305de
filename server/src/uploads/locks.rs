//! One read-write lock per upload in progress: chunk writes share it, while completing or removing
//! the upload takes it alone, so no chunk is ever written into a file that is being renamed into
//! place or deleted.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};

use cloister_shared::VideoId;
use tokio::sync::RwLock;

#[derive(Debug, Default)]
pub struct UploadLocks(Mutex<HashMap<VideoId, Arc<RwLock<()>>>>);

impl UploadLocks {
    /// The lock of `id`. Callers check the upload exists (and is theirs) first, so the map only
    /// holds real uploads.
    pub fn get(&self, id: &VideoId) -> Arc<RwLock<()>> {
        let mut map = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        map.entry(*id).or_default().clone()
    }

    /// Drops the lock of a finished or removed upload (while holding it exclusively).
    pub fn forget(&self, id: &VideoId) {
        let mut map = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        map.remove(id);
    }

    pub fn len(&self) -> usize {
        self.0.lock().unwrap_or_else(PoisonError::into_inner).len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}
