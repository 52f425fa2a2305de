//! The MSE codec string, read from the init segment ffmpeg wrote: a small, bounds-checked MP4 box
//! reader (`moov/trak/mdia/minf/stbl/stsd`, then `avcC` and `esds`). Malformed input yields
//! `None`s, never a panic.

/// What the init segment says about its tracks.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub(crate) struct InitInfo {
    /// e.g. `avc1.64001f`.
    pub video: Option<String>,
    /// e.g. `mp4a.40.2`.
    pub audio: Option<String>,
}

impl InitInfo {
    /// `video/mp4; codecs="avc1.64001f,mp4a.40.2"`, for `MediaSource.isTypeSupported`.
    pub fn mime(&self) -> Option<String> {
        let video = self.video.as_deref()?;
        Some(match &self.audio {
            Some(audio) => format!("video/mp4; codecs=\"{video},{audio}\""),
            None => format!("video/mp4; codecs=\"{video}\""),
        })
    }
}

/// One box: its four-character type and its body (after the header).
#[derive(Debug, Clone, Copy)]
pub(super) struct Mp4Box<'a> {
    pub kind: [u8; 4],
    pub body: &'a [u8],
}

/// The boxes laid end to end in `data`; stops at the first malformed header.
pub(super) struct Boxes<'a> {
    rest: &'a [u8],
}

pub(super) fn boxes(data: &[u8]) -> Boxes<'_> {
    Boxes { rest: data }
}

impl<'a> Iterator for Boxes<'a> {
    type Item = Mp4Box<'a>;

    fn next(&mut self) -> Option<Mp4Box<'a>> {
        let data = self.rest;
        let parsed = (|| {
            let size32 = u32::from_be_bytes(data.get(0..4)?.try_into().ok()?);
            let kind: [u8; 4] = data.get(4..8)?.try_into().ok()?;
            let (header, size) = match size32 {
                1 => {
                    let size64 = u64::from_be_bytes(data.get(8..16)?.try_into().ok()?);
                    (16usize, usize::try_from(size64).ok()?)
                }
                0 => (8usize, data.len()),
                n => (8usize, usize::try_from(n).ok()?),
            };
            if size < header {
                return None;
            }
            let body = data.get(header..size)?;
            let rest = data.get(size..)?;
            Some((Mp4Box { kind, body }, rest))
        })();
        match parsed {
            Some((b, rest)) => {
                self.rest = rest;
                Some(b)
            }
            None => {
                self.rest = &[];
                None
            }
        }
    }
}

pub(super) fn child<'a>(data: &'a [u8], kind: &[u8; 4]) -> Option<&'a [u8]> {
    boxes(data).find(|b| &b.kind == kind).map(|b| b.body)
}

pub(super) fn path<'a>(data: &'a [u8], kinds: &[&[u8; 4]]) -> Option<&'a [u8]> {
    kinds.iter().try_fold(data, |d, k| child(d, k))
}

/// Reads the codecs of the init segment's first video and first audio track.
pub(crate) fn parse_init(data: &[u8]) -> InitInfo {
    let mut info = InitInfo::default();
    let Some(moov) = child(data, b"moov") else {
        return info;
    };
    for trak in boxes(moov).filter(|b| &b.kind == b"trak") {
        let Some(mdia) = child(trak.body, b"mdia") else {
            continue;
        };
        let handler = child(mdia, b"hdlr").and_then(|h| h.get(8..12));
        let Some(entry) = path(mdia, &[b"minf", b"stbl", b"stsd"])
            .and_then(|stsd| stsd.get(8..))
            .and_then(|entries| boxes(entries).next())
        else {
            continue;
        };
        match handler {
            Some(b"vide") if info.video.is_none() => info.video = video_codec(entry),
            Some(b"soun") if info.audio.is_none() => info.audio = audio_codec(entry),
            _ => {}
        }
    }
    info
}

/// `avc1.PPCCLL` from the `avcC` of an `avc1`/`avc3` sample entry.
fn video_codec(entry: Mp4Box<'_>) -> Option<String> {
    let prefix = match &entry.kind {
        b"avc1" => "avc1",
        b"avc3" => "avc3",
        _ => return None,
    };
    // VisualSampleEntry: 8 bytes SampleEntry + 70 bytes of picture fields, then child boxes.
    let avcc = child(entry.body.get(78..)?, b"avcC")?;
    let (profile, compat, level) = (*avcc.get(1)?, *avcc.get(2)?, *avcc.get(3)?);
    Some(format!("{prefix}.{profile:02x}{compat:02x}{level:02x}"))
}

