use cloister_shared::api::{VideoStatus, VideoSummary};
use leptos::prelude::*;

use cloister_shared::api::utc_date;

use super::listing::title_text;
use super::thumb::Thumbnail;
use crate::components::{JobControls, ProcessingBar};
use crate::live::words::{failure_detail, status_name, tile_line, tile_stage};
use crate::live::{LiveJobs, Stage};
use crate::session::Session;
use crate::upload::progress::human_bytes;

/// One video: its decrypted title, who uploaded it, size, date, and processing as it happens.
#[component]
pub fn VideoTile(video: VideoSummary, can_cancel: bool, is_admin: bool) -> impl IntoView {
    let session = Session::get();
    let live = LiveJobs::get();
    let id = video.video_id;
    let listed = video.status;
    let title = session
        .key
        .with_untracked(|key| key.as_ref().map(|key| title_text(key, &video)))
        .unwrap_or(Err("Cannot decrypt title"));
    if listed != VideoStatus::Uploading && listed != VideoStatus::Ready {
        // The listing says "failed" but not why, and "uploaded" both for a queued job and a
        // cancelled one: the video's jobs tell.
        live.load_video(id);
    }
    let stage = Memo::new(move |_| tile_stage(listed, live.stage(&id).as_ref()));
    let title_class = if title.is_ok() {
        "tile-title"
    } else {
        "tile-title undecryptable"
    };
    let title = title.unwrap_or_else(str::to_owned);
    // A ready video's title opens the video view (over the gallery, at its own address).
    let ready = Memo::new(move |_| matches!(stage.get(), Some(Stage::Ready)));
    let heading = move || {
        let title = title.clone();
        if ready.get() {
            view! { <a class="tile-open" href=format!("/videos/{id}") data-testid="open-video">{title}</a> }
                .into_any()
        } else {
            title.into_any()
        }
    };
    let meta = format!(
        "{} · {} · {}",
        video.owner,
        human_bytes(video.size_bytes),
        utc_date(video.created_at)
    );
    view! {
        <li class="video-tile" data-testid="video-tile" data-video-id=id.to_string()
            data-status=move || status_name(stage.get().as_ref())>
            <Thumbnail video=video.clone()/>
            <h3 class=title_class>{heading}</h3>
            <p class="tile-meta">{meta}</p>
            <ProcessingBar stage testid="tile-progress"/>
            <p class="tile-status" data-testid="tile-status" aria-live="polite">
                {move || tile_line(stage.get().as_ref())}
            </p>
            // Why it failed, on demand: the status itself stays a word or two.
            {move || failure_detail(stage.get().as_ref()).map(|detail| view! {
                <details class="tile-detail" data-testid="tile-detail">
                    <summary>"Why?"</summary>
                    <p>{detail}</p>
                </details>
            })}
            <JobControls video=id stage can_cancel is_admin/>
        </li>
    }
}
