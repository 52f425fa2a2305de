//! Processing states in plain words, short: the status on a gallery tile and on an upload card.
//! Why videos wait is told once, by the busy banner (docs/architecture.md, "Messages members
//! see"); these never show the machine's figures.

use cloister_shared::api::{JobPhase, VideoStatus};

use super::state::Stage;

/// What a tile shows: the live stage when this page has one, else what the listing said.
/// `None` means the video is still being uploaded.
pub fn tile_stage(listing: VideoStatus, live: Option<&Stage>) -> Option<Stage> {
    if let Some(stage) = live {
        return Some(stage.clone());
    }
    match listing {
        VideoStatus::Uploading => None,
        VideoStatus::Uploaded => Some(Stage::Queued { position: None }),
        VideoStatus::Processing => Some(Stage::Processing {
            phase: None,
            percent: 0.0,
            eta_seconds: None,
        }),
        VideoStatus::Ready => Some(Stage::Ready),
        // The reason comes with the video's jobs, fetched separately.
        VideoStatus::Failed => Some(Stage::Failed {
            reason: String::new(),
            will_retry: false,
        }),
    }
}

/// The `data-status` value: uploading, queued, waiting, processing, ready, failed, cancelled.
pub fn status_name(stage: Option<&Stage>) -> &'static str {
    match stage {
        None => "uploading",
        Some(Stage::Queued { .. }) => "queued",
        Some(Stage::Waiting { .. }) => "waiting",
        Some(Stage::Processing { .. }) => "processing",
        Some(Stage::Ready) => "ready",
        Some(Stage::Failed { .. }) => "failed",
        Some(Stage::Cancelled) => "cancelled",
    }
}

/// A whole percentage for display, never above 100 or below 0 whatever the server sent.
pub fn whole_percent(percent: f32) -> u32 {
    if percent.is_nan() {
        return 0;
    }
    percent.clamp(0.0, 100.0).floor() as u32
}

/// The tile's status: a word or two ("Waiting", "Processing 40%", "Ready", "Failed"). Why a video
/// waits is said once, by the busy banner (docs/architecture.md, "Messages members see").
pub fn tile_line(stage: Option<&Stage>) -> String {
    let Some(stage) = stage else {
        return "Uploading".to_owned();
    };
    match stage {
        Stage::Queued { .. } | Stage::Waiting { .. } => "Waiting".to_owned(),
        Stage::Processing { .. } => progress_line(stage),
        Stage::Ready => "Ready".to_owned(),
        Stage::Failed {
            will_retry: true, ..
        } => "Failed, will retry".to_owned(),
        Stage::Failed { .. } => "Failed".to_owned(),
        Stage::Cancelled => "Processing cancelled".to_owned(),
    }
}

/// Why processing failed, for a "details on demand" under the short status; `None` when the
/// server did not say or nothing failed.
pub fn failure_detail(stage: Option<&Stage>) -> Option<String> {
    match stage {
        Some(Stage::Failed { reason, will_retry }) if !reason.is_empty() => {
            let mut line = upper_first(reason);
            line.push('.');
            line.push_str(if *will_retry {
                " It will be tried again automatically."
            } else {
                " The original is kept; an admin can look into it."
            });
            Some(line)
        }
        _ => None,
    }
}

/// The upload card's line once the file is stored: short, like the tile's.
pub fn banner_line(stage: &Stage) -> String {
    match stage {
        Stage::Queued { .. } | Stage::Waiting { .. } => {
            "Stored — waiting to be processed.".to_owned()
        }
        Stage::Processing { .. } => format!("Stored — {}.", lower_first(&progress_line(stage))),
        Stage::Ready => "Ready to watch.".to_owned(),
        Stage::Failed { reason, will_retry } => {
            let mut line = "Stored, but processing failed".to_owned();
            if !reason.is_empty() {
                line.push_str(": ");
                line.push_str(reason);
            }
            line.push_str(if *will_retry {
                ". It will be tried again automatically."
            } else {
                ". The original is kept; an admin can look into it."
            });
            line
        }
        Stage::Cancelled => {
            "Processing was cancelled. The encrypted original is still stored.".to_owned()
        }
    }
}

/// "Processing 40%", or "Resuming" after the process running the job stopped (its percentage
/// means nothing then: the job starts over).
fn progress_line(stage: &Stage) -> String {
    match stage {
        Stage::Processing {
            phase: Some(JobPhase::Interrupted),
            ..
        } => "Resuming".to_owned(),
        Stage::Processing { percent, .. } => format!("Processing {}%", whole_percent(*percent)),
        _ => String::new(),
    }
}

fn upper_first(text: &str) -> String {
    let mut chars = text.chars();
    chars.next().map_or_else(String::new, |first| {
        first.to_uppercase().chain(chars).collect()
    })
}