/// `mp4a.40.<audio object type>`; the object type from the AudioSpecificConfig in `esds` when it
/// can be read, else 2 (AAC LC).
fn audio_codec(entry: Mp4Box<'_>) -> Option<String> {
    if &entry.kind != b"mp4a" {
        return None;
    }
    // AudioSampleEntry: 8 bytes SampleEntry, a 16-bit version, then 18 more bytes (version 0);
    // QuickTime versions 1 and 2 add 16 and 36 bytes.
    let version = entry
        .body
        .get(8..10)
        .and_then(|v| <[u8; 2]>::try_from(v).ok())
        .map_or(0, u16::from_be_bytes);
    let children_at = match version {
        1 => 28 + 16,
        2 => 28 + 36,
        _ => 28,
    };
    let esds = entry.body.get(children_at..).and_then(|children| {
        child(children, b"esds").or_else(|| path(children, &[b"wave", b"esds"]))
    });
    let (oti, aot) = esds.and_then(parse_esds).unwrap_or((0x40, Some(2)));
    Some(match aot {
        Some(aot) if oti == 0x40 => format!("mp4a.40.{aot}"),
        _ => format!("mp4a.{oti:02x}"),
    })
}

/// From an `esds` body: the object type indication and, for MPEG-4 audio, the audio object type.
fn parse_esds(esds: &[u8]) -> Option<(u8, Option<u8>)> {
    let (tag, es, _) = descriptor(esds.get(4..)?)?;
    if tag != 0x03 {
        return None;
    }
    let flags = *es.get(2)?;
    let mut at = 3usize;
    if flags & 0x80 != 0 {
        at += 2; // dependsOn_ES_ID
    }
    if flags & 0x40 != 0 {
        at += 1 + usize::from(*es.get(at)?); // URL
    }
    if flags & 0x20 != 0 {
        at += 2; // OCR_ES_Id
    }
    let mut rest = es.get(at..)?;
    while let Some((tag, body, next)) = descriptor(rest) {
        if tag == 0x04 {
            let oti = *body.first()?;
            let mut inner = body.get(13..).unwrap_or_default();
            let mut aot = None;
            while let Some((tag, asc, next)) = descriptor(inner) {
                if tag == 0x05 {
                    aot = audio_object_type(asc);
                    break;
                }
                inner = next;
            }
            return Some((oti, aot));
        }
        rest = next;
    }
    None
}

/// One MPEG-4 descriptor: (tag, body, what follows). The size takes 1–4 bytes of 7 bits.
fn descriptor(data: &[u8]) -> Option<(u8, &[u8], &[u8])> {
    let tag = *data.first()?;
    let mut len = 0usize;
    let mut at = 1usize;
    loop {
        let b = *data.get(at)?;
        len = (len << 7) | usize::from(b & 0x7f);
        at += 1;
        if b & 0x80 == 0 {
            break;
        }
        if at > 4 {
            return None;
        }
    }
    let end = at.checked_add(len)?;
    Some((tag, data.get(at..end)?, data.get(end..)?))
}

/// The first 5 bits of an AudioSpecificConfig (6 more, plus 32, when they are all ones).
fn audio_object_type(asc: &[u8]) -> Option<u8> {
    let b0 = *asc.first()?;
    let aot = b0 >> 3;
    if aot == 31 {
        let b1 = *asc.get(1)?;
        Some(32 + (((b0 & 0x07) << 3) | (b1 >> 5)))
    } else if aot == 0 {
        None
    } else {
        Some(aot)
    }
}

