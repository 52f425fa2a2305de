//! What the player fetches next and what it lets go, from the manifest, the playhead and what the
//! `SourceBuffer` holds. Times from the browser are seconds (`f64`); the manifest's are whole
//! milliseconds.

use std::collections::BTreeSet;

use cloister_shared::manifest::{Manifest, Segment};

/// Segments are fetched while they start less than this far ahead of the playhead.
pub const LOOKAHEAD_MS: u64 = 30_000;
/// Media further behind the playhead than this (to a segment boundary) is removed.
pub const KEEP_BEHIND_MS: u64 = 30_000;
/// Media starting further ahead than this (left from before a seek back) is removed too.
pub const KEEP_AHEAD_MS: u64 = 2 * LOOKAHEAD_MS;
/// Buffered ranges come from the media's own timestamps, which may be a frame off the
/// manifest's: differences smaller than this are not worth a removal.
const SLACK_S: f64 = 0.1;

/// One buffered time range, in seconds.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Span {
    pub start: f64,
    pub end: f64,
}

fn ms(seconds: f64) -> u64 {
    if seconds.is_finite() && seconds > 0.0 {
        (seconds * 1000.0) as u64
    } else {
        0
    }
}

fn seconds(ms: u64) -> f64 {
    ms as f64 / 1000.0
}

fn midpoint(segment: &Segment) -> f64 {
    seconds(segment.start_ms) + seconds(segment.duration_ms) / 2.0
}

/// The segment counts as held when the buffer covers its middle: its ends may be a frame off.
fn covered(segment: &Segment, buffered: &[Span]) -> bool {
    let middle = midpoint(segment);
    buffered
        .iter()
        .any(|span| span.start <= middle && middle <= span.end)
}

/// Whether the buffer holds segment `index` (covers its middle).
pub fn in_buffer(manifest: &Manifest, index: usize, buffered: &[Span]) -> bool {
    manifest
        .segments
        .get(index)
        .is_some_and(|segment| covered(segment, buffered))
}

/// Held: in the buffer, or among `misplaced`: segments appended since the last seek whose media
/// did not cover their manifest times even right after the append, which would otherwise be
/// fetched over and over. Nothing else is trusted: a segment the browser dropped from the buffer
/// on its own (a `ManagedMediaSource` may, and any `MediaSource` may while appending) is no longer
/// held, and is fetched again when the playhead needs it.
fn held(manifest: &Manifest, index: usize, buffered: &[Span], misplaced: &BTreeSet<usize>) -> bool {
    misplaced.contains(&index) || in_buffer(manifest, index, buffered)
}

/// The next segment to fetch: the first one from the playhead on, starting within the
/// look-ahead, that is not held. `None` when the look-ahead is full (or the video ends).
pub fn next_segment(
    manifest: &Manifest,
    now_s: f64,
    buffered: &[Span],
    misplaced: &BTreeSet<usize>,
) -> Option<usize> {
    let now_ms = ms(now_s);
    let from = manifest.segment_at(now_ms)?;
    (from..manifest.segments.len())
        .take_while(|&i| manifest.segments[i].start_ms < now_ms + LOOKAHEAD_MS)
        .find(|&i| !held(manifest, i, buffered, misplaced))
}

/// Still worth fetching after the playhead moved to `now_s` (a seek): in the new look-ahead.
pub fn still_wanted(manifest: &Manifest, index: usize, now_s: f64) -> bool {
    let now_ms = ms(now_s);
    let Some(from) = manifest.segment_at(now_ms) else {
        return false;
    };
    index >= from
        && manifest
            .segments
            .get(index)
            .is_some_and(|segment| segment.start_ms < now_ms + LOOKAHEAD_MS)
}

/// Every segment from the playhead to the end is held: time for `endOfStream()`.
pub fn complete(
    manifest: &Manifest,
    now_s: f64,
    buffered: &[Span],
    misplaced: &BTreeSet<usize>,
) -> bool {
    manifest.segment_at(ms(now_s)).is_some_and(|from| {
        (from..manifest.segments.len()).all(|i| held(manifest, i, buffered, misplaced))
    })
}

