//! The library on the home page: the newest videos, each tile following its processing live,
//! with its thumbnail loaded once it nears the screen. Older pages load as the end of the list
//! comes into view; "Load more" does the same by hand.

pub mod index;
pub mod listing;
mod thumb;
mod tile;
pub mod viewport;

use cloister_shared::api::Role;
use leptos::prelude::*;
use leptos::task::spawn_local;

use crate::api;
use crate::live::{Connection, LiveJobs};
use crate::session::{Auth, Session};
use listing::Listing;
use tile::VideoTile;
use viewport::in_view;

/// Videos per page.
pub const PAGE_SIZE: u32 = 50;

/// How far ahead of the end of the list the next page is asked for: about two rows of tiles.
const NEXT_PAGE_MARGIN: &str = "0px 0px 600px 0px";

#[component]
pub fn Gallery() -> impl IntoView {
    let session = Session::get();
    let live = LiveJobs::get();
    let listing = RwSignal::new(Listing::default());
    let loaded = RwSignal::new(false);
    let loading_more = RwSignal::new(false);
    // Set when a scroll-triggered page failed; cleared by a page that arrives.
    let scroll_paused = RwSignal::new(false);
    let error = RwSignal::new(None::<String>);
    let end_of_list = NodeRef::<leptos::html::Div>::new();
    let end_in_view = in_view(end_of_list, NEXT_PAGE_MARGIN);
    // Only the newest request's answer is shown, if two first-page fetches overlap.
    let fetches = StoredValue::new(0u64);

    // The first page now, and again whenever the library may have changed (an upload someone
    // made, a reconnect after which the list may be stale).
    Effect::new(move |_| {
        live.library_changed.track();
        let this_fetch = fetches.get_value() + 1;
        fetches.set_value(this_fetch);
        spawn_local(async move {
            let answer = api::videos(PAGE_SIZE, None).await;
            if fetches.get_value() != this_fetch {
                return;
            }
            match answer {
                Ok(page) => {
                    end_in_view.recheck();
                    listing.update(|l| l.replace_first_page(page.videos, page.next_cursor));
                    error.set(None);
                }
                Err(err) => error.set(Some(err.message)),
            }
            loaded.set(true);
        });
    });

    // One "next page" request at a time; the same cursor is never asked for twice.
    let load_more = move || {
        if loading_more.get_untracked() {
            return;
        }
        let Some(cursor) = listing.with_untracked(|l| l.next_cursor.clone()) else {
            return;
        };
        loading_more.set(true);
        spawn_local(async move {
            match api::videos(PAGE_SIZE, Some(&cursor)).await {
                Ok(page) => {
                    end_in_view.recheck();
                    listing.update(|l| l.append_page(page.videos, page.next_cursor));
                    scroll_paused.set(false);
                }
                Err(err) => {
                    error.set(Some(err.message));
                    // No endless retrying while the end of the list stays in view: the
                    // button tries again.
                    scroll_paused.set(true);
                }
            }
            loading_more.set(false);
        });
    };

    // Infinite scroll: while the end of the list is near the screen, the next page loads, and
    // again after it arrived if the end is still in view (a tall window, short pages).
    Effect::new(move |_| {
        let wanted = end_in_view.get()
            && loaded.get()
            && !loading_more.get()
            && !scroll_paused.get()
            && listing.with(|l| l.next_cursor.is_some());
        if wanted {
            load_more();
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
    let empty = move || loaded.get() && listing.with(|l| l.videos.is_empty());

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
        <ul class="gallery" data-testid="gallery">
            <For
                each=move || listing.with(|l| l.videos.clone())
                // A new listing status (uploaded → ready) makes a new tile: the listing is its base.
                key=|video| (video.video_id, video.status)
                children=move |video| {
                    let can_cancel = is_admin || me.with_value(|me| *me == video.owner);
                    view! { <VideoTile video can_cancel is_admin/> }
                }
            />
        </ul>
        // Watched for infinite scroll; always present, so the observer has one element to watch.
        <div class="gallery-end" node_ref=end_of_list data-testid="gallery-end" aria-hidden="true"></div>
        <Show when=move || listing.with(|l| l.next_cursor.is_some())>
            <button class="button secondary" data-testid="load-more" on:click=move |_| load_more()
                disabled=move || loading_more.get()>
                {move || if loading_more.get() { "Loading…" } else { "Load more" }}
            </button>
        </Show>
    }
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
