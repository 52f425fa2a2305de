//! Segment times read from the fragments ffmpeg wrote, not from its playlist: `#EXTINF` is the
//! muxer's guess from the nominal frame rate, wrong for a variable frame rate (80 frames over
//! 5.84 s were listed as 3.2 s). The init segment gives the video track's id and timescale; each
//! segment's `moof/traf` gives its first decode time (`tfdt`) and its samples' durations (`trun`,
//! else the `tfhd` or `trex` default). Malformed input yields `None`, never a panic.

use std::path::Path;

use tokio::io::{AsyncReadExt, AsyncSeekExt};

use super::codec::{boxes, child, path};

/// A `moof` larger than this is not one ffmpeg writes (it lists a few hundred samples).
const MAX_MOOF: u64 = 16 << 20;

/// The video track of an init segment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Track {
    pub id: u32,
    /// Units a second.
    pub timescale: u32,
    /// `trex` default sample duration, for fragments that state none.
    pub default_duration: u32,
}

/// Decode time of a segment's first video sample and how long its video samples last, in the
/// track's timescale.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Span {
    pub start: u64,
    pub duration: u64,
}

/// Reads the first video track (`hdlr` `vide`) of an init segment.
pub(crate) fn video_track(init: &[u8]) -> Option<Track> {
    let moov = child(init, b"moov")?;
    let trak = boxes(moov)
        .filter(|b| &b.kind == b"trak")
        .find(|t| path(t.body, &[b"mdia", b"hdlr"]).and_then(|h| h.get(8..12)) == Some(b"vide"))?;
    let tkhd = child(trak.body, b"tkhd")?;
    let id = match tkhd.first()? {
        1 => be_u32(tkhd, 20)?,
        _ => be_u32(tkhd, 12)?,
    };
    let mdhd = path(trak.body, &[b"mdia", b"mdhd"])?;
    let timescale = match mdhd.first()? {
        1 => be_u32(mdhd, 20)?,
        _ => be_u32(mdhd, 12)?,
    };
    let default_duration = child(moov, b"mvex")
        .into_iter()
        .flat_map(boxes)
        .filter(|b| &b.kind == b"trex")
        .find(|trex| be_u32(trex.body, 4) == Some(id))
        .and_then(|trex| be_u32(trex.body, 12))
        .unwrap_or(0);
    (timescale > 0).then_some(Track {
        id,
        timescale,
        default_duration,
    })
}

/// The span of `track` in a segment's `moof` boxes (each `moof` + what precedes its `mdat`).
pub(crate) fn span(moofs: &[u8], track: &Track) -> Option<Span> {
    let mut first: Option<u64> = None;
    let mut end: u64 = 0;
    for moof in boxes(moofs).filter(|b| &b.kind == b"moof") {
        for traf in boxes(moof.body).filter(|b| &b.kind == b"traf") {
            let Some((start, duration)) = traf_span(traf.body, track) else {
                continue;
            };
            first.get_or_insert(start);
            end = end.max(start.checked_add(duration)?);
        }
    }
    let start = first?;
    Some(Span {
        start,
        duration: end.checked_sub(start)?,
    })
}

/// (tfdt, summed sample durations) of one `traf`, if it is the track's.
fn traf_span(traf: &[u8], track: &Track) -> Option<(u64, u64)> {
    let tfhd = child(traf, b"tfhd")?;
    let flags = be_u24(tfhd, 1)?;
    if be_u32(tfhd, 4)? != track.id {
        return None;
    }
    // tfhd optional fields, in order: base data offset (8), sample description index (4),
    // default sample duration (4).
    let mut at = 8usize;
    if flags & 0x01 != 0 {
        at += 8;
    }
    if flags & 0x02 != 0 {
        at += 4;
    }
    let default = if flags & 0x08 != 0 {
        be_u32(tfhd, at)?
    } else {
        track.default_duration
    };
    let tfdt = child(traf, b"tfdt")?;
    let start = match tfdt.first()? {
        1 => be_u64(tfdt, 4)?,
        _ => u64::from(be_u32(tfdt, 4)?),
    };
    let mut total: u64 = 0;
    for trun in boxes(traf).filter(|b| &b.kind == b"trun") {
        total = total.checked_add(trun_duration(trun.body, default)?)?;
    }
    Some((start, total))
}

