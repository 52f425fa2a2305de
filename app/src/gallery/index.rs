//! The find index: every visible video from `GET /api/videos/index`, decrypted in the browser once
//! per fetch, then searched, filtered and sorted in memory as the member types
//! (docs/decisions.md, "Finding"). Pure, so it is tested natively; the benchmark in
//! `end2end/bench/search.mjs` times this same code in Chromium.
//!
//! Search matches **word prefixes**, ignoring case and accents: every word of the query must
//! begin some word of the title or the description ("pic bea" finds "Picnic on the beach";
//! "ecole" finds "École"). Words are runs of letters and digits.

use std::cmp::Ordering;

use cloister_shared::api::{IndexEntry, VideoMetadata, VideoStatus, VideoSummary};
use cloister_shared::crypto::keys::OpensVideoKeys;
use cloister_shared::Purpose;

/// One video, opened.
#[derive(Debug, Clone, PartialEq)]
pub struct IndexedVideo {
    pub summary: VideoSummary,
    /// The title as a tile shows it ("Untitled" for an empty one), or why it cannot be shown.
    pub title: Result<String, &'static str>,
    /// Recording time, duration and picture shape, once processing sealed them.
    pub metadata: Option<VideoMetadata>,
    /// Folded words of the title and the description, each preceded by a space: a query word is a
    /// word prefix exactly when `" " + word` occurs in it.
    words: String,
    /// The folded title, for sorting by title.
    title_key: String,
}

impl IndexedVideo {
    /// Opens one entry with the library key. A part that does not open (another library, or
    /// tampered with) is left out rather than failing the whole index.
    pub fn open(key: &(impl OpensVideoKeys + ?Sized), entry: IndexEntry) -> Self {
        let summary = entry.summary();
        let dek = key.open_video_key(&entry.video_id, &entry.wrapped_dek).ok();
        let open_text = |sealed_hex: &str, purpose: &Purpose| -> Option<String> {
            let dek = dek.as_ref()?;
            let sealed = hex::decode(sealed_hex).ok()?;
            let plain =
                cloister_shared::crypto::stream::open_all(dek, &entry.video_id, purpose, &sealed)
                    .ok()?;
            Some(String::from_utf8_lossy(&plain).trim().to_owned())
        };
        let title = open_text(&entry.title_sealed, &Purpose::Title);
        let description = entry
            .description_sealed
            .as_deref()
            .and_then(|sealed| open_text(sealed, &Purpose::Description))
            .unwrap_or_default();
        let metadata = match (&dek, entry.metadata_sealed.as_deref()) {
            (Some(dek), Some(sealed)) => VideoMetadata::open(dek, &entry.video_id, sealed),
            _ => None,
        };
        let title_plain = title.clone().unwrap_or_default();
        let mut words = String::with_capacity(title_plain.len() + description.len() + 2);
        push_words(&mut words, &title_plain);
        push_words(&mut words, &description);
        let title_key = fold(&title_plain);
        let title = match title {
            Some(t) if t.is_empty() => Ok("Untitled".to_owned()),
            Some(t) => Ok(t),
            None => Err("Cannot decrypt title"),
        };
        Self {
            summary,
            title,
            metadata,
            words,
            title_key,
        }
    }

    pub fn recorded_at(&self) -> Option<i64> {
        self.metadata.and_then(|m| m.recorded_at)
    }

    pub fn duration_ms(&self) -> Option<u64> {
        self.summary
            .duration_ms
            .or(self.metadata.map(|m| m.duration_ms))
    }

    pub fn portrait(&self) -> bool {
        self.metadata.is_some_and(|m| m.portrait())
    }

    /// Whether every word of `query` (already split and folded) begins a word of the video.
    fn matches(&self, query: &[String]) -> bool {
        query.iter().all(|word| {
            // `words` is " a b c"; look for " word".
            self.words
                .match_indices(word.as_str())
                .any(|(at, _)| self.words[..at].ends_with(' '))
        })
    }
}

/// Lower case without accents: canonical decomposition, combining marks dropped, then lower case.
pub fn fold(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in decompose(text).chars() {
        if !is_combining_mark(c) {
            out.extend(c.to_lowercase());
        }
    }
    out
}

/// Unicode NFD: the browser's own `String.prototype.normalize` in the browser (no tables in the
/// WebAssembly), the `unicode-normalization` crate natively; both implement the standard.
#[cfg(feature = "hydrate")]
fn decompose(text: &str) -> String {
    if text.is_ascii() {
        return text.to_owned();
    }
    String::from(js_sys::JsString::from(text).normalize("NFD"))
}

