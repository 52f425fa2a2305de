//! Playing a video whole, where the browser cannot stream (no `MediaSource`, no
//! `ManagedMediaSource`: iPhones before iOS 17.1): the init segment and every media segment are
//! opened into one file in memory and played natively. Only up to a limit, chosen in
//! docs/decisions.md ("Playback on every engine") from the memory a phone's tab can spare.

use cloister_shared::manifest::Manifest;

use cloister_shared::protocol::human_bytes;

/// The most a video played whole may weigh, opened: 150 MiB.
pub const WHOLE_FILE_LIMIT_BYTES: u64 = 150 * 1024 * 1024;
/// Where the browser tells the device's memory, no more than this share of it.
const SHARE_OF_DEVICE_MEMORY: f64 = 1.0 / 8.0;
const GIB: f64 = 1024.0 * 1024.0 * 1024.0;

/// The limit on this device: `WHOLE_FILE_LIMIT_BYTES`, or an eighth of the device's memory when
/// the browser says it has less than 1.2 GiB (`deviceMemory` counts binary gigabytes).
pub fn limit(device_memory_gb: Option<f64>) -> u64 {
    match device_memory_gb {
        Some(gb) if gb.is_finite() && gb > 0.0 => {
            let share = (gb * GIB * SHARE_OF_DEVICE_MEMORY) as u64;
            share.min(WHOLE_FILE_LIMIT_BYTES)
        }
        _ => WHOLE_FILE_LIMIT_BYTES,
    }
}

/// The opened size of the whole video: init segment and every media segment.
pub fn size(manifest: &Manifest) -> u64 {
    manifest
        .segments
        .iter()
        .fold(manifest.init.plain_bytes, |sum, segment| {
            sum.saturating_add(segment.file.plain_bytes)
        })
}

/// Whether the video can be played whole here.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    Fits,
    TooLarge { size: u64, limit: u64 },
}

pub fn decide(manifest: &Manifest, device_memory_gb: Option<f64>) -> Decision {
    let (size, limit) = (size(manifest), limit(device_memory_gb));
    if size <= limit {
        Decision::Fits
    } else {
        Decision::TooLarge { size, limit }
    }
}

/// What a video too large to play whole says, beside a "Save (decrypt here)" button.
pub fn too_large_message(size: u64, limit: u64) -> String {
    format!(
        "This browser cannot stream videos, so it plays only videos up to {} here, and this one is {}. Save it to this device to watch it.",
        human_bytes(limit),
        human_bytes(size)
    )
}

/// The MIME type of the whole file: the manifest's without its codecs.
pub fn file_type(mime_codec: &str) -> &str {
    mime_codec.split(';').next().unwrap_or(mime_codec).trim()
}

#[cfg(test)]
mod tests {
    use super::*;
    use cloister_shared::manifest::{Preparation, SealedFile, Segment, MANIFEST_VERSION};

    fn manifest(segment_bytes: u64, count: u64) -> Manifest {
        let file = |plain_bytes| SealedFile {
            salt: "00".repeat(32),
            sealed_bytes: plain_bytes + 100,
            plain_bytes,
        };
        Manifest {
            version: MANIFEST_VERSION,
            rendition: "0123456789abcdef".into(),
            duration_ms: count * 4000,
            width: 640,
            height: 360,
            mime_codec: "video/mp4; codecs=\"avc1.64001e, mp4a.40.2\"".into(),
            has_audio: true,
            preparation: Preparation::Remuxed,
            init: file(1_000),
            segments: (0..count)
                .map(|i| Segment {
                    start_ms: i * 4000,
                    duration_ms: 4000,
                    file: file(segment_bytes),
                })
                .collect(),
            thumb: None,
        }
    }

    #[test]
    fn the_whole_size_is_the_init_and_every_segment_opened() {
        assert_eq!(size(&manifest(250_000, 20)), 5_001_000);
    }

    #[test]
    fn plays_whole_up_to_the_limit_and_not_beyond() {
        // 150 MiB exactly (with the init segment) fits; one segment more does not.
        let at_limit = manifest(1_572_854, 100);
        assert_eq!(size(&at_limit), WHOLE_FILE_LIMIT_BYTES);
        assert_eq!(decide(&at_limit, None), Decision::Fits);
        assert_eq!(
            decide(&manifest(1_572_854, 101), None),
            Decision::TooLarge {
                size: 158_859_254,
                limit: WHOLE_FILE_LIMIT_BYTES
            }
        );
    }

    #[test]
    fn a_device_that_says_it_has_little_memory_gets_a_smaller_limit() {
        assert_eq!(limit(None), WHOLE_FILE_LIMIT_BYTES);
        assert_eq!(limit(Some(8.0)), WHOLE_FILE_LIMIT_BYTES);
        assert_eq!(limit(Some(1.0)), 134_217_728);
        assert_eq!(limit(Some(0.25)), 33_554_432);
        assert_eq!(limit(Some(f64::NAN)), WHOLE_FILE_LIMIT_BYTES);
        assert_eq!(limit(Some(0.0)), WHOLE_FILE_LIMIT_BYTES);
        assert_eq!(
            decide(&manifest(2_000_000, 20), Some(0.25)),
            Decision::TooLarge {
                size: 40_001_000,
                limit: 33_554_432
            }
        );
    }

    #[test]
    fn the_message_is_plain_and_names_no_other_browser() {
        let message = too_large_message(212_000_000, WHOLE_FILE_LIMIT_BYTES);
        assert_eq!(
            message,
            "This browser cannot stream videos, so it plays only videos up to 150.0 MiB here, and this one is 202.2 MiB. Save it to this device to watch it."
        );
        assert!(!message.contains("Safari"));
        assert_eq!(file_type("video/mp4; codecs=\"avc1.64001e\""), "video/mp4");
    }
}
