//! Processing states in plain words: the compact line on a gallery tile and the fuller banner on
//! the Upload page. The seed's messages come from `cloister_shared::api::jobs`.

use cloister_shared::api::jobs::{
    deferred_message, describe_wait, failed_message, OVERDUE_MESSAGE,
};
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

/// The tile's status line, e.g. "Converting — 42 % · about 2 minutes left".
pub fn tile_line(stage: Option<&Stage>) -> String {
    let Some(stage) = stage else {
        return "Uploading…".to_owned();
    };
    match stage {
        Stage::Queued {
            position: Some(position),
        } => format!("Queued — position {position}"),
        Stage::Queued { position: None } => "Queued".to_owned(),
        Stage::Waiting {
            reasons,
            eta_seconds,
            overdue,
        } => {
            let mut line = "Waiting for resources".to_owned();
            if !reasons.is_empty() {
                line.push_str(": ");
                line.push_str(&reasons.join("; "));
            }
            line.push('.');
            if let Some(eta) = eta_seconds {
                line.push_str(&format!(" Estimated wait: {}.", describe_wait(*eta)));
            }
            if *overdue {
                line.push(' ');
                line.push_str(OVERDUE_MESSAGE);
            }
            line
        }
        Stage::Processing { .. } => progress_line(stage),
        Stage::Ready => "Ready".to_owned(),
        Stage::Failed { reason, will_retry } => {
            let mut line = if reason.is_empty() {
                "Failed".to_owned()
            } else {
                format!("Failed: {reason}")
            };
            if *will_retry {
                line.push_str(" — will retry automatically");
            }
            line
        }
        Stage::Cancelled => "Processing cancelled".to_owned(),
    }
}

/// The Upload page's banner once the file is stored: the seed's messages in full.
pub fn banner_line(stage: &Stage) -> String {
    match stage {
        Stage::Queued {
            position: Some(position),
        } => format!("Waiting in the processing queue — position {position}."),
        Stage::Queued { position: None } => "Waiting in the processing queue.".to_owned(),
        Stage::Waiting {
            reasons,
            eta_seconds,
            overdue,
        } => {
            let mut message = deferred_message(reasons, *eta_seconds);
            if *overdue {
                message.push(' ');
                message.push_str(OVERDUE_MESSAGE);
            }
            message
        }
        Stage::Processing { .. } => format!("{}.", progress_line(stage)),
        Stage::Ready => "Ready to watch.".to_owned(),
        Stage::Failed { reason, will_retry } => {
            let reason = if reason.is_empty() {
                "the server did not say why"
            } else {
                reason
            };
            failed_message(reason, *will_retry)
        }
        Stage::Cancelled => {
            "Processing was cancelled. The encrypted original is still stored.".to_owned()
        }
    }
}

fn progress_line(stage: &Stage) -> String {
    let Stage::Processing {
        phase,
        percent,
        eta_seconds,
    } = stage
    else {
        return String::new();
    };
    // The interrupted attempt's percentage means nothing: the job starts over.
    if let Some(interrupted @ JobPhase::Interrupted) = phase {
        return interrupted.label().to_owned();
    }
    let label = phase.map_or("Processing", |phase| phase.label());
    let mut line = format!("{label} — {} %", whole_percent(*percent));
    if let Some(eta) = eta_seconds {
        line.push_str(&format!(" · {} left", describe_wait(*eta)));
    }
    line
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tiles_say_where_processing_is() {
        assert_eq!(tile_line(None), "Uploading…");
        assert_eq!(
            tile_line(Some(&Stage::Queued { position: Some(2) })),
            "Queued — position 2"
        );
        let waiting = Stage::Waiting {
            reasons: vec!["RAM in use 90 % (limit 72 %)".to_owned()],
            eta_seconds: Some(600),
            overdue: false,
        };
        assert_eq!(
            tile_line(Some(&waiting)),
            "Waiting for resources: RAM in use 90 % (limit 72 %). Estimated wait: about 10 minutes."
        );
        let processing = Stage::Processing {
            phase: Some(JobPhase::Transcoding),
            percent: 42.7,
            eta_seconds: Some(130),
        };
        assert_eq!(
            tile_line(Some(&processing)),
            "Converting — 42 % · about 2 minutes left"
        );
        assert_eq!(tile_line(Some(&Stage::Ready)), "Ready");
        let failed = Stage::Failed {
            reason: "the file is not a video".to_owned(),
            will_retry: true,
        };
        assert_eq!(
            tile_line(Some(&failed)),
            "Failed: the file is not a video — will retry automatically"
        );
    }

    #[test]
    fn a_job_whose_process_died_says_it_resumes() {
        let interrupted = Stage::Processing {
            phase: Some(JobPhase::Interrupted),
            percent: 37.0,
            eta_seconds: Some(100),
        };
        assert_eq!(tile_line(Some(&interrupted)), "Interrupted, resuming");
        assert_eq!(banner_line(&interrupted), "Interrupted, resuming.");
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
        assert_eq!(tile_line(Some(&view.stage)), "Interrupted, resuming");
    }

    #[test]
    fn an_overdue_wait_says_an_admin_can_start_it() {
        let waiting = Stage::Waiting {
            reasons: Vec::new(),
            eta_seconds: None,
            overdue: true,
        };
        assert_eq!(
            tile_line(Some(&waiting)),
            format!("Waiting for resources. {OVERDUE_MESSAGE}")
        );
        assert!(banner_line(&waiting).starts_with("Processing delayed: server busy."));
    }

    #[test]
    fn the_banner_uses_the_seed_messages() {
        let waiting = Stage::Waiting {
            reasons: vec!["RAM in use 74 % (limit 72 %)".to_owned()],
            eta_seconds: Some(720),
            overdue: false,
        };
        assert_eq!(
            banner_line(&waiting),
            deferred_message(&["RAM in use 74 % (limit 72 %)".to_owned()], Some(720))
        );
        let failed = Stage::Failed {
            reason: "ffmpeg stopped".to_owned(),
            will_retry: false,
        };
        assert_eq!(
            banner_line(&failed),
            failed_message("ffmpeg stopped", false)
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