#[cfg(not(feature = "hydrate"))]
fn decompose(text: &str) -> String {
    use unicode_normalization::UnicodeNormalization;
    text.nfd().collect()
}

/// The combining-mark blocks (accents, diacritics) that decomposition splits off.
fn is_combining_mark(c: char) -> bool {
    matches!(c,
        '\u{0300}'..='\u{036F}'
        | '\u{1AB0}'..='\u{1AFF}'
        | '\u{1DC0}'..='\u{1DFF}'
        | '\u{20D0}'..='\u{20FF}'
        | '\u{FE20}'..='\u{FE2F}')
}

/// Appends the folded words of `text`, each after a space.
fn push_words(out: &mut String, text: &str) {
    for word in fold(text)
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
    {
        out.push(' ');
        out.push_str(word);
    }
}

/// The query's words, folded.
pub fn query_words(query: &str) -> Vec<String> {
    fold(query)
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(str::to_owned)
        .collect()
}

/// The orders the gallery offers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SortBy {
    #[default]
    UploadedNewest,
    UploadedOldest,
    RecordedNewest,
    RecordedOldest,
    TitleAz,
    TitleZa,
    Longest,
    Shortest,
    Largest,
    Smallest,
}

impl SortBy {
    pub const ALL: [Self; 10] = [
        Self::UploadedNewest,
        Self::UploadedOldest,
        Self::RecordedNewest,
        Self::RecordedOldest,
        Self::TitleAz,
        Self::TitleZa,
        Self::Longest,
        Self::Shortest,
        Self::Largest,
        Self::Smallest,
    ];

    /// The `<option>` value.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::UploadedNewest => "uploaded-newest",
            Self::UploadedOldest => "uploaded-oldest",
            Self::RecordedNewest => "recorded-newest",
            Self::RecordedOldest => "recorded-oldest",
            Self::TitleAz => "title-az",
            Self::TitleZa => "title-za",
            Self::Longest => "longest",
            Self::Shortest => "shortest",
            Self::Largest => "largest",
            Self::Smallest => "smallest",
        }
    }

    pub fn parse(s: &str) -> Self {
        Self::ALL
            .into_iter()
            .find(|sort| sort.as_str() == s)
            .unwrap_or_default()
    }

    /// What the member reads.
    pub fn label(self) -> &'static str {
        match self {
            Self::UploadedNewest => "Newest uploads",
            Self::UploadedOldest => "Oldest uploads",
            Self::RecordedNewest => "Recorded, newest",
            Self::RecordedOldest => "Recorded, oldest",
            Self::TitleAz => "Title, A to Z",
            Self::TitleZa => "Title, Z to A",
            Self::Longest => "Longest",
            Self::Shortest => "Shortest",
            Self::Largest => "Largest file",
            Self::Smallest => "Smallest file",
        }
    }

    /// Orders two videos. A video without the fact sorted by (no recording date, not yet
    /// processed) comes after every video that has it, in either direction; ties fall back to the
    /// newest upload, then the id, so the order is total and stable.
    fn compare(self, a: &IndexedVideo, b: &IndexedVideo) -> Ordering {
        fn known_first<T: Ord>(a: Option<T>, b: Option<T>, descending: bool) -> Ordering {
            match (a, b) {
                (Some(a), Some(b)) if descending => b.cmp(&a),
                (Some(a), Some(b)) => a.cmp(&b),
                (Some(_), None) => Ordering::Less,
                (None, Some(_)) => Ordering::Greater,
                (None, None) => Ordering::Equal,
            }
        }
        let newest_upload = (b.summary.created_at, b.summary.video_id)
            .cmp(&(a.summary.created_at, a.summary.video_id));
        let primary = match self {
            Self::UploadedNewest => Ordering::Equal,
            Self::UploadedOldest => newest_upload.reverse(),
            Self::RecordedNewest => known_first(a.recorded_at(), b.recorded_at(), true),
            Self::RecordedOldest => known_first(a.recorded_at(), b.recorded_at(), false),
            Self::TitleAz => a.title_key.cmp(&b.title_key),
            Self::TitleZa => b.title_key.cmp(&a.title_key),
            Self::Longest => known_first(a.duration_ms(), b.duration_ms(), true),
            Self::Shortest => known_first(a.duration_ms(), b.duration_ms(), false),
            Self::Largest => b.summary.size_bytes.cmp(&a.summary.size_bytes),
            Self::Smallest => a.summary.size_bytes.cmp(&b.summary.size_bytes),
        };
        primary.then(newest_upload)
    }
}