/// The summed durations of a `trun`'s samples.
fn trun_duration(trun: &[u8], default: u32) -> Option<u64> {
    let flags = be_u24(trun, 1)?;
    let count = u64::from(be_u32(trun, 4)?);
    let mut at = 8usize;
    if flags & 0x01 != 0 {
        at += 4; // data offset
    }
    if flags & 0x04 != 0 {
        at += 4; // first sample flags
    }
    if flags & 0x100 == 0 {
        return count.checked_mul(u64::from(default));
    }
    let per_sample = [0x100, 0x200, 0x400, 0x800]
        .iter()
        .filter(|bit| flags & **bit != 0)
        .count()
        * 4;
    // The count must fit the box, so a hostile count cannot make us loop for long.
    let records = trun.get(at..)?;
    let count = usize::try_from(count).ok()?;
    if records.len() / per_sample < count {
        return None;
    }
    records
        .chunks_exact(per_sample)
        .take(count)
        .map(|record| be_u32(record, 0).map(u64::from))
        .sum()
}

/// The `moof` boxes of a segment file, read without its media data.
pub(crate) async fn read_moofs(file: &Path) -> std::io::Result<Vec<u8>> {
    let mut f = fs_err::tokio::File::open(file).await?;
    let len = f.metadata().await?.len();
    let mut out = Vec::new();
    let mut at: u64 = 0;
    while at.saturating_add(8) <= len {
        let mut header = [0u8; 16];
        f.seek(std::io::SeekFrom::Start(at)).await?;
        f.read_exact(&mut header[..8]).await?;
        let size32 = u64::from(u32::from_be_bytes([
            header[0], header[1], header[2], header[3],
        ]));
        let size = match size32 {
            0 => len - at,
            1 => {
                f.read_exact(&mut header[8..16]).await?;
                u64::from_be_bytes([
                    header[8], header[9], header[10], header[11], header[12], header[13],
                    header[14], header[15],
                ])
            }
            n => n,
        };
        if size < 8 || size > len - at {
            break;
        }
        if &header[4..8] == b"moof" && size <= MAX_MOOF {
            f.seek(std::io::SeekFrom::Start(at)).await?;
            let mut moof = vec![0u8; usize::try_from(size).unwrap_or(0)];
            f.read_exact(&mut moof).await?;
            out.extend_from_slice(&moof);
        }
        at += size;
    }
    Ok(out)
}

fn be_u24(data: &[u8], at: usize) -> Option<u32> {
    let b = data.get(at..at.checked_add(3)?)?;
    Some(u32::from_be_bytes([0, b[0], b[1], b[2]]))
}

fn be_u32(data: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_be_bytes(
        data.get(at..at.checked_add(4)?)?.try_into().ok()?,
    ))
}

fn be_u64(data: &[u8], at: usize) -> Option<u64> {
    Some(u64::from_be_bytes(
        data.get(at..at.checked_add(8)?)?.try_into().ok()?,
    ))
}

