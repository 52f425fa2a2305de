//! Live events turned into toasts: a download that became ready or expired (personal frames), and
//! the processing of the signed-in member's own videos: done, or failed for good. A deferral is
//! no toast: the member just uploaded, and the busy banner says it once for everyone
//! (docs/architecture.md, "Messages members see"). Events do not say whose a video is, so the first
//! event about a video asks `GET /api/videos/{id}` once and keeps the answer (and the title,
//! opened with the library key when the tab holds it).

use std::collections::HashMap;

use cloister_shared::api::Event;
use cloister_shared::VideoId;
use leptos::prelude::*;

use super::words;
use super::{Grouping, Notice, Notices, ToastAction, Tone};
use crate::session::Auth;

/// What this tab learnt about a video: whether it is the member's, and its title if it opened.
#[derive(Clone, Debug, PartialEq)]
struct Owned {
    mine: bool,
    title: Option<String>,
}

#[derive(Clone, Copy)]
pub struct Owners(StoredValue<HashMap<VideoId, Owned>>);

impl Default for Owners {
    fn default() -> Self {
        Self(StoredValue::new(HashMap::new()))
    }
}

impl Owners {
    pub fn clear(self) {
        self.0.update_value(HashMap::clear);
    }
}

impl Notices {
    /// Called by the live socket for every event it applies.
    pub fn on_event(self, event: &Event) {
        match event {
            Event::DownloadReady {
                download_id,
                file_name,
                url,
                ..
            } => {
                self.push(
                    Notice::new(
                        format!("download:{download_id}"),
                        "download-ready",
                        Tone::Success,
                        words::download_ready(file_name),
                    )
                    .with(ToastAction::Link {
                        label: "Download",
                        href: url.clone(),
                        download: true,
                    }),
                );
                Self::bump(self.downloads_changed);
            }
            Event::DownloadExpired {
                download_id,
                video_id,
                file_name,
            } => {
                self.push(
                    Notice::new(
                        format!("download:{download_id}"),
                        "download-expired",
                        Tone::Warning,
                        words::download_expired(file_name),
                    )
                    .with(watch_link("Open the video", video_id)),
                );
                Self::bump(self.downloads_changed);
            }
            // Someone waits, was let in, or the library key changed: the status says what now,
            // and a private key this tab holds opens a new grant (session.rs).
            Event::AccessRequested { .. }
            | Event::AccessGranted
            | Event::LibraryKeyChanged { .. } => {
                leptos::task::spawn_local(self.session.refresh_library());
            }
            // The banner reads the load now; the tile says "Waiting".
            Event::JobDeferred { .. } => Self::bump(self.load_poke),
            Event::JobDone { .. }
            | Event::JobFailed {
                will_retry: false, ..
            } => {
                self.about_own_video(event.clone());
            }
            _ => {}
        }
    }

    /// Shows the toast for a processing event if the video is the member's own.
    fn about_own_video(self, event: Event) {
        let Some(video) = event.video_id() else {
            return;
        };
        if let Some(owned) = self.owners.0.with_value(|map| map.get(&video).cloned()) {
            self.processing_toast(&event, &owned);
            return;
        }
        leptos::task::spawn_local(async move {
            let Ok(summary) = crate::api::video(&video).await else {
                return;
            };
            let me = match self.session.auth.get_untracked() {
                Auth::SignedIn(me) => me.username,
                _ => return,
            };
            let title = self
                .session
                .key
                .with_untracked(|key| key.as_ref().and_then(|key| summary.open_title(key)));
            let owned = Owned {
                mine: summary.owner == me,
                title,
            };
            self.owners.0.update_value(|map| {
                map.insert(video, owned.clone());
            });
            self.processing_toast(&event, &owned);
        });
    }

    fn processing_toast(self, event: &Event, owned: &Owned) {
        if !owned.mine {
            return;
        }
        let title = owned.title.as_deref();
        match event {
            Event::JobDone { job_id, video_id } => self.push(
                Notice::new(
                    "videos-ready",
                    "processing-done",
                    Tone::Success,
                    words::processing_done(title),
                )
                .with(watch_link("Watch", video_id))
                .grouped(Grouping {
                    item: format!("ready:{job_id}"),
                    many: words::videos_ready,
                    many_actions: vec![ToastAction::Link {
                        label: "Open the library",
                        href: "/".to_owned(),
                        download: false,
                    }],
                }),
            ),
            Event::JobFailed { job_id, reason, .. } => self.push(
                Notice::new(
                    "videos-failed",
                    "processing-failed",
                    Tone::Error,
                    words::processing_failed(title, reason),
                )
                .grouped(Grouping {
                    item: format!("failed:{job_id}"),
                    many: words::videos_failed,
                    many_actions: Vec::new(),
                }),
            ),
            _ => {}
        }
    }
}

/// A link to the video view (client-side: the tab keeps the library key).
fn watch_link(label: &'static str, video: &VideoId) -> ToastAction {
    ToastAction::Link {
        label,
        href: format!("/videos/{video}"),
        download: false,
    }
}
