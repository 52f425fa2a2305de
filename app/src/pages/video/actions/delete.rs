//! Delete, in the open video view (docs/decisions.md, "Delete, trash, restore"): for the uploader
//! or an admin, after a confirm that says the video goes to the trash and for how long. The view
//! then closes and one toast says where the video went, with Undo and a link to the trash. An
//! open view whose video someone else deletes closes too, saying so.

use std::sync::Arc;

use cloister_shared::api::{Event, Role};
use cloister_shared::VideoId;
use leptos::prelude::*;
use leptos_router::hooks::use_navigate;
use leptos_router::NavigateOptions;

use crate::api;
use crate::live::LiveJobs;
use crate::notify::{Notice, Notices, ToastAction, Tone};
use crate::pages::video::details::Opened;
use crate::pages::video::CameFromLibrary;
use crate::session::{Auth, Session};

/// The key of this part's toasts.
const TOAST_KEY: &str = "trash";

#[component]
pub fn DeleteAction(opened: Arc<Opened>) -> impl IntoView {
    let session = Session::get();
    let id = opened.summary.video_id;
    let title = opened.title.clone().ok();
    let owner = opened.summary.owner.clone();
    let may_delete = move || match session.auth.get() {
        Auth::SignedIn(me) => me.role == Role::Admin || me.username == owner,
        _ => false,
    };
    let confirming = RwSignal::new(false);
    let busy = RwSignal::new(false);
    let error = RwSignal::new(None::<String>);
    // The retention, once asked (the confirm names it).
    let days = RwSignal::new(None::<u32>);
    // Set when this tab deleted it, so its own event does not say "someone else".
    let deleted_here = StoredValue::new(false);
    let close = close_view();

    follow_library_events(id, deleted_here, close);

    let ask = move |_| {
        error.set(None);
        confirming.set(true);
        if days.get_untracked().is_none() {
            leptos::task::spawn_local(async move {
                if let Ok(trash) = api::trash_list().await {
                    days.try_set(Some(trash.retention_days));
                }
            });
        }
    };
    let title = StoredValue::new(title);
    let confirm = move |_| {
        busy.set(true);
        deleted_here.set_value(true);
        let title = title.get_value();
        leptos::task::spawn_local(async move {
            match api::trash_video(id).await {
                Ok(state) => {
                    announce(id, title, state.retention_days, state.purged);
                    close.run(());
                }
                Err(err) => {
                    deleted_here.try_set_value(false);
                    busy.try_set(false);
                    error.try_set(Some(err.message));
                }
            }
        });
    };
    let question = move || {
        match days.get() {
        Some(days) => format!(
            "Move this video to the trash? It stays there for {days} days, and you or an admin can restore it until then."
        ),
        None => "Move this video to the trash? You or an admin can restore it from there.".to_owned(),
    }
    };
    view! {
        <Show when=may_delete>
            <section class="video-delete" aria-label="Delete">
                <Show
                    when=move || confirming.get()
                    fallback=move || view! {
                        <button class="button secondary" data-testid="delete-video" on:click=ask>
                            "Delete"
                        </button>
                    }
                >
                    <div class="confirm-bar" role="group" aria-label="Confirm deleting the video">
                        <span data-testid="delete-question">{question}</span>
                        <button class="button danger" data-testid="confirm-delete-video"
                            disabled=move || busy.get() on:click=confirm>
                            "Move to trash"
                        </button>
                        <button class="button secondary" on:click=move |_| confirming.set(false)>
                            "Keep"
                        </button>
                    </div>
                </Show>
                {move || error.get().map(|e| view! { <p class="error" role="alert">{e}</p> })}
            </section>
        </Show>
    }
}

/// The one place the news goes: a toast that stays (it holds Undo) with a link to the trash. One
/// key for every such toast, so a second delete replaces the first instead of piling up.
fn announce(id: VideoId, title: Option<String>, days: u32, purged: bool) {
    let notices = Notices::get();
    let named = title.map_or_else(|| "The video".to_owned(), |t| format!("“{t}”"));
    if purged {
        notices.push(Notice::new(
            TOAST_KEY,
            "video-trashed",
            Tone::Info,
            format!("{named} was an unfinished upload: it was removed."),
        ));
        return;
    }
    let undo = Callback::new(move |()| {
        leptos::task::spawn_local(async move {
            if let Err(err) = api::restore_video(id).await {
                Notices::get().push(Notice::new(
                    format!("restore:{id}"),
                    "restore-failed",
                    Tone::Error,
                    err.message,
                ));
            }
        });
    });
    notices.push(
        Notice::new(
            TOAST_KEY,
            "video-trashed",
            Tone::Info,
            format!("{named} is in the trash for {days} days."),
        )
        .with(ToastAction::Button {
            label: "Undo",
            run: undo,
        })
        .with(ToastAction::Link {
            label: "Open the trash",
            href: "/trash".to_owned(),
            download: false,
        }),
    );
}

/// Leaves the view as its Close button does: Back to the library when it came from there.
fn close_view() -> Callback<()> {
    let came_from_library = use_context::<CameFromLibrary>().map(|c| c.0);
    let navigate = use_navigate();
    Callback::new(move |()| {
        if came_from_library.is_some_and(|came| came.try_get_value().unwrap_or(false)) {
            #[cfg(feature = "hydrate")]
            if let Ok(history) = window().history() {
                let _ = history.back();
                return;
            }
        }
        navigate(
            "/",
            NavigateOptions {
                replace: true,
                ..Default::default()
            },
        );
    })
}

/// Someone (another tab, another member, an admin) moved this video to the trash or deleted
/// it: the view closes, and a toast says why. Only events after the view opened count.
fn follow_library_events(id: VideoId, deleted_here: StoredValue<bool>, close: Callback<()>) {
    let live = LiveJobs::get();
    Effect::new(move |seen: Option<()>| {
        let event = live.library_event.get();
        if seen.is_none() {
            return;
        }
        let gone = match event {
            Some(Event::VideoTrashed { video_id }) if video_id == id => "moved to the trash",
            Some(Event::VideoPurged { video_id }) if video_id == id => "deleted",
            _ => return,
        };
        if deleted_here.try_get_value().unwrap_or(true) {
            return;
        }
        Notices::get().push(Notice::new(
            TOAST_KEY,
            "video-gone",
            Tone::Info,
            format!("The video you had open was {gone}."),
        ));
        close.run(());
    });
}
