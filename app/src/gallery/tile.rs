use cloister_shared::api::VideoStatus;
use leptos::prelude::*;

use super::dates::{local_date, local_date_time};
use super::index::{clock_duration, IndexedVideo};
use super::thumb::Thumbnail;
use crate::components::{JobControls, ProcessingBar};
use crate::live::words::{failure_detail, status_name, tile_line, tile_stage};
use crate::live::{LiveJobs, Stage};
use crate::upload::progress::human_bytes;

/// One video: its decrypted title, who uploaded it, size, upload and recording dates, duration,
/// and processing as it happens.
#[component]
pub fn VideoTile(video: IndexedVideo, can_cancel: bool, is_admin: bool) -> impl IntoView {
    let live = LiveJobs::get();
    let recorded_at = video.recorded_at();
    let duration = video.duration_ms().map(clock_duration);
    let portrait = video.portrait();
    let IndexedVideo { summary, title, .. } = video;
    let video = summary;
    let id = video.video_id;
    let listed = video.status;
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
        "{} · {} · uploaded {}",
        video.owner,
        human_bytes(video.size_bytes),
        local_date(video.created_at)
    );
    let recorded = recorded_at.map(|at| {
        view! {
            <p class="tile-meta tile-recorded" data-testid="tile-recorded">
                {format!("Recorded {}", local_date_time(at))}
            </p>
        }
    });
    view! {
        <li class="video-tile" data-testid="video-tile" data-video-id=id.to_string()
            data-status=move || status_name(stage.get().as_ref())
            data-recorded-at=recorded_at.map(|at| at.to_string())>
            <Thumbnail video=video.clone() duration portrait/>
            <h3 class=title_class>{heading}</h3>
            <p class="tile-meta">{meta}</p>
            {recorded}
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
