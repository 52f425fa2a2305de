//! A video's comments (docs/architecture.md): fetched only once the member scrolls to them, paged
//! separately from everything else, each body opened here with the video's DEK; new comments are
//! sealed here too and shown at once.

mod form;
mod item;
pub mod thread;

use cloister_shared::api::comments::DEFAULT_COMMENT_PAGE;
use cloister_shared::{Dek, VideoId};
use leptos::prelude::*;
use leptos::task::spawn_local;

use crate::api;
use crate::gallery::viewport::in_view;
use crate::session::{Auth, Session};
use form::CommentForm;
use item::CommentItem;
use thread::{Entry, Thread};

/// The section starts loading a little before it is on screen.
const SECTION_MARGIN: &str = "200px 0px";
/// The next page loads when the end of the list is this close.
const NEXT_PAGE_MARGIN: &str = "0px 0px 300px 0px";

#[component]
pub fn Comments(video_id: VideoId, dek: Dek) -> impl IntoView {
    let session = Session::get();
    let dek = StoredValue::new(dek);
    let thread = RwSignal::new(Thread::default());
    let loading = RwSignal::new(false);
    // Set when a page failed, so nothing retries by itself; the button tries again.
    let paused = RwSignal::new(false);
    let error = RwSignal::new(None::<String>);
    let section = NodeRef::<leptos::html::Section>::new();
    let section_in_view = in_view(section, SECTION_MARGIN);
    let end = NodeRef::<leptos::html::Div>::new();
    let end_in_view = in_view(end, NEXT_PAGE_MARGIN);

    let load_page = move || {
        if loading.get_untracked() {
            return;
        }
        let Some(cursor) = thread.with_untracked(Thread::next_request) else {
            return;
        };
        loading.set(true);
        spawn_local(async move {
            match api::comments(&video_id, DEFAULT_COMMENT_PAGE, cursor.as_deref()).await {
                Ok(page) => {
                    let entries: Option<Vec<Entry>> = dek.try_with_value(|dek| {
                        page.comments
                            .iter()
                            .map(|info| Entry::listed(info, dek))
                            .collect()
                    });
                    end_in_view.recheck();
                    if let Some(entries) = entries {
                        thread.try_update(|t| t.append_page(entries, page.next_cursor));
                    }
                    paused.try_set(false);
                    error.try_set(None);
                }
                Err(err) => {
                    error.try_set(Some(format!(
                        "The comments could not be loaded: {}",
                        err.message
                    )));
                    paused.try_set(true);
                }
            }
            loading.try_set(false);
        });
    };

    // The first page once the section nears the screen; the next ones as its end does.
    Effect::new(move |_| {
        if loading.get() || paused.get() {
            return;
        }
        let (loaded, more) = thread.with(|t| (t.loaded, t.next_cursor.is_some()));
        let wanted = if loaded {
            more && end_in_view.get()
        } else {
            section_in_view.get()
        };
        if wanted {
            load_page();
        }
    });

    let author = match session.auth.get_untracked() {
        Auth::SignedIn(me) => me.username,
        _ => String::new(),
    };
    let loaded = move || thread.with(|t| t.loaded);
    let show_button =
        move || thread.with(|t| t.loaded && t.next_cursor.is_some()) || (!loaded() && paused.get());

    view! {
        <section class="comments" node_ref=section data-testid="comments" aria-labelledby="comments-heading">
            <h3 id="comments-heading">"Comments"</h3>
            <Show when=move || !loaded() && !paused.get()>
                <p class="muted" data-testid="comments-loading">"Loading comments…"</p>
            </Show>
            <Show when=move || loaded() && thread.with(Thread::is_empty)>
                <p class="muted" data-testid="comments-empty">"No comments yet."</p>
            </Show>
            <ul class="comment-list" data-testid="comment-list">
                <For
                    each=move || thread.with(Thread::shown)
                    // Confirmed by the server: drawn again without "Posting…".
                    key=|entry| (entry.id, entry.pending)
                    children=move |entry| view! { <CommentItem entry video_id thread/> }
                />
            </ul>
            <div class="comments-end" node_ref=end aria-hidden="true"></div>
            <Show when=move || error.with(Option::is_some)>
                <p class="error" role="alert" data-testid="comments-error">
                    {move || error.get().unwrap_or_default()}
                </p>
            </Show>
            <Show when=show_button>
                <button class="button secondary" data-testid="more-comments"
                    on:click=move |_| load_page() disabled=move || loading.get()>
                    {move || match (loading.get(), loaded()) {
                        (true, _) => "Loading…",
                        (false, true) => "Show more comments",
                        (false, false) => "Try again",
                    }}
                </button>
            </Show>
            <CommentForm video_id dek thread author/>
        </section>
    }
}
