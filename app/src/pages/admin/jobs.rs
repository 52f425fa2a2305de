//! The Jobs section: every job with status, phase, percent, attempts, errors and timings, kept
//! current by the live events, with Cancel, Kill (both asked first), Retry and queue moves.

use std::cell::Cell;
use std::rc::Rc;

use cloister_shared::api::admin::{AdminJob, PriorityRequest};
use cloister_shared::api::JobStatus;
use leptos::prelude::*;
use leptos::task::spawn_local;

use super::format::{ago, bytes, span, unix_now};
use crate::api;
use crate::components::ErrorLine;
use crate::live::words::{status_name, tile_line};
use crate::live::{LiveJobs, Stage};
use crate::session::Session;

/// What a button asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Action {
    Cancel,
    Kill,
    Retry,
    Move(PriorityRequest),
    RunAnyway,
}

impl Action {
    /// Destructive actions are asked about first, in these words.
    fn question(self, job: i64) -> Option<String> {
        match self {
            Self::Cancel => Some(format!(
                "Cancel job {job} for good? A running ffmpeg is stopped; the encrypted original \
                 stays, and Retry can run it again."
            )),
            Self::Kill => Some(format!(
                "Kill job {job}'s ffmpeg? This attempt ends as if the server had crashed; the \
                 job is tried again after a short wait (or fails, if it was its last attempt)."
            )),
            _ => None,
        }
    }
}

/// How many seconds at most between two listings when no event arrives (a held-back job moved in
/// the queue sends none).
const REFRESH_EVERY_TICKS: u32 = 10;

#[component]
pub fn JobsPanel() -> impl IntoView {
    let jobs = RwSignal::new(Vec::<AdminJob>::new());
    let error = RwSignal::new(None::<String>);
    let asking = RwSignal::new(None::<(i64, Action)>);
    let live = LiveJobs::get();
    let session = Session::get();
    let reload = move || async move {
        match api::admin_jobs().await {
            Ok(list) => {
                jobs.try_set(list);
            }
            Err(err) => {
                error.try_set(Some(err.message));
            }
        }
    };
    // Once a second, fetch again if a live event changed any job, else every ten seconds.
    let seen = Rc::new(Cell::new((None::<u64>, 0u32)));
    super::repeat(1000, move || {
        let seen = seen.clone();
        async move {
            let (last, ticks) = seen.get();
            let now = live.revision_untracked();
            if last != Some(now) || ticks >= REFRESH_EVERY_TICKS {
                seen.set((Some(now), 0));
                reload().await;
            } else {
                seen.set((last, ticks + 1));
            }
        }
    });

    let run = move |job: AdminJob, action: Action| {
        asking.set(None);
        error.set(None);
        spawn_local(async move {
            let id = job.job.job_id;
            let result = match action {
                Action::Cancel => api::cancel_job(id).await.map(|_| ()),
                Action::Kill => api::kill_job(id).await.map(|_| ()),
                Action::Move(to) => api::set_job_priority(id, to).await.map(|_| ()),
                Action::RunAnyway => api::run_job_anyway(id).await.map(|_| ()),
                Action::Retry => match session.key.get_untracked() {
                    None => {
                        error.set(Some(
                            "Unlock the library first: a retry hands the video's key to the \
                             server again."
                                .to_owned(),
                        ));
                        return;
                    }
                    Some(key) => match api::video_key_hex(&job.job.video_id, &key).await {
                        Ok(dek) => api::retry_job(id, dek).await.map(|_| ()),
                        Err(err) => Err(err),
                    },
                },
            };
            if let Err(err) = result {
                error.set(Some(err.message));
            }
            reload().await;
        });
    };
    let ask = move |job: AdminJob, action: Action| {
        if action.question(job.job.job_id).is_some() {
            asking.set(Some((job.job.job_id, action)));
        } else {
            run(job, action);
        }
    };

    view! {
        <section class="card admin-jobs" data-testid="admin-jobs">
            <h2>"Jobs"</h2>
            <ErrorLine error/>
            {move || {
                asking.get().and_then(|(id, action)| {
                    let job = jobs.with(|list| list.iter().find(|j| j.job.job_id == id).cloned())?;
                    let question = action.question(id)?;
                    let label = if action == Action::Kill { "Kill" } else { "Cancel job" };
                    Some(view! {
                        <div class="confirm-bar" role="group" aria-label="Confirm">
                            <span>{question}</span>
                            <button class="button danger small" on:click=move |_| run(job.clone(), action)>{label}</button>
                            <button class="button secondary small" on:click=move |_| asking.set(None)>"Keep it"</button>
                        </div>
                    })
                })
            }}
            <Show when=move || jobs.with(Vec::is_empty)>
                <p class="muted">"No jobs yet."</p>
            </Show>
            <div class="table-scroll">
                <table class="table admin-table reflow" hidden=move || jobs.with(Vec::is_empty)>
                    <thead><tr>
                        <th>"Job"</th><th>"Owner, size"</th><th>"Status"</th>
                        <th>"Attempts"</th><th>"Priority"</th><th>"Times"</th><th></th>
                    </tr></thead>
                    <tbody>
                        // Rebuilt on every listing: the ages move on too.
                        {move || jobs.get().into_iter().map(|job| view! { <JobRow job ask/> }).collect_view()}
                    </tbody>
                </table>
            </div>
        </section>
    }
}