fn lower_first(text: &str) -> String {
    let mut chars = text.chars();
    chars.next().map_or_else(String::new, |first| {
        first.to_lowercase().chain(chars).collect()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tiles_say_a_word_or_two() {
        assert_eq!(tile_line(None), "Uploading");
        assert_eq!(
            tile_line(Some(&Stage::Queued { position: Some(2) })),
            "Waiting"
        );
        let waiting = Stage::Waiting {
            reasons: vec!["RAM in use 90 % (limit 72 %)".to_owned()],
            eta_seconds: Some(600),
            overdue: true,
        };
        assert_eq!(tile_line(Some(&waiting)), "Waiting");
        let processing = Stage::Processing {
            phase: Some(JobPhase::Transcoding),
            percent: 42.7,
            eta_seconds: Some(130),
        };
        assert_eq!(tile_line(Some(&processing)), "Processing 42%");
        assert_eq!(tile_line(Some(&Stage::Ready)), "Ready");
        let failed = Stage::Failed {
            reason: "the file is not a video".to_owned(),
            will_retry: true,
        };
        assert_eq!(tile_line(Some(&failed)), "Failed, will retry");
        assert_eq!(
            failure_detail(Some(&failed)).as_deref(),
            Some("The file is not a video. It will be tried again automatically.")
        );
        assert_eq!(failure_detail(Some(&Stage::Ready)), None);
    }

    #[test]
    fn no_status_shows_numbers_of_the_machine_or_a_decrypting_step() {
        let stages = [
            Stage::Waiting {
                reasons: vec!["load 2.6 over the last minute (limit 2.0 on 2 cores)".to_owned()],
                eta_seconds: Some(600),
                overdue: false,
            },
            Stage::Processing {
                phase: Some(JobPhase::Decrypting),
                percent: 3.0,
                eta_seconds: None,
            },
        ];
        for stage in &stages {
            for line in [tile_line(Some(stage)), banner_line(stage)] {
                assert!(!line.contains("load"), "{line}");
                assert!(!line.contains("limit"), "{line}");
                assert!(!line.to_lowercase().contains("decrypt"), "{line}");
            }
        }
    }

    #[test]
    fn a_job_whose_process_died_says_it_resumes() {
        let interrupted = Stage::Processing {
            phase: Some(JobPhase::Interrupted),
            percent: 37.0,
            eta_seconds: Some(100),
        };
        assert_eq!(tile_line(Some(&interrupted)), "Resuming");
        assert_eq!(banner_line(&interrupted), "Stored — resuming.");
        let event = cloister_shared::api::Event::JobProgress {
            job_id: 4,
            video_id: cloister_shared::VideoId::from_bytes([1; 16]),
            phase: JobPhase::Interrupted,
            percent: 0.0,
            eta_seconds: None,
        };
        let mut jobs = super::super::state::Jobs::default();
        jobs.apply_event(&event);
        let view = jobs
            .get(&cloister_shared::VideoId::from_bytes([1; 16]))
            .expect("a view");
        assert_eq!(tile_line(Some(&view.stage)), "Resuming");
    }

    #[test]
    fn the_upload_card_is_short_too() {
        let waiting = Stage::Waiting {
            reasons: vec!["RAM in use 74 % (limit 72 %)".to_owned()],
            eta_seconds: Some(720),
            overdue: false,
        };
        assert_eq!(banner_line(&waiting), "Stored — waiting to be processed.");
        let processing = Stage::Processing {
            phase: Some(JobPhase::Sealing),
            percent: 80.2,
            eta_seconds: None,
        };
        assert_eq!(banner_line(&processing), "Stored — processing 80%.");
        let failed = Stage::Failed {
            reason: "ffmpeg stopped".to_owned(),
            will_retry: false,
        };
        assert_eq!(
            banner_line(&failed),
            "Stored, but processing failed: ffmpeg stopped. The original is kept; an admin can look into it."
        );
    }

    #[test]
    fn the_listing_stands_in_until_live_state_arrives() {
        assert_eq!(tile_stage(VideoStatus::Uploading, None), None);
        assert_eq!(
            status_name(tile_stage(VideoStatus::Uploaded, None).as_ref()),
            "queued"
        );
        assert_eq!(
            tile_stage(VideoStatus::Processing, Some(&Stage::Ready)),
            Some(Stage::Ready)
        );
        assert_eq!(
            tile_line(tile_stage(VideoStatus::Failed, None).as_ref()),
            "Failed"
        );
    }

    #[test]
    fn percentages_are_whole_and_bounded() {
        assert_eq!(whole_percent(99.9), 99);
        assert_eq!(whole_percent(140.0), 100);
        assert_eq!(whole_percent(-3.0), 0);
        assert_eq!(whole_percent(f32::NAN), 0);
    }
}