/// Ranges to remove: what lies more than `KEEP_BEHIND_MS` behind the playhead and what starts
/// more than `KEEP_AHEAD_MS` ahead of it, cut at segment boundaries.
pub fn to_remove(manifest: &Manifest, now_s: f64, buffered: &[Span]) -> Vec<Span> {
    let now_ms = ms(now_s);
    let mut out = Vec::new();
    let keep_from = now_ms
        .checked_sub(KEEP_BEHIND_MS)
        .and_then(|t| manifest.segment_at(t))
        .map(|i| seconds(manifest.segments[i].start_ms));
    if let Some(keep_from) = keep_from {
        for span in buffered {
            if span.start < keep_from - SLACK_S {
                out.push(Span {
                    start: span.start,
                    end: span.end.min(keep_from),
                });
            }
        }
    }
    let keep_until = manifest
        .segments
        .iter()
        .find(|segment| segment.start_ms >= now_ms + KEEP_AHEAD_MS)
        .map(|segment| seconds(segment.start_ms));
    if let Some(keep_until) = keep_until {
        for span in buffered {
            if span.end > keep_until + SLACK_S {
                out.push(Span {
                    start: span.start.max(keep_until),
                    end: span.end,
                });
            }
        }
    }
    out
}

/// Segments whose middle lies in `removed`: they are no longer held.
pub fn segments_in(manifest: &Manifest, removed: Span) -> impl Iterator<Item = usize> + '_ {
    manifest
        .segments
        .iter()
        .enumerate()
        .filter(move |(_, segment)| {
            let middle = midpoint(segment);
            removed.start <= middle && middle <= removed.end
        })
        .map(|(i, _)| i)
}

/// Seconds buffered without a gap from the playhead on (gaps under `SLACK_S` do not count).
pub fn ahead_of(now_s: f64, buffered: &[Span]) -> f64 {
    let mut spans = buffered.to_vec();
    spans.sort_by(|a, b| a.start.total_cmp(&b.start));
    let mut reach: Option<f64> = None;
    for span in spans {
        match reach {
            None if span.start - SLACK_S <= now_s && now_s <= span.end => reach = Some(span.end),
            Some(end) if span.start - SLACK_S <= end => reach = Some(end.max(span.end)),
            _ => {}
        }
    }
    reach.map_or(0.0, |end| (end - now_s).max(0.0))
}

/// What the player says about its look-ahead: "12 s ready ahead", never more than what remains
/// of the video; "Ready to the end" once all of the rest is in; nothing in the last second.
pub fn lookahead_label(ahead_s: f64, remaining_s: f64) -> Option<String> {
    let remaining = if remaining_s.is_finite() {
        remaining_s.max(0.0)
    } else {
        0.0
    };
    if remaining < 1.0 {
        return None;
    }
    let ahead = if ahead_s.is_finite() {
        ahead_s.clamp(0.0, remaining)
    } else {
        0.0
    };
    if remaining - ahead < 0.5 {
        return Some("Ready to the end".to_owned());
    }
    Some(format!("{} s ready ahead", ahead.floor() as u64))
}

#[cfg(test)]
mod tests {
    use super::*;
    use cloister_shared::manifest::{Preparation, SealedFile, MANIFEST_VERSION};

    /// `count` segments of 4 s each.
    fn manifest(count: u64) -> Manifest {
        let file = SealedFile {
            salt: "00".repeat(32),
            sealed_bytes: 100,
            plain_bytes: 43,
        };
        Manifest {
            version: MANIFEST_VERSION,
            rendition: "0123456789abcdef".into(),
            duration_ms: count * 4000,
            width: 1280,
            height: 720,
            mime_codec: "video/mp4; codecs=\"avc1.64001f\"".into(),
            has_audio: false,
            preparation: Preparation::Remuxed,
            init: file.clone(),
            segments: (0..count)
                .map(|i| Segment {
                    start_ms: i * 4000,
                    duration_ms: 4000,
                    file: file.clone(),
                })
                .collect(),
            thumb: None,
        }
    }