#[component]
fn JobRow(job: AdminJob, ask: impl Fn(AdminJob, Action) + Copy + 'static) -> impl IntoView {
    let info = &job.job;
    let stage = Stage::from_job(info);
    let now = unix_now();
    let mut status = tile_line(Some(&stage));
    // Members see a word; the admin sees why the gate holds the job back, in figures.
    if let Stage::Waiting { reasons, .. } = &stage {
        if !reasons.is_empty() {
            status = format!("Waiting: {}", reasons.join("; "));
        }
    }
    if info.status == JobStatus::Queued && info.attempts > 0 {
        if let Some(error) = &info.error {
            status = format!("Queued again after: {error}");
        }
    }
    if job.run_anyway && !info.status.is_final() {
        status.push_str(" (gate skipped)");
    }
    let actions: Vec<(Action, &'static str, &'static str)> = match info.status {
        JobStatus::Queued | JobStatus::WaitingResource => {
            let mut actions = vec![
                (Action::Move(PriorityRequest::Top), "To front", "secondary"),
                (
                    Action::Move(PriorityRequest::Bottom),
                    "To back",
                    "secondary",
                ),
                (Action::Cancel, "Cancel", "danger"),
            ];
            if info.status == JobStatus::WaitingResource {
                actions.insert(0, (Action::RunAnyway, "Run anyway", "secondary"));
            }
            actions
        }
        JobStatus::Running => vec![
            (Action::Kill, "Kill", "danger"),
            (Action::Cancel, "Cancel", "danger"),
        ],
        JobStatus::Failed | JobStatus::Cancelled => vec![(Action::Retry, "Retry", "secondary")],
        JobStatus::Done => Vec::new(),
    };
    let buttons = actions
        .into_iter()
        .map(|(action, label, class)| {
            let job = job.clone();
            view! {
                <button class=format!("button small {class}") on:click=move |_| ask(job.clone(), action)>
                    {label}
                </button>
            }
        })
        .collect_view();
    // Queued, started (the last attempt), and how long that attempt took or has run.
    let mut times = vec![format!("queued {}", ago(Some(info.queued_at), now))];
    if info.started_at.is_some() {
        times.push(format!("started {}", ago(info.started_at, now)));
    }
    if let Some(secs) = job.duration_secs {
        let verb = if info.status == JobStatus::Running {
            "running for"
        } else {
            "took"
        };
        times.push(format!("{verb} {}", span(secs)));
    }
    let times = times.join(" · ");
    view! {
        <tr data-testid="admin-job" data-job-id=info.job_id.to_string()
            data-status=status_name(Some(&stage))>
            <td data-label="Job">{info.job_id}</td>
            <td data-label="Owner, size">{info.owner.clone()}<br/><span class="muted">{bytes(info.size_bytes)}</span></td>
            <td class="job-status" data-label="Status" data-testid="admin-job-status">{status}</td>
            <td data-label="Attempts">{format!("{}/{}", info.attempts, info.max_attempts)}</td>
            <td data-label="Priority">{info.priority}</td>
            <td class="job-times" data-label="Times">{times}</td>
            <td class="row-actions-cell"><div class="row-actions">{buttons}</div></td>
        </tr>
    }
}
