//! What the page knows about each video's processing, and how events and REST answers change it.
//! Pure, so it is tested natively.

use std::collections::HashMap;

use cloister_shared::api::{Event, JobInfo, JobKind, JobPhase, JobStatus};
use cloister_shared::VideoId;

/// Where a video's newest processing job is, in the terms the page shows.
#[derive(Debug, Clone, PartialEq)]
pub enum Stage {
    /// `position` is 1 for the next job to start; unknown after a failed attempt went back.
    Queued {
        position: Option<u64>,
    },
    /// The resource gate holds the job back.
    Waiting {
        reasons: Vec<String>,
        eta_seconds: Option<u64>,
        overdue: bool,
    },
    Processing {
        phase: Option<JobPhase>,
        percent: f32,
        eta_seconds: Option<u64>,
    },
    Ready,
    Failed {
        reason: String,
        will_retry: bool,
    },
    Cancelled,
}

impl Stage {
    /// Queued or waiting: the owner may still cancel it.
    pub fn cancellable(&self) -> bool {
        matches!(self, Self::Queued { .. } | Self::Waiting { .. })
    }

    /// Nothing more will happen by itself.
    pub fn is_final(&self) -> bool {
        matches!(
            self,
            Self::Ready
                | Self::Cancelled
                | Self::Failed {
                    will_retry: false,
                    ..
                }
        )
    }

    pub fn from_job(job: &JobInfo) -> Self {
        match job.status {
            // A failed attempt that will be retried is queued again, with its error kept.
            JobStatus::Queued => match &job.error {
                Some(reason) if job.attempts > 0 => Self::Failed {
                    reason: reason.clone(),
                    will_retry: true,
                },
                _ => Self::Queued {
                    position: job.queue_position,
                },
            },
            JobStatus::WaitingResource => Self::Waiting {
                reasons: job.wait_reasons.clone(),
                eta_seconds: job.eta_seconds,
                overdue: job.overdue,
            },
            JobStatus::Running => Self::Processing {
                phase: job.phase,
                percent: job.percent,
                eta_seconds: job.eta_seconds,
            },
            JobStatus::Done => Self::Ready,
            JobStatus::Failed => Self::Failed {
                reason: job
                    .error
                    .clone()
                    .unwrap_or_else(|| UNKNOWN_REASON.to_owned()),
                will_retry: false,
            },
            JobStatus::Cancelled => Self::Cancelled,
        }
    }
}

const UNKNOWN_REASON: &str = "the server did not say why";

/// The newest job of one video as this page last heard of it.
#[derive(Debug, Clone, PartialEq)]
pub struct JobView {
    pub job_id: i64,
    pub stage: Stage,
    /// The store's revision when this view last changed (see [`Jobs::revision`]).
    pub revision: u64,
}

/// Every video's job view, keyed by video.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct Jobs {
    views: HashMap<VideoId, JobView>,
    /// Counts changes, so a REST answer that was asked for before an event arrived cannot
    /// overwrite what the event said.
    revision: u64,
}

impl Jobs {
    pub fn get(&self, video: &VideoId) -> Option<&JobView> {
        self.views.get(video)
    }

    pub fn revision(&self) -> u64 {
        self.revision
    }

    pub fn videos(&self) -> impl Iterator<Item = &VideoId> {
        self.views.keys()
    }

    /// Videos whose job may still change and that have not changed since `revision`.
    pub fn unsettled_since(&self, revision: u64) -> Vec<VideoId> {
        self.views
            .iter()
            .filter(|(_, view)| !view.stage.is_final() && view.revision <= revision)
            .map(|(video, _)| *video)
            .collect()
    }

    pub fn clear(&mut self) {
        self.views.clear();
    }