    fn span(start: f64, end: f64) -> Span {
        Span { start, end }
    }

    #[test]
    fn fetches_in_order_up_to_thirty_seconds_ahead() {
        let m = manifest(100);
        let none = BTreeSet::new();
        assert_eq!(next_segment(&m, 0.0, &[], &none), Some(0));
        assert_eq!(next_segment(&m, 0.0, &[span(0.0, 8.0)], &none), Some(2));
        // Segment 7 starts at 28 s, segment 8 at 32 s: the look-ahead is full at 0 s...
        assert_eq!(next_segment(&m, 0.0, &[span(0.0, 32.0)], &none), None);
        // ...and opens up as the playhead moves.
        assert_eq!(next_segment(&m, 3.0, &[span(0.0, 32.0)], &none), Some(8));
        // Timestamps a frame off the manifest's still count.
        assert_eq!(next_segment(&m, 0.0, &[span(0.08, 7.98)], &none), Some(2));
    }

    #[test]
    fn after_a_seek_starts_at_the_segment_playing() {
        let m = manifest(100);
        let none = BTreeSet::new();
        assert_eq!(next_segment(&m, 201.0, &[span(0.0, 32.0)], &none), Some(50));
        // What is still buffered there is not fetched again.
        assert_eq!(
            next_segment(&m, 201.0, &[span(200.0, 212.0)], &none),
            Some(53)
        );
        assert!(still_wanted(&m, 50, 201.0));
        assert!(still_wanted(&m, 57, 201.0));
        assert!(!still_wanted(&m, 58, 201.0), "starts 31 s ahead");
        assert!(!still_wanted(&m, 49, 201.0), "behind the playhead");
    }

    #[test]
    fn a_segment_appended_outside_its_manifest_times_is_not_fetched_again() {
        let m = manifest(10);
        // Appended, yet its timestamps left it outside the buffered ranges.
        let misplaced = BTreeSet::from([0]);
        assert_eq!(next_segment(&m, 0.0, &[], &misplaced), Some(1));
    }

    #[test]
    fn complete_when_everything_to_the_end_is_held() {
        let m = manifest(5);
        let none = BTreeSet::new();
        assert!(!complete(&m, 0.0, &[span(0.0, 16.0)], &none));
        assert!(complete(&m, 0.0, &[span(0.0, 20.0)], &none));
        // After a seek to the last segment, what came before does not matter.
        assert!(complete(&m, 17.0, &[span(16.0, 20.0)], &none));
        assert!(!complete(
            &m,
            5.0,
            &[span(0.0, 4.0), span(16.0, 20.0)],
            &none
        ));
    }

    #[test]
    fn lets_go_of_what_is_far_behind_and_far_ahead() {
        let m = manifest(100);
        assert_eq!(to_remove(&m, 20.0, &[span(0.0, 50.0)]), vec![]);
        // 30 s behind 45 s is 15 s, in segment 3 (12–16 s): everything before 12 s goes.
        assert_eq!(
            to_remove(&m, 45.0, &[span(0.0, 75.0)]),
            vec![span(0.0, 12.0)]
        );
        // After a seek back from 300 s to 10 s, the media around 300 s goes, and of a range
        // reaching far ahead, what starts 60 s ahead (at the segment from 72 s).
        assert_eq!(
            to_remove(&m, 10.0, &[span(8.0, 40.0), span(270.0, 330.0)]),
            vec![span(270.0, 330.0)]
        );
        assert_eq!(
            to_remove(&m, 10.0, &[span(8.0, 80.0)]),
            vec![span(72.0, 80.0)]
        );
        // A frame's worth is not worth a removal.
        assert_eq!(to_remove(&m, 45.0, &[span(11.95, 75.0)]), vec![]);
        let removed: Vec<usize> = segments_in(&m, span(0.0, 12.0)).collect();
        assert_eq!(removed, [0, 1, 2]);
    }