/// The status filter: what a member means by "ready", "processing" and "failed".
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum StatusFilter {
    #[default]
    Any,
    Ready,
    /// Still on its way: uploading, queued or being processed.
    Processing,
    Failed,
}

impl StatusFilter {
    pub const ALL: [Self; 4] = [Self::Any, Self::Ready, Self::Processing, Self::Failed];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Any => "any",
            Self::Ready => "ready",
            Self::Processing => "processing",
            Self::Failed => "failed",
        }
    }

    pub fn parse(s: &str) -> Self {
        Self::ALL
            .into_iter()
            .find(|f| f.as_str() == s)
            .unwrap_or_default()
    }

    pub fn label(self) -> &'static str {
        match self {
            Self::Any => "Any status",
            Self::Ready => "Ready",
            Self::Processing => "Processing",
            Self::Failed => "Failed",
        }
    }

    fn admits(self, status: VideoStatus) -> bool {
        match self {
            Self::Any => true,
            Self::Ready => status == VideoStatus::Ready,
            Self::Processing => matches!(
                status,
                VideoStatus::Uploading | VideoStatus::Uploaded | VideoStatus::Processing
            ),
            Self::Failed => status == VideoStatus::Failed,
        }
    }
}

/// What the member asked for: words, one member (by username) or all, a status, an order.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Query {
    pub text: String,
    pub member: Option<String>,
    pub status: StatusFilter,
    pub sort: SortBy,
}

/// Every visible video, opened, newest upload first.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct LibraryIndex {
    pub videos: Vec<IndexedVideo>,
}

impl LibraryIndex {
    pub fn build(key: &(impl OpensVideoKeys + ?Sized), entries: Vec<IndexEntry>) -> Self {
        Self {
            videos: entries
                .into_iter()
                .map(|entry| IndexedVideo::open(key, entry))
                .collect(),
        }
    }

    /// The positions in `videos` of the videos the query finds, in its order.
    pub fn find(&self, query: &Query) -> Vec<usize> {
        let words = query_words(&query.text);
        let mut found: Vec<usize> = self
            .videos
            .iter()
            .enumerate()
            .filter(|(_, v)| query.status.admits(v.summary.status))
            .filter(|(_, v)| {
                query
                    .member
                    .as_ref()
                    .is_none_or(|member| *member == v.summary.owner)
            })
            .filter(|(_, v)| v.matches(&words))
            .map(|(n, _)| n)
            .collect();
        found.sort_by(|&a, &b| query.sort.compare(&self.videos[a], &self.videos[b]));
        found
    }

    /// The members who uploaded a video in the index, sorted, each once: the member filter.
    pub fn members(&self) -> Vec<String> {
        let mut members: Vec<String> = self
            .videos
            .iter()
            .map(|v| v.summary.owner.clone())
            .collect();
        members.sort();
        members.dedup();
        members
    }
}