    /// Applies a live event. An event about an older job than the one known is ignored.
    pub fn apply_event(&mut self, event: &Event) {
        let stage = match event {
            Event::JobQueued { queue_position, .. } => Stage::Queued {
                position: Some(*queue_position),
            },
            Event::JobStarted { .. } => Stage::Processing {
                phase: None,
                percent: 0.0,
                eta_seconds: None,
            },
            Event::JobProgress {
                phase,
                percent,
                eta_seconds,
                ..
            } => Stage::Processing {
                phase: Some(*phase),
                percent: *percent,
                eta_seconds: *eta_seconds,
            },
            Event::JobDone { .. } => Stage::Ready,
            Event::JobFailed {
                reason, will_retry, ..
            } => Stage::Failed {
                reason: reason.clone(),
                will_retry: *will_retry,
            },
            Event::JobDeferred {
                reasons,
                eta_seconds,
                overdue,
                ..
            } => Stage::Waiting {
                reasons: reasons.clone(),
                eta_seconds: *eta_seconds,
                overdue: *overdue,
            },
            Event::JobCancelled { .. } => Stage::Cancelled,
            // Downloads are not processing stages; the notifications handle them. Library changes
            // reach the gallery through `LiveJobs::library_changed`.
            Event::DownloadReady { .. }
            | Event::DownloadExpired { .. }
            | Event::VideoTrashed { .. }
            | Event::VideoRestored { .. }
            | Event::VideoPurged { .. }
            | Event::VideoEdited { .. }
            | Event::AccessRequested { .. }
            | Event::AccessGranted
            | Event::LibraryKeyChanged { .. } => return,
        };
        let (Some(job_id), Some(video)) = (event.job_id(), event.video_id()) else {
            return;
        };
        self.put(video, job_id, stage);
    }

    /// Applies a job as the REST API reported it, unless the view changed after `asked_at`
    /// (a revision taken before the request went out): then the newer event wins.
    pub fn apply_job(&mut self, job: &JobInfo, asked_at: u64) {
        if job.kind != JobKind::Process {
            return;
        }
        if self
            .views
            .get(&job.video_id)
            .is_some_and(|view| view.revision > asked_at)
        {
            return;
        }
        self.put(job.video_id, job.job_id, Stage::from_job(job));
    }

    /// Records a job this page just created (an upload finished), unless more is known already.
    pub fn track(&mut self, video: VideoId, job_id: i64, queue_position: u64) {
        if self.views.get(&video).is_some_and(|v| v.job_id >= job_id) {
            return;
        }
        self.put(
            video,
            job_id,
            Stage::Queued {
                position: Some(queue_position),
            },
        );
    }

    /// Forgets a video whose jobs the server no longer lists.
    pub fn forget(&mut self, video: &VideoId, asked_at: u64) {
        if self
            .views
            .get(video)
            .is_some_and(|v| v.revision <= asked_at)
        {
            self.views.remove(video);
        }
    }

    fn put(&mut self, video: VideoId, job_id: i64, stage: Stage) {
        if let Some(view) = self.views.get(&video) {
            if view.job_id > job_id || (view.job_id == job_id && view.stage == stage) {
                return;
            }
        }
        self.revision += 1;
        self.views.insert(
            video,
            JobView {
                job_id,
                stage,
                revision: self.revision,
            },
        );
    }
}

/// Decides whether a frame's `seq` shows that frames were missed.
#[derive(Debug, Default)]
pub struct SeqTracker {
    last: Option<i64>,
}

/// What to do with a frame.
#[derive(Debug, PartialEq, Eq)]
pub enum SeqVerdict {
    Apply,
    /// Frames were missed: apply this one, then resync over REST.
    ApplyAndResync,
    /// Older than one already applied: ignore it.
    Stale,
}

impl SeqTracker {
    /// Starts over: a new connection's first frame is taken as it comes (a resync covers the gap).
    pub fn reset(&mut self) {
        self.last = None;
    }

