//! What the comments section holds: the pages listed so far, the member's own new comments, and
//! opening and sealing bodies. Pure, so it is tested natively.

use cloister_shared::api::comments::MAX_COMMENT_CHARS;
use cloister_shared::api::CommentInfo;
use cloister_shared::crypto::stream::{open_all, seal_all, DEFAULT_CHUNK_SIZE};
use cloister_shared::{CommentId, CryptoError, Dek, Purpose, VideoId};

/// One comment as shown.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    pub id: CommentId,
    pub author: String,
    /// Unix seconds.
    pub created_at: i64,
    /// The decrypted text; `None` when it does not open with this video's key.
    pub text: Option<String>,
    pub can_delete: bool,
    /// Shown at once, before the server has stored it.
    pub pending: bool,
}

impl Entry {
    /// A listed comment, its body opened here.
    pub fn listed(info: &CommentInfo, dek: &Dek) -> Self {
        Self {
            id: info.comment_id,
            author: info.author.clone(),
            created_at: info.created_at,
            text: open_body(dek, &info.video_id, &info.comment_id, &info.body_sealed),
            can_delete: info.can_delete,
            pending: false,
        }
    }

    /// The member's own comment, before the server answered.
    pub fn pending(id: CommentId, author: String, created_at: i64, text: String) -> Self {
        Self {
            id,
            author,
            created_at,
            text: Some(text),
            can_delete: false,
            pending: true,
        }
    }
}

/// The comments listed so far (oldest first) and the ones posted from this view since.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Thread {
    listed: Vec<Entry>,
    /// Newer than every listed page (a listing is a snapshot of its first page), so shown last.
    posted: Vec<Entry>,
    pub next_cursor: Option<String>,
    /// The first page has arrived.
    pub loaded: bool,
}

impl Thread {
    /// Adds the next page; a comment already shown is not shown twice.
    pub fn append_page(&mut self, entries: Vec<Entry>, next_cursor: Option<String>) {
        for entry in entries {
            if !self.contains(&entry.id) {
                self.listed.push(entry);
            }
        }
        self.next_cursor = next_cursor;
        self.loaded = true;
    }

    /// The cursor to ask for next: `Some(None)` for the first page, `None` after the last.
    pub fn next_request(&self) -> Option<Option<String>> {
        if self.loaded {
            self.next_cursor.clone().map(Some)
        } else {
            Some(None)
        }
    }

    pub fn add_posted(&mut self, entry: Entry) {
        self.posted.push(entry);
    }

    /// The server stored a posted comment: its time and rights are the server's.
    pub fn confirm(&mut self, id: &CommentId, created_at: i64, can_delete: bool) {
        if let Some(entry) = self.posted.iter_mut().find(|e| e.id == *id) {
            entry.created_at = created_at;
            entry.can_delete = can_delete;
            entry.pending = false;
        }
    }

    pub fn remove(&mut self, id: &CommentId) {
        self.listed.retain(|e| e.id != *id);
        self.posted.retain(|e| e.id != *id);
    }

    fn contains(&self, id: &CommentId) -> bool {
        self.listed.iter().chain(&self.posted).any(|e| e.id == *id)
    }

    /// Everything to show, in order.
    pub fn shown(&self) -> Vec<Entry> {
        self.listed.iter().chain(&self.posted).cloned().collect()
    }

    pub fn is_empty(&self) -> bool {
        self.listed.is_empty() && self.posted.is_empty()
    }
}

/// A comment's body opened with the video's DEK, bound to its id; `None` if it does not open.
pub fn open_body(dek: &Dek, video: &VideoId, id: &CommentId, body_hex: &str) -> Option<String> {
    let purpose = Purpose::comment(&id.to_string()).ok()?;
    let sealed = hex::decode(body_hex).ok()?;
    let plain = open_all(dek, video, &purpose, &sealed).ok()?;
    String::from_utf8(plain).ok()
}

/// A comment's text sealed for `comment/<id>`, as hex for `NewComment::body_sealed`.
pub fn seal_body(
    dek: &Dek,
    video: &VideoId,
    id: &CommentId,
    text: &str,
) -> Result<String, CryptoError> {
    let purpose = Purpose::comment(&id.to_string())?;
    seal_all(dek, video, &purpose, DEFAULT_CHUNK_SIZE, text.as_bytes()).map(hex::encode)
}

/// Characters as the server counts them (Unicode scalar values).
pub fn char_count(text: &str) -> usize {
    text.chars().count()
}

/// What may be posted: the text without surrounding blanks, if it is neither empty nor too long.
pub fn postable(text: &str) -> Option<&str> {
    let text = text.trim();
    (!text.is_empty() && char_count(text) <= MAX_COMMENT_CHARS).then_some(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(n: u8) -> Entry {
        Entry::pending(
            CommentId::from_bytes([n; 16]),
            "ann".into(),
            1,
            format!("c{n}"),
        )
    }

    fn ids(thread: &Thread) -> Vec<u8> {
        thread
            .shown()
            .iter()
            .map(|e| e.id.to_string().as_bytes()[1] - b'0')
            .collect()
    }

    #[test]
    fn bodies_round_trip_only_under_their_own_id_and_video() {
        let dek = Dek::from_bytes([3; 32]);
        let video = VideoId::from_bytes([1; 16]);
        let id = CommentId::from_bytes([2; 16]);
        let sealed = seal_body(&dek, &video, &id, "Nice shot — 🎥").expect("seal");
        assert_eq!(
            open_body(&dek, &video, &id, &sealed).as_deref(),
            Some("Nice shot — 🎥")
        );
        let other_id = CommentId::from_bytes([4; 16]);
        assert_eq!(open_body(&dek, &video, &other_id, &sealed), None);
        let other_video = VideoId::from_bytes([5; 16]);
        assert_eq!(open_body(&dek, &other_video, &id, &sealed), None);
        assert_eq!(
            open_body(&Dek::from_bytes([9; 32]), &video, &id, &sealed),
            None
        );
        assert_eq!(open_body(&dek, &video, &id, "not hex"), None);
    }

    #[test]
    fn pages_append_in_order_and_posted_comments_come_last_without_repeats() {
        let mut thread = Thread::default();
        assert_eq!(thread.next_request(), Some(None));
        thread.append_page(vec![entry(1), entry(2)], Some("c".into()));
        assert_eq!(thread.next_request(), Some(Some("c".into())));
        thread.add_posted(entry(7));
        thread.append_page(vec![entry(2), entry(3), entry(7)], None);
        assert_eq!(ids(&thread), [1, 2, 3, 7]);
        assert_eq!(thread.next_request(), None);
    }

    #[test]
    fn a_posted_comment_is_confirmed_or_rolled_back() {
        let mut thread = Thread::default();
        thread.append_page(vec![], None);
        assert!(thread.is_empty());
        thread.add_posted(entry(1));
        thread.add_posted(entry(2));
        thread.confirm(&CommentId::from_bytes([1; 16]), 99, true);
        thread.remove(&CommentId::from_bytes([2; 16]));
        let shown = thread.shown();
        assert_eq!(shown.len(), 1);
        assert!(!shown[0].pending && shown[0].can_delete && shown[0].created_at == 99);
    }

    #[test]
    fn only_non_blank_texts_up_to_the_limit_may_be_posted() {
        assert_eq!(postable("  hi \n"), Some("hi"));
        assert_eq!(postable(" \n "), None);
        let longest = "é".repeat(MAX_COMMENT_CHARS);
        assert_eq!(char_count(&longest), 2000);
        assert!(postable(&longest).is_some());
        assert!(postable(&format!("{longest}x")).is_none());
    }
}