/// One box around `body`, for tests that build MP4 data.
#[cfg(test)]
pub(super) fn mp4_box(kind: &[u8; 4], body: &[u8]) -> Vec<u8> {
    let mut out = ((body.len() + 8) as u32).to_be_bytes().to_vec();
    out.extend_from_slice(kind);
    out.extend_from_slice(body);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn trak(handler: &[u8; 4], entry: Vec<u8>) -> Vec<u8> {
        let mut hdlr = vec![0u8; 8];
        hdlr.extend_from_slice(handler);
        hdlr.extend_from_slice(&[0u8; 12]);
        let mut stsd = vec![0, 0, 0, 0, 0, 0, 0, 1];
        stsd.extend(entry);
        let stbl = mp4_box(b"stbl", &mp4_box(b"stsd", &stsd));
        let minf = mp4_box(b"minf", &stbl);
        let mut mdia = mp4_box(b"hdlr", &hdlr);
        mdia.extend(minf);
        mp4_box(b"trak", &mp4_box(b"mdia", &mdia))
    }

    fn avc1() -> Vec<u8> {
        let mut body = vec![0u8; 78];
        body.extend(mp4_box(b"avcC", &[1, 0x64, 0x00, 0x1f, 0xff]));
        mp4_box(b"avc1", &body)
    }

    fn mp4a(asc: &[u8]) -> Vec<u8> {
        let mut body = vec![0u8; 28];
        // esds: version/flags, ES_Descriptor(ES_ID, flags, DecoderConfig(oti 0x40 …, ASC)).
        let mut dsi = vec![0x05, asc.len() as u8];
        dsi.extend_from_slice(asc);
        let mut dcd = vec![0x04, (13 + dsi.len()) as u8, 0x40, 0x15];
        dcd.extend_from_slice(&[0; 11]);
        dcd.extend(dsi);
        // The ES descriptor's size in the 4-byte form ffmpeg writes.
        let mut es = vec![0x03, 0x80, 0x80, 0x80, (3 + dcd.len()) as u8, 0, 1, 0];
        es.extend(dcd);
        let mut esds = vec![0, 0, 0, 0];
        esds.extend(es);
        body.extend(mp4_box(b"esds", &esds));
        mp4_box(b"mp4a", &body)
    }

    fn init(traks: &[Vec<u8>]) -> Vec<u8> {
        let mut moov = Vec::new();
        for t in traks {
            moov.extend_from_slice(t);
        }
        let mut file = mp4_box(b"ftyp", b"isom\0\0\x02\0");
        file.extend(mp4_box(b"moov", &moov));
        file
    }

    #[test]
    fn codecs_are_read_from_the_init_segment() {
        let data = init(&[trak(b"vide", avc1()), trak(b"soun", mp4a(&[0x11, 0x90]))]);
        let info = parse_init(&data);
        assert_eq!(info.video.as_deref(), Some("avc1.64001f"));
        assert_eq!(info.audio.as_deref(), Some("mp4a.40.2"));
        assert_eq!(
            info.mime().unwrap(),
            "video/mp4; codecs=\"avc1.64001f,mp4a.40.2\""
        );
        // HE-AAC signalled explicitly (object type 5), and the escape form (31 → 32 + 6 bits).
        let he = parse_init(&init(&[trak(b"soun", mp4a(&[0x2b, 0x92]))]));
        assert_eq!(he.audio.as_deref(), Some("mp4a.40.5"));
        let escaped = parse_init(&init(&[trak(b"soun", mp4a(&[0xf8, 0x20]))]));
        assert_eq!(escaped.audio.as_deref(), Some("mp4a.40.33"));
        assert_eq!(he.mime(), None, "no video, no codec string");
    }

    #[test]
    fn video_alone_has_no_audio_codec() {
        let info = parse_init(&init(&[trak(b"vide", avc1())]));
        assert_eq!(info.mime().unwrap(), "video/mp4; codecs=\"avc1.64001f\"");
    }

    #[test]
    fn malformed_input_never_panics() {
        let good = init(&[trak(b"vide", avc1()), trak(b"soun", mp4a(&[0x11, 0x90]))]);
        // Every truncation, and every single-byte corruption, of a good init segment.
        for len in 0..good.len() {
            let _ = parse_init(&good[..len]);
        }
        for i in 0..good.len() {
            for v in [0x00, 0x01, 0x7f, 0x80, 0xff] {
                let mut bad = good.clone();
                bad[i] = v;
                let _ = parse_init(&bad);
            }
        }
        // Oversized 64-bit sizes and zero sizes.
        let mut huge = vec![0, 0, 0, 1];
        huge.extend_from_slice(b"moov");
        huge.extend_from_slice(&u64::MAX.to_be_bytes());
        assert_eq!(parse_init(&huge), InitInfo::default());
        assert_eq!(
            parse_init(&[0, 0, 0, 0, b'm', b'o', b'o', b'v']),
            InitInfo::default()
        );
        assert_eq!(descriptor(&[0x03, 0xff, 0xff, 0xff, 0xff, 0x01]), None);
    }
}