/// `m:ss`, or `h:mm:ss` from an hour, for a tile.
pub fn clock_duration(ms: u64) -> String {
    let seconds = ms / 1000;
    let (h, m, s) = (seconds / 3600, seconds / 60 % 60, seconds % 60);
    if h > 0 {
        format!("{h}:{m:02}:{s:02}")
    } else {
        format!("{m}:{s:02}")
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use cloister_shared::api::videos::METADATA_VERSION;
    use cloister_shared::crypto::stream::{seal_all, DEFAULT_CHUNK_SIZE};
    use cloister_shared::{wrap_dek, Dek, LibraryKey, VideoId};

    pub const KEY: [u8; 32] = [7; 32];

    /// A sealed index entry as the server serves one.
    pub struct Entry {
        pub n: u8,
        pub title: &'static str,
        pub description: &'static str,
        pub owner: &'static str,
        pub status: VideoStatus,
        pub created_at: i64,
        pub size_bytes: u64,
        pub metadata: Option<VideoMetadata>,
    }

    impl Default for Entry {
        fn default() -> Self {
            Self {
                n: 1,
                title: "A video",
                description: "",
                owner: "ann",
                status: VideoStatus::Ready,
                created_at: 1_700_000_000,
                size_bytes: 1000,
                metadata: None,
            }
        }
    }

    impl Entry {
        pub fn sealed(self) -> IndexEntry {
            let key = LibraryKey::from_bytes(KEY);
            let video_id = VideoId::from_bytes([self.n; 16]);
            let dek = Dek::generate().expect("dek");
            let seal = |purpose: Purpose, bytes: &[u8]| {
                hex::encode(
                    seal_all(&dek, &video_id, &purpose, DEFAULT_CHUNK_SIZE, bytes).expect("seal"),
                )
            };
            IndexEntry {
                video_id,
                status: self.status,
                owner: self.owner.to_owned(),
                created_at: self.created_at,
                size_bytes: self.size_bytes,
                duration_ms: self.metadata.map(|m| m.duration_ms),
                wrapped_dek: wrap_dek(&key, &video_id, &dek).expect("wrap"),
                title_sealed: seal(Purpose::Title, self.title.as_bytes()),
                description_sealed: Some(seal(Purpose::Description, self.description.as_bytes())),
                metadata_sealed: self
                    .metadata
                    .map(|m| seal(Purpose::Metadata, &serde_json::to_vec(&m).expect("json"))),
                rendition: None,
                has_thumb: false,
            }
        }
    }

    fn metadata(recorded_at: Option<i64>, duration_ms: u64, w: u32, h: u32) -> VideoMetadata {
        VideoMetadata {
            version: METADATA_VERSION,
            recorded_at,
            duration_ms,
            width: w,
            height: h,
        }
    }

    fn index(entries: Vec<Entry>) -> LibraryIndex {
        LibraryIndex::build(
            &LibraryKey::from_bytes(KEY),
            entries.into_iter().map(Entry::sealed).collect(),
        )
    }

    fn found(index: &LibraryIndex, query: &Query) -> Vec<u8> {
        index
            .find(query)
            .into_iter()
            .map(|n| index.videos[n].summary.video_id.as_bytes()[0])
            .collect()
    }

    fn text(text: &str) -> Query {
        Query {
            text: text.to_owned(),
            ..Query::default()
        }
    }

    #[test]
    fn words_of_titles_and_descriptions_are_found_by_their_beginnings() {
        let index = index(vec![
            Entry {
                n: 1,
                title: "Picnic on the beach",
                description: "Grandma's birthday, 2019",
                ..Entry::default()
            },
            Entry {
                n: 2,
                title: "École de musique",
                description: "Le concert de Noël",
                ..Entry::default()
            },
            Entry {
                n: 3,
                title: "SCHOOL play",
                description: "",
                ..Entry::default()
            },
        ]);
        assert_eq!(
            found(&index, &text("")),
            [3, 2, 1],
            "an empty query finds all"
        );
        assert_eq!(found(&index, &text("pic")), [1]);
        assert_eq!(found(&index, &text("bea pic")), [1], "words in any order");
        assert_eq!(
            found(&index, &text("birthday")),
            [1],
            "from the description"
        );
        assert_eq!(found(&index, &text("2019")), [1]);
        assert_eq!(found(&index, &text("ecole")), [2], "accents ignored");
        assert_eq!(
            found(&index, &text("NOEL")),
            [2],
            "case and accents ignored"
        );
        assert_eq!(found(&index, &text("École")), [2]);
        assert_eq!(found(&index, &text("school")), [3]);
        assert!(found(&index, &text("each")).is_empty(), "not inside a word");
        assert!(
            found(&index, &text("pic zebra")).is_empty(),
            "every word must match"
        );
        assert_eq!(
            found(&index, &text("  grandma's  ")),
            [1],
            "punctuation splits"
        );
    }

    #[test]
    fn what_does_not_open_is_shown_as_such_and_not_found() {
        let mut entry = Entry {
            title: "Secret",
            ..Entry::default()
        }
        .sealed();
        // Sealed for another library.
        entry.wrapped_dek = wrap_dek(
            &LibraryKey::from_bytes([9; 32]),
            &entry.video_id,
            &Dek::generate().expect("dek"),
        )
        .expect("wrap");
        let index = LibraryIndex::build(&LibraryKey::from_bytes(KEY), vec![entry]);
        assert_eq!(index.videos[0].title, Err("Cannot decrypt title"));
        assert!(index.find(&text("secret")).is_empty());
        let empty = Entry {
            title: "  ",
            ..Entry::default()
        };
        let index = LibraryIndex::build(&LibraryKey::from_bytes(KEY), vec![empty.sealed()]);
        assert_eq!(index.videos[0].title.as_deref(), Ok("Untitled"));
    }

    #[test]
    fn sorting_by_recording_date_puts_undated_videos_last() {
        let index = index(vec![
            Entry {
                n: 1,
                created_at: 30,
                metadata: Some(metadata(Some(2_000), 5_000, 640, 360)),
                ..Entry::default()
            },
            Entry {
                n: 2,
                created_at: 20,
                metadata: Some(metadata(None, 1_000, 640, 360)),
                ..Entry::default()
            },
            Entry {
                n: 3,
                created_at: 10,
                metadata: Some(metadata(Some(3_000), 60_000, 360, 640)),
                ..Entry::default()
            },
            Entry {
                n: 4,
                created_at: 40,
                status: VideoStatus::Processing,
                ..Entry::default()
            },
        ]);
        let sorted = |sort| {
            found(
                &index,
                &Query {
                    sort,
                    ..Query::default()
                },
            )
        };
        assert_eq!(sorted(SortBy::UploadedNewest), [4, 1, 2, 3]);
        assert_eq!(sorted(SortBy::UploadedOldest), [3, 2, 1, 4]);
        assert_eq!(sorted(SortBy::RecordedNewest), [3, 1, 4, 2]);
        assert_eq!(sorted(SortBy::RecordedOldest), [1, 3, 4, 2]);
        assert_eq!(sorted(SortBy::Longest), [3, 1, 2, 4]);
        assert_eq!(sorted(SortBy::Shortest), [2, 1, 3, 4]);
        assert!(index.videos[2].portrait());
        assert!(!index.videos[0].portrait());
        assert!(!index.videos[3].portrait(), "no metadata: drawn landscape");
    }

    #[test]
    fn sorting_by_title_and_size() {
        let index = index(vec![
            Entry {
                n: 1,
                title: "banana",
                size_bytes: 5,
                ..Entry::default()
            },
            Entry {
                n: 2,
                title: "Äpfel",
                size_bytes: 50,
                ..Entry::default()
            },
            Entry {
                n: 3,
                title: "cherry",
                size_bytes: 1,
                ..Entry::default()
            },
        ]);
        let sorted = |sort| {
            found(
                &index,
                &Query {
                    sort,
                    ..Query::default()
                },
            )
        };
        assert_eq!(sorted(SortBy::TitleAz), [2, 1, 3], "Ä sorts as A");
        assert_eq!(sorted(SortBy::TitleZa), [3, 1, 2]);
        assert_eq!(sorted(SortBy::Largest), [2, 1, 3]);
        assert_eq!(sorted(SortBy::Smallest), [3, 1, 2]);
    }

    #[test]
    fn filters_by_member_and_status_combine_with_search() {
        let index = index(vec![
            Entry {
                n: 1,
                owner: "ann",
                title: "Garden",
                status: VideoStatus::Ready,
                ..Entry::default()
            },
            Entry {
                n: 2,
                owner: "bob",
                title: "Garden party",
                status: VideoStatus::Failed,
                ..Entry::default()
            },
            Entry {
                n: 3,
                owner: "bob",
                title: "Garden again",
                status: VideoStatus::Uploaded,
                ..Entry::default()
            },
            Entry {
                n: 4,
                owner: "ann",
                title: "Beach",
                status: VideoStatus::Processing,
                ..Entry::default()
            },
        ]);
        assert_eq!(index.members(), ["ann", "bob"]);
        let q = |member: Option<&str>, status, text: &str| Query {
            text: text.to_owned(),
            member: member.map(str::to_owned),
            status,
            sort: SortBy::TitleAz,
        };
        assert_eq!(
            found(&index, &q(Some("bob"), StatusFilter::Any, "")),
            [3, 2]
        );
        assert_eq!(
            found(&index, &q(None, StatusFilter::Processing, "")),
            [4, 3]
        );
        assert_eq!(found(&index, &q(None, StatusFilter::Failed, "")), [2]);
        assert_eq!(found(&index, &q(None, StatusFilter::Ready, "")), [1]);
        assert_eq!(
            found(&index, &q(Some("bob"), StatusFilter::Processing, "gar")),
            [3]
        );
        assert!(found(&index, &q(Some("ann"), StatusFilter::Any, "party")).is_empty());
    }

    #[test]
    fn options_round_trip_and_durations_read_like_clocks() {
        for sort in SortBy::ALL {
            assert_eq!(SortBy::parse(sort.as_str()), sort);
        }
        for filter in StatusFilter::ALL {
            assert_eq!(StatusFilter::parse(filter.as_str()), filter);
        }
        assert_eq!(SortBy::parse("junk"), SortBy::UploadedNewest);
        assert_eq!(clock_duration(0), "0:00");
        assert_eq!(clock_duration(65_400), "1:05");
        assert_eq!(clock_duration(3_600_000 + 61_000), "1:01:01");
    }
}
