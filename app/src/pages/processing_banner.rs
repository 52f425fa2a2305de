//! The Upload page's note under a stored file: its processing, live and short, from "Stored —
//! waiting to be processed" to "Ready to watch".

use cloister_shared::api::Role;
use cloister_shared::VideoId;
use leptos::prelude::*;

use crate::components::{JobControls, ProcessingBar};
use crate::live::words::{banner_line, status_name};
use crate::live::{LiveJobs, Stage};
use crate::session::{Auth, Session};

#[component]
pub fn ProcessingBanner(
    video: VideoId,
    job_id: i64,
    queue_position: u64,
    note: Option<String>,
) -> impl IntoView {
    let live = LiveJobs::get();
    let is_admin =
        matches!(Session::get().auth.get_untracked(), Auth::SignedIn(me) if me.role == Role::Admin);
    // Until the store hears of the job, it is where the upload's answer put it.
    let stage = Memo::new(move |_| {
        live.stage(&video).or(Some(Stage::Queued {
            position: Some(queue_position),
        }))
    });
    let tone = move || match stage.get() {
        Some(Stage::Ready) => "banner success",
        Some(Stage::Failed { .. } | Stage::Cancelled) => "banner failure",
        _ => "banner",
    };
    view! {
        <div class=tone data-testid="processing-queued" data-job-id=job_id.to_string()
            data-status=move || status_name(stage.get().as_ref())>
            // A long queue is this upload's own news ("3 videos are ahead of yours"); a busy
            // server is the banner's, so it is not repeated here.
            {note.map(|note| view! { <p class="receipt">{note}</p> })}
            <ProcessingBar stage testid="processing-progress"/>
            <p class="processing-line" role="status" aria-live="polite" data-testid="processing-status">
                {move || stage.get().map(|stage| banner_line(&stage)).unwrap_or_default()}
                <Show when=move || matches!(stage.get(), Some(Stage::Ready))>
                    " " <a href="/">"Open the library"</a>
                </Show>
            </p>
            <JobControls video stage can_cancel=true is_admin/>
        </div>
    }
}
