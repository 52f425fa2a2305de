//! Live processing state (docs/architecture.md, "Events"): one WebSocket to `/api/events` while someone is
//! signed in, feeding a store of each video's newest job that the gallery and the Upload page
//! read. Whatever the socket may have missed (it was down, or `seq` jumped) is fetched again over
//! REST, so the store never stays wrong for long.

pub mod backoff;
#[cfg(feature = "hydrate")]
mod socket;
pub mod state;
pub mod words;

use std::collections::HashSet;

use cloister_shared::api::{Event, JobInfo, JobKind};
use cloister_shared::VideoId;
use leptos::logging::warn;
use leptos::prelude::*;
use leptos::task::spawn_local;

use crate::api;
use crate::notify::Notices;
use crate::session::{Auth, Session};
pub use state::Stage;
use state::{JobView, Jobs};

/// The socket's state, for a small line in the gallery.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Connection {
    /// Nobody is signed in.
    Off,
    Connecting,
    Live,
    /// Lost; trying again in about this many seconds.
    Retrying {
        seconds: u32,
    },
    /// The server no longer knows this session.
    SignedOut,
}

#[cfg(feature = "hydrate")]
type SocketHandle = socket::Handle;
#[cfg(not(feature = "hydrate"))]
type SocketHandle = ();

/// Resyncs asked for while one runs are folded into one more run after it.
#[derive(Debug, Default, Clone, Copy)]
struct ResyncQueue {
    running: bool,
    again: bool,
    again_with_library: bool,
}

#[derive(Clone, Copy)]
pub struct LiveJobs {
    jobs: RwSignal<Jobs>,
    pub connection: RwSignal<Connection>,
    /// Bumped when the library listing may have changed (an upload nobody here knew of, a
    /// reconnect): the gallery fetches its first page again.
    pub library_changed: RwSignal<u64>,
    /// The latest trash, restore, purge or edit event, for an open video view to follow its own
    /// video (close when it is trashed, show the new title when it is edited).
    pub library_event: RwSignal<Option<Event>>,
    resyncs: StoredValue<ResyncQueue>,
    socket: StoredValue<Option<SocketHandle>, LocalStorage>,
    /// Toasts for the events that concern the member (downloads, their own videos' processing).
    notices: Notices,
}

impl LiveJobs {
    /// Creates the store and keeps the socket open exactly while someone is signed in.
    pub fn provide(session: Session, notices: Notices) -> Self {
        let live = Self {
            jobs: RwSignal::new(Jobs::default()),
            connection: RwSignal::new(Connection::Off),
            library_changed: RwSignal::new(0),
            library_event: RwSignal::new(None),
            resyncs: StoredValue::new(ResyncQueue::default()),
            socket: StoredValue::new_local(None),
            notices,
        };
        provide_context(live);
        Effect::new(move |_| {
            if matches!(session.auth.get(), Auth::SignedIn(_)) {
                live.connect();
            } else {
                live.disconnect();
            }
        });
        live
    }

    pub fn get() -> Self {
        expect_context::<Self>()
    }

    /// The newest job's stage for `video`, if this page knows of one (tracked).
    pub fn stage(self, video: &VideoId) -> Option<Stage> {
        self.jobs
            .with(|jobs| jobs.get(video).map(|view| view.stage.clone()))
    }

    /// The newest job's id for `video`, for an action (not tracked).
    pub fn job_id_untracked(self, video: &VideoId) -> Option<i64> {
        self.jobs
            .with_untracked(|jobs| jobs.get(video).map(|view| view.job_id))
    }

    /// Changes whenever any job's state does (not tracked): lists of jobs poll it to refetch.
    pub fn revision_untracked(self) -> u64 {
        self.jobs.with_untracked(Jobs::revision)
    }

    /// Records the job an upload from this page just queued.
    pub fn track_upload(self, video: VideoId, job_id: i64, queue_position: u64) {
        self.change(|jobs| jobs.track(video, job_id, queue_position));
    }

    /// Fetches one video's jobs (a failed video's reason, say) unless the store already knows.
    pub fn load_video(self, video: VideoId) {
        if self.jobs.with_untracked(|jobs| jobs.get(&video).is_some()) {
            return;
        }
        spawn_local(async move {
            let asked_at = self.jobs.with_untracked(Jobs::revision);
            self.refresh_video(video, asked_at).await;
        });
    }

    /// Cancels a queued or waiting job; the error is the server's message.
    pub async fn cancel(self, job_id: i64) -> Result<(), String> {
        let asked_at = self.jobs.with_untracked(Jobs::revision);
        let job = api::cancel_job(job_id).await.map_err(|err| err.message)?;
        self.change(|jobs| jobs.apply_job(&job, asked_at));
        Ok(())
    }

    /// Admins: starts an overdue job although the server is busy.
    pub async fn run_anyway(self, job_id: i64) -> Result<(), String> {
        let asked_at = self.jobs.with_untracked(Jobs::revision);
        let job = api::run_job_anyway(job_id)
            .await
            .map_err(|err| err.message)?;
        self.change(|jobs| jobs.apply_job(&job, asked_at));
        Ok(())
    }