    pub fn check(&mut self, seq: i64) -> SeqVerdict {
        // A personal frame stands outside the global order.
        if seq == cloister_shared::api::events::PERSONAL_SEQ {
            return SeqVerdict::Apply;
        }
        let verdict = match self.last {
            Some(last) if seq < last => return SeqVerdict::Stale,
            Some(last) if seq > last.saturating_add(1) => SeqVerdict::ApplyAndResync,
            _ => SeqVerdict::Apply,
        };
        self.last = Some(seq);
        verdict
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn video(n: u8) -> VideoId {
        VideoId::from_bytes([n; 16])
    }

    fn job(video_id: VideoId, job_id: i64, status: JobStatus) -> JobInfo {
        JobInfo {
            job_id,
            video_id,
            kind: JobKind::Process,
            status,
            phase: None,
            percent: 0.0,
            attempts: 0,
            max_attempts: 3,
            priority: 0,
            queued_at: 0,
            started_at: None,
            finished_at: None,
            retry_at: None,
            eta_seconds: None,
            queue_position: Some(2),
            error: None,
            wait_reasons: Vec::new(),
            overdue: false,
            size_bytes: 1,
            owner: "ann".to_owned(),
        }
    }

    #[test]
    fn events_walk_a_job_from_queued_to_ready() {
        let mut jobs = Jobs::default();
        let v = video(1);
        jobs.apply_event(&Event::JobQueued {
            job_id: 5,
            video_id: v,
            queue_position: 3,
        });
        assert_eq!(
            jobs.get(&v).map(|j| &j.stage),
            Some(&Stage::Queued { position: Some(3) })
        );
        jobs.apply_event(&Event::JobDeferred {
            job_id: 5,
            video_id: v,
            reasons: vec!["RAM in use 90 % (limit 72 %)".to_owned()],
            retry_at: 10,
            eta_seconds: Some(120),
            overdue: false,
        });
        assert!(matches!(
            jobs.get(&v).map(|j| &j.stage),
            Some(Stage::Waiting {
                eta_seconds: Some(120),
                ..
            })
        ));
        jobs.apply_event(&Event::JobProgress {
            job_id: 5,
            video_id: v,
            phase: JobPhase::Transcoding,
            percent: 42.0,
            eta_seconds: Some(30),
        });
        assert!(jobs.get(&v).is_some_and(|j| !j.stage.is_final()));
        jobs.apply_event(&Event::JobDone {
            job_id: 5,
            video_id: v,
        });
        assert_eq!(jobs.get(&v).map(|j| &j.stage), Some(&Stage::Ready));
    }

    #[test]
    fn an_event_about_an_older_job_is_ignored() {
        let mut jobs = Jobs::default();
        let v = video(2);
        jobs.track(v, 9, 1);
        jobs.apply_event(&Event::JobDone {
            job_id: 8,
            video_id: v,
        });
        assert_eq!(
            jobs.get(&v).map(|j| &j.stage),
            Some(&Stage::Queued { position: Some(1) })
        );
    }

    #[test]
    fn a_rest_answer_never_overwrites_a_newer_event() {
        let mut jobs = Jobs::default();
        let v = video(3);
        jobs.track(v, 4, 1);
        let asked_at = jobs.revision();
        // While the request was out, the job started.
        jobs.apply_event(&Event::JobStarted {
            job_id: 4,
            video_id: v,
            attempt: 1,
        });
        jobs.apply_job(&job(v, 4, JobStatus::Queued), asked_at);
        assert!(matches!(
            jobs.get(&v).map(|j| &j.stage),
            Some(Stage::Processing { .. })
        ));
        // A later answer applies.
        let asked_at = jobs.revision();
        jobs.apply_job(&job(v, 4, JobStatus::Done), asked_at);
        assert_eq!(jobs.get(&v).map(|j| &j.stage), Some(&Stage::Ready));
    }

    #[test]
    fn a_queued_job_with_an_error_is_a_failure_that_will_be_retried() {
        let mut info = job(video(4), 1, JobStatus::Queued);
        info.attempts = 1;
        info.error = Some("ffmpeg stopped".to_owned());
        assert_eq!(
            Stage::from_job(&info),
            Stage::Failed {
                reason: "ffmpeg stopped".to_owned(),
                will_retry: true
            }
        );
        let failed = job(video(4), 1, JobStatus::Failed);
        assert_eq!(
            Stage::from_job(&failed),
            Stage::Failed {
                reason: UNKNOWN_REASON.to_owned(),
                will_retry: false
            }
        );
    }

    #[test]
    fn unsettled_views_are_those_not_final_and_not_changed_since() {
        let mut jobs = Jobs::default();
        jobs.track(video(1), 1, 1);
        jobs.apply_event(&Event::JobDone {
            job_id: 2,
            video_id: video(2),
        });
        let asked_at = jobs.revision();
        jobs.track(video(3), 3, 2);
        assert_eq!(jobs.unsettled_since(asked_at), vec![video(1)]);
        jobs.forget(&video(1), asked_at);
        jobs.forget(&video(3), asked_at);
        assert!(jobs.get(&video(1)).is_none());
        assert!(jobs.get(&video(3)).is_some(), "changed after the question");
    }

    #[test]
    fn a_gap_in_seq_asks_for_a_resync() {
        let mut seq = SeqTracker::default();
        assert_eq!(seq.check(10), SeqVerdict::Apply);
        assert_eq!(seq.check(11), SeqVerdict::Apply);
        assert_eq!(seq.check(11), SeqVerdict::Apply);
        assert_eq!(seq.check(9), SeqVerdict::Stale);
        // A personal frame neither counts as a gap nor moves the order.
        assert_eq!(seq.check(0), SeqVerdict::Apply);
        assert_eq!(seq.check(12), SeqVerdict::Apply);
        assert_eq!(seq.check(14), SeqVerdict::ApplyAndResync);
        seq.reset();
        assert_eq!(seq.check(3), SeqVerdict::Apply);
    }
}
