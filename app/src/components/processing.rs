//! Pieces of a video's processing state that the gallery tile and the Upload page both show: the
//! progress bar and the buttons to cancel (owner or admin) or start an overdue job (admin).

use cloister_shared::VideoId;
use leptos::prelude::*;
use leptos::task::spawn_local;

use super::ErrorLine;
use crate::live::words::whole_percent;
use crate::live::{LiveJobs, Stage};

/// The bar under a processing job; absent in every other state.
#[component]
pub fn ProcessingBar(stage: Memo<Option<Stage>>, testid: &'static str) -> impl IntoView {
    let percent = move || match stage.get() {
        Some(Stage::Processing { percent, .. }) => Some(whole_percent(percent)),
        _ => None,
    };
    view! {
        <Show when=move || percent().is_some()>
            <div class="progress" role="progressbar" aria-label="Processing" aria-valuemin="0"
                aria-valuemax="100" aria-valuenow=move || percent().unwrap_or(0).to_string()
                data-testid=testid>
                <div style=move || format!("width: {}%", percent().unwrap_or(0))></div>
            </div>
        </Show>
    }
}

/// "Cancel processing" (asks first) while the job is queued or waiting, and "Start anyway" for
/// an admin when the job has waited too long.
#[component]
pub fn JobControls(
    video: VideoId,
    stage: Memo<Option<Stage>>,
    can_cancel: bool,
    is_admin: bool,
) -> impl IntoView {
    let live = LiveJobs::get();
    let confirming = RwSignal::new(false);
    let working = RwSignal::new(false);
    let error = RwSignal::new(None::<String>);
    let act = move |run_anyway: bool| {
        let Some(job_id) = live.job_id_untracked(&video) else {
            error.set(Some(
                "This page does not know the video's job yet. Try again in a moment.".to_owned(),
            ));
            return;
        };
        working.set(true);
        error.set(None);
        spawn_local(async move {
            let result = if run_anyway {
                live.run_anyway(job_id).await
            } else {
                live.cancel(job_id).await
            };
            if let Err(message) = result {
                error.set(Some(message));
            }
            confirming.set(false);
            working.set(false);
        });
    };
    let cancellable = move || can_cancel && stage.get().is_some_and(|s| s.cancellable());
    let overdue =
        move || is_admin && matches!(stage.get(), Some(Stage::Waiting { overdue: true, .. }));
    view! {
        <div class="job-controls">
            <Show when=cancellable>
                <Show
                    when=move || confirming.get()
                    fallback=move || view! {
                        <button class="button secondary small" on:click=move |_| confirming.set(true)>
                            "Cancel processing"
                        </button>
                    }
                >
                    <span class="confirm" role="group" aria-label="Confirm cancelling">
                        "Cancel processing this video? The encrypted original stays stored. "
                        <button class="button danger small" disabled=move || working.get()
                            on:click=move |_| act(false)>
                            "Yes, cancel"
                        </button>
                        <button class="button secondary small" on:click=move |_| confirming.set(false)>
                            "Keep it queued"
                        </button>
                    </span>
                </Show>
            </Show>
            <Show when=overdue>
                <button class="button secondary small" disabled=move || working.get()
                    on:click=move |_| act(true)>
                    "Start anyway"
                </button>
            </Show>
            <ErrorLine error/>
        </div>
    }
}