    /// Applies one event from the socket.
    #[cfg_attr(not(feature = "hydrate"), allow(dead_code))]
    fn apply_event(self, event: &Event) {
        let known = self
            .jobs
            .with_untracked(|jobs| event.video_id().is_some_and(|v| jobs.get(&v).is_some()));
        self.change(|jobs| jobs.apply_event(event));
        self.notices.on_event(event);
        match event {
            // Someone uploaded: the gallery should list it.
            Event::JobQueued { .. } if !known => self.bump_library(),
            // Trashed, restored, deleted or retitled: the gallery fetches what it shows again.
            Event::VideoTrashed { .. }
            | Event::VideoRestored { .. }
            | Event::VideoPurged { .. }
            | Event::VideoEdited { .. } => {
                self.library_event.set(Some(event.clone()));
                self.bump_library();
            }
            // A job left the queue, so the others moved up: fetch their new positions.
            Event::JobStarted { .. } | Event::JobCancelled { .. } | Event::JobDone { .. }
                if self.any_queued() =>
            {
                self.resync(false);
            }
            _ => {}
        }
    }

    fn any_queued(self) -> bool {
        self.jobs.with_untracked(|jobs| {
            jobs.videos().any(|video| {
                matches!(
                    jobs.get(video),
                    Some(JobView {
                        stage: Stage::Queued { .. },
                        ..
                    })
                )
            })
        })
    }

    /// Changes the store, and tells readers only if something really changed.
    fn change(self, apply: impl FnOnce(&mut Jobs)) {
        self.jobs.maybe_update(|jobs| {
            let before = jobs.revision();
            apply(jobs);
            jobs.revision() != before
        });
    }

    fn bump_library(self) {
        self.library_changed.update(|n| *n = n.wrapping_add(1));
    }

    /// Fetches the active jobs again, and every job the store thought unfinished that is no longer
    /// among them; with `library`, the gallery refetches its first page too. Runs one at a time.
    pub fn resync(self, library: bool) {
        let busy = self.resyncs.try_update_value(|queue| {
            if queue.running {
                queue.again = true;
                queue.again_with_library |= library;
                true
            } else {
                queue.running = true;
                false
            }
        });
        if busy != Some(false) {
            return;
        }
        spawn_local(async move {
            let mut with_library = library;
            loop {
                self.resync_once().await;
                if with_library {
                    self.bump_library();
                }
                let next = self.resyncs.try_update_value(|queue| {
                    let next = queue.again.then_some(queue.again_with_library);
                    *queue = ResyncQueue {
                        running: next.is_some(),
                        ..ResyncQueue::default()
                    };
                    next
                });
                match next.flatten() {
                    Some(library) => with_library = library,
                    None => break,
                }
            }
        });
    }

    async fn resync_once(self) {
        let asked_at = self.jobs.with_untracked(Jobs::revision);
        let active = match api::active_jobs().await {
            Ok(active) => active,
            Err(err) => {
                warn!(
                    "Live updates: could not fetch the active jobs: {}",
                    err.message
                );
                return;
            }
        };
        let listed: HashSet<VideoId> = active.iter().map(|job| job.video_id).collect();
        self.change(|jobs| {
            for job in &active {
                jobs.apply_job(job, asked_at);
            }
        });
        // Jobs that finished while this page was not listening: ask for each one.
        let finished_meanwhile: Vec<VideoId> = self
            .jobs
            .with_untracked(|jobs| jobs.unsettled_since(asked_at))
            .into_iter()
            .filter(|video| !listed.contains(video))
            .collect();
        for video in finished_meanwhile {
            self.refresh_video(video, asked_at).await;
        }
    }

    async fn refresh_video(self, video: VideoId, asked_at: u64) {
        match api::video_jobs(&video).await {
            Ok(jobs) => {
                let newest: Option<JobInfo> =
                    jobs.into_iter().find(|job| job.kind == JobKind::Process);
                self.change(|store| match &newest {
                    Some(job) => store.apply_job(job, asked_at),
                    None => store.forget(&video, asked_at),
                });
            }
            Err(err) => warn!(
                "Live updates: could not fetch the jobs of video {video}: {}",
                err.message
            ),
        }
    }

    fn connect(self) {
        #[cfg(feature = "hydrate")]
        {
            let running = self
                .socket
                .with_value(|handle| handle.as_ref().is_some_and(|h| !h.finished()));
            if !running {
                self.socket.set_value(Some(socket::start(self)));
            }
        }
    }

    /// Signed out: close the socket and forget every job.
    fn disconnect(self) {
        if let Some(Some(handle)) = self.socket.try_update_value(Option::take) {
            #[cfg(feature = "hydrate")]
            handle.close();
            #[cfg(not(feature = "hydrate"))]
            let () = handle;
        }
        self.jobs.update(Jobs::clear);
        self.notices.clear();
        self.connection.set(Connection::Off);
    }
}
