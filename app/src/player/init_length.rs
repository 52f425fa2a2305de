//! Writing the video's length into its init segment before it is played whole.
//!
//! The server's init segment is fragmented MP4 written with an empty `moov`, so its movie header
//! (`mvhd`) says the length is 0. Media Source playback learns the length from the manifest, but a
//! whole file handed to the browser's own player does not: WebKit then reports only the first
//! fragment's length and will not seek past it. Only one field of one box changes, so a walk over
//! the box headers is enough; an MP4 crate would add weight to every first visit for it.

/// The init segment with `moov/mvhd`'s duration set to `duration_ms`, in the header's own
/// timescale. Anything that is not a well-formed `mvhd` is left exactly as it was.
pub fn with_length(mut init: Vec<u8>, duration_ms: u64) -> Vec<u8> {
    if let Some(moov) = find_box(&init, 0, init.len(), b"moov") {
        if let Some(mvhd) = find_box(&init, moov.body, moov.end, b"mvhd") {
            set_duration(&mut init[mvhd.body..mvhd.end], duration_ms);
        }
    }
    init
}

struct Span {
    body: usize,
    end: usize,
}

/// The first box named `name` among the boxes laid end to end in `bytes[start..end]`.
fn find_box(bytes: &[u8], start: usize, end: usize, name: &[u8; 4]) -> Option<Span> {
    let mut at = start;
    while at.checked_add(8)? <= end {
        let size32 = u32::from_be_bytes(bytes[at..at + 4].try_into().ok()?) as usize;
        let (header, size) = match size32 {
            0 => (8, end - at),
            1 => {
                let large = bytes.get(at + 8..at + 16)?;
                (
                    16,
                    usize::try_from(u64::from_be_bytes(large.try_into().ok()?)).ok()?,
                )
            }
            size => (8, size),
        };
        let box_end = at.checked_add(size)?;
        if size < header || box_end > end {
            return None;
        }
        if &bytes[at + 4..at + 8] == name {
            return Some(Span {
                body: at + header,
                end: box_end,
            });
        }
        at = box_end;
    }
    None
}

/// Sets the duration field of an `mvhd` body (version 0: 32-bit times, version 1: 64-bit).
fn set_duration(mvhd: &mut [u8], duration_ms: u64) {
    let (timescale_at, duration_at, wide) = match mvhd.first() {
        Some(0) => (12, 16, false),
        Some(1) => (20, 24, true),
        _ => return,
    };
    let Some(timescale) = mvhd
        .get(timescale_at..timescale_at + 4)
        .and_then(|b| b.try_into().ok())
        .map(u32::from_be_bytes)
    else {
        return;
    };
    let duration = u128::from(duration_ms) * u128::from(timescale) / 1000;
    if wide {
        if let Some(field) = mvhd.get_mut(duration_at..duration_at + 8) {
            field.copy_from_slice(&u64::try_from(duration).unwrap_or(u64::MAX).to_be_bytes());
        }
    } else if let Some(field) = mvhd.get_mut(duration_at..duration_at + 4) {
        // u32::MAX would mean "unknown"; a longer video keeps the largest length that fits.
        let fits = u32::try_from(duration)
            .unwrap_or(u32::MAX - 1)
            .min(u32::MAX - 1);
        field.copy_from_slice(&fits.to_be_bytes());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn boxed(name: &[u8; 4], body: &[u8]) -> Vec<u8> {
        let mut out = ((body.len() + 8) as u32).to_be_bytes().to_vec();
        out.extend_from_slice(name);
        out.extend_from_slice(body);
        out
    }

    fn mvhd_v0(timescale: u32) -> Vec<u8> {
        let mut body = vec![0u8; 100];
        body[12..16].copy_from_slice(&timescale.to_be_bytes());
        boxed(b"mvhd", &body)
    }

    fn init_with(mvhd: Vec<u8>) -> Vec<u8> {
        let mut moov_body = mvhd;
        moov_body.extend(boxed(b"trak", &[0u8; 20]));
        let mut init = boxed(b"ftyp", b"isom\0\0\0\x01");
        init.extend(boxed(b"moov", &moov_body));
        init
    }

    fn duration_v0(init: &[u8]) -> u32 {
        // ftyp (16) + moov header (8) + mvhd header (8) + 16 bytes into the body.
        u32::from_be_bytes(init[48..52].try_into().unwrap())
    }

    #[test]
    fn the_length_lands_in_the_movie_header_in_its_timescale() {
        let init = with_length(init_with(mvhd_v0(1000)), 12_070);
        assert_eq!(duration_v0(&init), 12_070);
        let init = with_length(init_with(mvhd_v0(90_000)), 12_000);
        assert_eq!(duration_v0(&init), 1_080_000);
    }

    #[test]
    fn only_the_duration_changes() {
        let before = init_with(mvhd_v0(1000));
        let after = with_length(before.clone(), 4_000);
        let changed: Vec<usize> = (0..before.len())
            .filter(|&i| before[i] != after[i])
            .collect();
        assert!(changed.iter().all(|i| (48..52).contains(i)), "{changed:?}");
    }

    #[test]
    fn version_one_headers_get_a_64_bit_duration() {
        let mut body = vec![0u8; 112];
        body[0] = 1;
        body[20..24].copy_from_slice(&1000u32.to_be_bytes());
        let init = with_length(init_with(boxed(b"mvhd", &body)), 7_500);
        // ftyp (16) + moov (8) + mvhd header (8) + 24 into the body.
        assert_eq!(u64::from_be_bytes(init[56..64].try_into().unwrap()), 7_500);
    }

    #[test]
    fn malformed_or_truncated_inits_come_back_untouched() {
        let whole = init_with(mvhd_v0(1000));
        for cut in [0, 7, 20, 30, 40, whole.len() - 1] {
            let part = whole[..cut].to_vec();
            assert_eq!(with_length(part.clone(), 5_000), part);
        }
        let mut lying = whole.clone();
        lying[16..20].copy_from_slice(&u32::MAX.to_be_bytes()); // moov claims more than there is
        assert_eq!(with_length(lying.clone(), 5_000), lying);
        let no_moov = boxed(b"ftyp", b"isom");
        assert_eq!(with_length(no_moov.clone(), 5_000), no_moov);
    }
}