/// Segment times in whole milliseconds from their spans: each start is the segment's decode time
/// after the first one's, so the durations add up exactly to the rounded end. Returns
/// (start_ms, duration_ms) per segment.
pub(crate) fn timeline(spans: &[Span], timescale: u32) -> Vec<(u64, u64)> {
    let Some(origin) = spans.first().map(|s| s.start) else {
        return Vec::new();
    };
    let ms = |t: u64| {
        let units = u128::from(t.saturating_sub(origin)) * 1000;
        let half = u128::from(timescale) / 2;
        u64::try_from((units + half) / u128::from(timescale.max(1))).unwrap_or(u64::MAX)
    };
    let mut out = Vec::with_capacity(spans.len());
    for (i, span) in spans.iter().enumerate() {
        let start = ms(span.start);
        let end = match spans.get(i + 1) {
            Some(next) => ms(next.start),
            None => ms(span.start.saturating_add(span.duration)),
        }
        .max(start);
        out.push((start, end - start));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::super::codec::mp4_box;
    use super::*;

    fn full(version: u8, flags: u32, rest: &[u8]) -> Vec<u8> {
        let mut body = vec![version];
        body.extend_from_slice(&flags.to_be_bytes()[1..]);
        body.extend_from_slice(rest);
        body
    }

    fn init(track_id: u32, timescale: u32, trex_default: u32) -> Vec<u8> {
        let mut tkhd = vec![0u8; 12];
        tkhd.extend_from_slice(&track_id.to_be_bytes());
        tkhd.extend_from_slice(&[0u8; 68]);
        let mut mdhd = vec![0u8; 12];
        mdhd.extend_from_slice(&timescale.to_be_bytes());
        mdhd.extend_from_slice(&[0u8; 8]);
        let mut hdlr = vec![0u8; 8];
        hdlr.extend_from_slice(b"vide");
        hdlr.extend_from_slice(&[0u8; 13]);
        let mut mdia = mp4_box(b"mdhd", &mdhd);
        mdia.extend(mp4_box(b"hdlr", &hdlr));
        let mut trak = mp4_box(b"tkhd", &tkhd);
        trak.extend(mp4_box(b"mdia", &mdia));
        let mut trex = vec![0u8; 4];
        trex.extend_from_slice(&track_id.to_be_bytes());
        trex.extend_from_slice(&1u32.to_be_bytes());
        trex.extend_from_slice(&trex_default.to_be_bytes());
        trex.extend_from_slice(&[0u8; 8]);
        let mut moov = mp4_box(b"trak", &trak);
        moov.extend(mp4_box(b"mvex", &mp4_box(b"trex", &trex)));
        mp4_box(b"moov", &moov)
    }

    /// A moof for `track_id` starting at `tfdt`, with per-sample durations (or none).
    fn moof(track_id: u32, tfdt: u64, durations: Option<&[u32]>, count: u32) -> Vec<u8> {
        let tfhd = full(0, 0x02_0000, &track_id.to_be_bytes());
        let tfdt = full(1, 0, &tfdt.to_be_bytes());
        let (flags, mut rest) = match durations {
            Some(_) => (0x301, count.to_be_bytes().to_vec()),
            None => (0x001, count.to_be_bytes().to_vec()),
        };
        rest.extend_from_slice(&0u32.to_be_bytes());
        if let Some(durations) = durations {
            for d in durations {
                rest.extend_from_slice(&d.to_be_bytes());
                rest.extend_from_slice(&100u32.to_be_bytes());
            }
        }
        let mut traf = mp4_box(b"tfhd", &tfhd);
        traf.extend(mp4_box(b"tfdt", &tfdt));
        traf.extend(mp4_box(b"trun", &full(0, flags, &rest)));
        mp4_box(b"moof", &mp4_box(b"traf", &traf))
    }

    #[test]
    fn irregular_sample_durations_add_up() {
        let track = video_track(&init(1, 1000, 40)).unwrap();
        assert_eq!(
            track,
            Track {
                id: 1,
                timescale: 1000,
                default_duration: 40
            }
        );
        let a = span(&moof(1, 0, Some(&[40, 40, 108, 500]), 4), &track).unwrap();
        assert_eq!(
            a,
            Span {
                start: 0,
                duration: 688
            }
        );
        // No per-sample durations: the trex default.
        let b = span(&moof(1, 688, None, 10), &track).unwrap();
        assert_eq!(
            b,
            Span {
                start: 688,
                duration: 400
            }
        );
        assert_eq!(timeline(&[a, b], 1000), vec![(0, 688), (688, 400)]);
        // Another track's fragment is not the video's.
        assert_eq!(span(&moof(2, 0, None, 10), &track), None);
    }

    #[test]
    fn timelines_start_at_zero_and_round_to_whole_ms() {
        let spans = [
            Span {
                start: 1001,
                duration: 12012,
            },
            Span {
                start: 13013,
                duration: 1501,
            },
        ];
        assert_eq!(timeline(&spans, 3003), vec![(0, 4000), (4000, 500)]);
        assert!(timeline(&[], 1000).is_empty());
    }

    #[test]
    fn malformed_fragments_never_panic() {
        let track = video_track(&init(1, 90000, 3000)).unwrap();
        let good = moof(1, 0, Some(&[3000, 6000]), 2);
        for len in 0..good.len() {
            let _ = span(&good[..len], &track);
        }
        for i in 0..good.len() {
            for v in [0x00, 0x01, 0x7f, 0x80, 0xff] {
                let mut bad = good.clone();
                bad[i] = v;
                let _ = span(&bad, &track);
            }
        }
        // A count far beyond the box is refused, not looped over.
        assert_eq!(span(&moof(1, 0, Some(&[1]), u32::MAX), &track), None);
        assert_eq!(video_track(&init(1, 0, 0)), None, "no timescale");
        assert_eq!(video_track(b"garbage"), None);
    }
}
