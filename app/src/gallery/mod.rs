//! The library on the home page. The whole library's index is fetched once (and again whenever
//! it may have changed), decrypted here, and searched, filtered and sorted in memory as the
//! member types (docs/decisions.md, "Finding"). Tiles are drawn in slices as the end of the list
//! nears the screen; each follows its processing live and loads its thumbnail once near the
//! screen.

mod dates;
mod find_bar;
pub mod index;
pub mod listing;
mod thumb;
mod tile;
pub mod viewport;

use std::sync::Arc;

use cloister_shared::api::{Role, VideoStatus};
use leptos::prelude::*;
use leptos::task::spawn_local;

use crate::api;
use crate::live::{Connection, LiveJobs, Stage};
use crate::session::{Auth, Session};
use find_bar::FindBar;
use index::{LibraryIndex, Query};
use tile::VideoTile;
use viewport::in_view;

/// Tiles drawn at first, and added each time the end of the list nears the screen.
pub const SLICE: usize = 50;

/// How far ahead of the end of the list the next slice is drawn: about two rows of tiles.
const NEXT_SLICE_MARGIN: &str = "0px 0px 600px 0px";

#[component]
pub fn Gallery() -> impl IntoView {
    let session = Session::get();
    let live = LiveJobs::get();
    let library = RwSignal::new(Arc::new(LibraryIndex::default()));
    let loaded = RwSignal::new(false);
    let error = RwSignal::new(None::<String>);
    let query = RwSignal::new(Query::default());
    let shown = RwSignal::new(SLICE);
    let end_of_list = NodeRef::<leptos::html::Div>::new();
    let end_in_view = in_view(end_of_list, NEXT_SLICE_MARGIN);
    // Only the newest request's answer is shown, if two fetches overlap.
    let fetches = StoredValue::new(0u64);
    // Bumped when a listed video finished processing: its duration, shape and recording date are
    // in the index only from then on.
    let refetch = RwSignal::new(0u64);

    // The index now, and again whenever the library may have changed (an upload, an edit, a
    // video trashed or restored, a reconnect after which the list may be stale).
    Effect::new(move |_| {
        live.library_changed.track();
        refetch.track();
        let this_fetch = fetches.get_value() + 1;
        fetches.set_value(this_fetch);
        spawn_local(async move {
            let answer = api::video_index().await;
            if fetches.get_value() != this_fetch {
                return;
            }
            match answer {
                Ok(answer) => {
                    let Some(key) = session.key.get_untracked() else {
                        return;
                    };
                    mark("cloister-find-index-fetched");
                    let built = LibraryIndex::build(&key, answer.videos);
                    mark("cloister-find-index-built");
                    end_in_view.recheck();
                    library.set(Arc::new(built));
                    error.set(None);
                }
                Err(err) => error.set(Some(err.message)),
            }
            loaded.set(true);
        });
    });

    // Videos the index lists as unfinished that processing has made ready since (live events).
    let became_ready = Memo::new(move |_| {
        library.with(|l| {
            l.videos
                .iter()
                .filter(|v| v.summary.status != VideoStatus::Ready)
                .filter(|v| matches!(live.stage(&v.summary.video_id), Some(Stage::Ready)))
                .count()
        })
    });
    Effect::new(move |_| {
        if became_ready.get() > 0 {
            refetch.update(|n| *n += 1);
        }
    });

    // What the query finds, in its order: positions in the index.
    let found = Memo::new(move |_| query.with(|q| library.with(|l| l.find(q))));
    // A new question starts again from the top slice.
    Effect::new(move |previous: Option<Query>| {
        let now = query.get();
        if previous.is_some_and(|p| p != now) {
            shown.set(SLICE);
            end_in_view.recheck();
        }
        now
    });
    let members = Memo::new(move |_| library.with(|l| l.members()));
    let total = Memo::new(move |_| library.with(|l| l.videos.len()));

    // While the end of the list is near the screen, the next slice is drawn, and again after it
    // was laid out if the end is still in view (a tall window).
    Effect::new(move |_| {
        let more = found.with(Vec::len) > shown.get_untracked();
        if end_in_view.get() && more {
            shown.update(|n| *n += SLICE);
            end_in_view.recheck();
        }
    });

    let (me, is_admin) = match session.auth.get_untracked() {
        Auth::SignedIn(me) => {
            let is_admin = me.role == Role::Admin;
            (me.username, is_admin)
        }
        _ => (String::new(), false),
    };
    let me = StoredValue::new(me);
    let empty = move || loaded.get() && total.get() == 0;
    let nothing_found = move || loaded.get() && total.get() > 0 && found.with(Vec::is_empty);
    let tiles = move || {
        let count = shown.get();
        found.with(|found| {
            library.with(|l| {
                found
                    .iter()
                    .take(count)
                    .map(|&n| l.videos[n].clone())
                    .collect::<Vec<_>>()
            })
        })
    };
    let counted = move || {
        let (found, total) = (found.with(Vec::len), total.get());
        match (found == total, total) {
            (true, 1) => "1 video".to_owned(),
            (true, _) => format!("{total} videos"),
            (false, _) => format!("{found} of {total} videos"),
        }
    };

    view! {
        <p class="live-status muted" data-testid="live-status">{move || live_words(live.connection.get())}</p>
        <Show when=move || error.with(Option::is_some)>
            <p class="error" role="alert">{move || error.get().unwrap_or_default()}</p>
        </Show>
        <Show when=move || !loaded.get()>
            <p class="muted">"Loading the videos…"</p>
        </Show>
        <Show when=empty>
            <p data-testid="gallery-empty">
                "No videos yet. Use Upload in the top bar to add the first one."
            </p>
        </Show>
        <Show when=move || { loaded.get() && total.get() > 0 }>
            <FindBar query members/>
            <p class="find-count muted" data-testid="find-count" aria-live="polite">{counted}</p>
        </Show>
        <Show when=nothing_found>
            <p data-testid="find-nothing">"No video matches. Try fewer or shorter words, or another filter."</p>
        </Show>
        <ul class="gallery" data-testid="gallery">
            <For
                each=tiles
                // A new listing status (uploaded → ready) or a new title (an edit) makes a new
                // tile: the index entry is its base.
                key=|video| (video.summary.video_id, video.summary.status, video.summary.title_sealed.clone())
                children=move |video| {
                    let can_cancel = is_admin || me.with_value(|me| *me == video.summary.owner);
                    view! { <VideoTile video can_cancel is_admin/> }
                }
            />
        </ul>
        // Watched to draw the next slice; always present, so the observer has one element to watch.
        <div class="gallery-end" node_ref=end_of_list data-testid="gallery-end" aria-hidden="true"></div>
        <Show when=move || { found.with(Vec::len) > shown.get() }>
            <button class="button secondary" data-testid="load-more"
                on:click=move |_| shown.update(|n| *n += SLICE)>
                "Show more"
            </button>
        </Show>
    }
}

/// A User Timing mark (`performance.mark`), for profiling the index build in the browser's tools
/// and for `end2end/bench/search.mjs`.
fn mark(name: &str) {
    #[cfg(feature = "hydrate")]
    if let Some(performance) = web_sys::window().and_then(|w| w.performance()) {
        let _ = performance.mark(name);
    }
    #[cfg(not(feature = "hydrate"))]
    let _ = name;
}

fn live_words(connection: Connection) -> String {
    match connection {
        Connection::Live => "Live: processing updates appear as they happen.".to_owned(),
        Connection::Off | Connection::Connecting => "Connecting for live updates…".to_owned(),
        Connection::Retrying { seconds } => format!(
            "Live updates interrupted; reconnecting in about {seconds} s. The list may be out of date until then."
        ),
        Connection::SignedOut => {
            "Live updates stopped: your session has ended. Sign in again.".to_owned()
        }
    }
}