    #[test]
    fn memory_stays_flat_over_a_long_video() {
        // Playing a 2-hour video straight through never holds more than about a minute.
        let m = manifest(1800);
        let mut buffered: Vec<Span> = Vec::new();
        let appended = BTreeSet::new();
        let mut most = 0.0f64;
        for step in 0..7200 {
            let now = f64::from(step);
            for gone in to_remove(&m, now, &buffered) {
                buffered = buffered
                    .iter()
                    .flat_map(|s| {
                        let mut left = Vec::new();
                        if s.start < gone.start {
                            left.push(span(s.start, s.end.min(gone.start)));
                        }
                        if s.end > gone.end {
                            left.push(span(s.start.max(gone.end), s.end));
                        }
                        left
                    })
                    .collect();
            }
            while let Some(i) = next_segment(&m, now, &buffered, &appended) {
                let seg = &m.segments[i];
                let (a, b) = (
                    seconds(seg.start_ms),
                    seconds(seg.start_ms + seg.duration_ms),
                );
                match buffered.iter_mut().find(|s| (s.end - a).abs() < 1e-9) {
                    Some(s) => s.end = b,
                    None => buffered.push(span(a, b)),
                }
            }
            most = most.max(buffered.iter().map(|s| s.end - s.start).sum());
        }
        assert!(most <= 68.0, "held {most} s at most");
    }

    #[test]
    fn buffered_ahead_counts_from_the_playhead_across_tiny_gaps() {
        assert_eq!(ahead_of(5.0, &[span(0.0, 12.0)]), 7.0);
        assert_eq!(ahead_of(5.0, &[span(0.0, 8.0), span(8.02, 20.0)]), 15.0);
        assert_eq!(ahead_of(5.0, &[span(0.0, 8.0), span(9.0, 20.0)]), 3.0);
        assert_eq!(ahead_of(30.0, &[span(0.0, 8.0)]), 0.0);
    }

    #[test]
    fn the_lookahead_label_never_exceeds_what_remains() {
        assert_eq!(
            lookahead_label(12.7, 60.0).as_deref(),
            Some("12 s ready ahead")
        );
        assert_eq!(
            lookahead_label(-1.0, 60.0).as_deref(),
            Some("0 s ready ahead")
        );
        // 34 s buffered of a video with 20 s left: all of the rest is in.
        assert_eq!(
            lookahead_label(34.0, 20.0).as_deref(),
            Some("Ready to the end")
        );
        assert_eq!(
            lookahead_label(19.7, 20.0).as_deref(),
            Some("Ready to the end")
        );
        assert_eq!(
            lookahead_label(8.0, 20.0).as_deref(),
            Some("8 s ready ahead")
        );
        // At the end, nothing odd: no label at all.
        assert_eq!(lookahead_label(0.0, 0.4), None);
        assert_eq!(lookahead_label(3.0, -2.0), None);
        assert_eq!(lookahead_label(f64::NAN, f64::NAN), None);
    }

    #[test]
    fn a_segment_the_browser_dropped_is_fetched_again() {
        let m = manifest(100);
        let none = BTreeSet::new();
        // At 5 s the look-ahead wants segments up to the one starting at 32 s.
        assert_eq!(next_segment(&m, 5.0, &[span(0.0, 36.0)], &none), None);
        // The browser evicted 8–12 s (segment 2) on its own: it is the next fetch.
        let evicted = [span(0.0, 8.0), span(12.0, 36.0)];
        assert_eq!(next_segment(&m, 5.0, &evicted, &none), Some(2));
        assert!(!complete(&m, 5.0, &evicted, &none));
        // Everything from the playhead on gone: fetched from the playhead.
        assert_eq!(next_segment(&m, 5.0, &[span(0.0, 4.0)], &none), Some(1));
        // Only a segment that never showed up where the manifest put it is trusted as held.
        assert!(!in_buffer(&m, 2, &evicted));
        assert!(in_buffer(&m, 3, &evicted));
        assert_eq!(next_segment(&m, 5.0, &evicted, &BTreeSet::from([2])), None);
    }
}
