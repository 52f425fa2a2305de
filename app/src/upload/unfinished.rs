//! Uploads this browser started and has not finished, remembered in localStorage so that coming
//! back to the Upload page (after a reload, a closed tab, a phone that killed the browser) offers
//! to resume them. Only what identifies the local file is kept — its name, size, modification time,
//! and where a shared video is kept — plus the upload's id; the server's record says how far it
//! got. Per member: another member signing in on this browser does not see them.

use serde::{Deserialize, Serialize};

const STORAGE_KEY: &str = "cloister.unfinished-uploads";

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Unfinished {
    pub user: String,
    pub video_id: String,
    pub name: String,
    pub size: u64,
    /// The file's `lastModified` in ms: part of its upload fingerprint, so resuming needs it equal.
    pub modified: u64,
    /// Cache key of a video shared from the share sheet (the browser still has it); `None` for a
    /// file the member chose, which the browser cannot reopen by itself.
    pub shared: Option<String>,
}

impl Unfinished {
    /// Whether `name`, `size` and `modified` describe this upload's file.
    pub fn matches(&self, name: &str, size: u64, modified: u64) -> bool {
        self.name == name && self.size == size && self.modified == modified
    }
}

/// Decodes the stored list; anything unreadable counts as empty.
fn decode(text: Option<String>) -> Vec<Unfinished> {
    text.and_then(|t| serde_json::from_str(&t).ok())
        .unwrap_or_default()
}

#[cfg(feature = "hydrate")]
fn storage() -> Option<web_sys::Storage> {
    web_sys::window()?.local_storage().ok()?
}

#[cfg(feature = "hydrate")]
fn load_all() -> Vec<Unfinished> {
    decode(storage().and_then(|s| s.get_item(STORAGE_KEY).ok().flatten()))
}

#[cfg(feature = "hydrate")]
fn save_all(list: &[Unfinished]) {
    let Some(storage) = storage() else { return };
    if list.is_empty() {
        let _ = storage.remove_item(STORAGE_KEY);
    } else if let Ok(text) = serde_json::to_string(list) {
        let _ = storage.set_item(STORAGE_KEY, &text);
    }
}

/// `user`'s unfinished uploads.
pub fn of(user: &str) -> Vec<Unfinished> {
    #[cfg(feature = "hydrate")]
    return load_all().into_iter().filter(|u| u.user == user).collect();
    #[cfg(not(feature = "hydrate"))]
    {
        let _ = (user, decode, STORAGE_KEY);
        Vec::new()
    }
}

/// Remembers an upload the server has just created or resumed.
pub fn remember(record: Unfinished) {
    #[cfg(feature = "hydrate")]
    {
        let mut list = load_all();
        // One record per file: an older upload of it was replaced (its record failed the checks).
        list.retain(|u| {
            u.video_id != record.video_id
                && !(u.user == record.user && u.matches(&record.name, record.size, record.modified))
        });
        list.push(record);
        save_all(&list);
    }
    #[cfg(not(feature = "hydrate"))]
    let _ = record;
}

/// Forgets an upload: finished, cancelled, or gone from the server.
pub fn forget(video_id: &str) {
    #[cfg(feature = "hydrate")]
    {
        let mut list = load_all();
        list.retain(|u| u.video_id != video_id);
        save_all(&list);
    }
    #[cfg(not(feature = "hydrate"))]
    let _ = video_id;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_damaged_list_reads_as_empty_and_a_file_must_match_exactly() {
        assert!(decode(Some("not json".into())).is_empty());
        assert!(decode(None).is_empty());
        let record = Unfinished {
            user: "alice".into(),
            video_id: "0".repeat(32),
            name: "clip.mp4".into(),
            size: 10,
            modified: 5,
            shared: None,
        };
        let text = serde_json::to_string(std::slice::from_ref(&record)).expect("json");
        assert_eq!(decode(Some(text)), vec![record.clone()]);
        assert!(record.matches("clip.mp4", 10, 5));
        assert!(!record.matches("clip.mp4", 10, 6));
        assert!(!record.matches("clip.mp4", 11, 5));
        assert!(!record.matches("other.mp4", 10, 5));
    }
}
