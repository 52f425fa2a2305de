//! The dialog itself: a native `<dialog>` opened with `showModal()`, so the page beneath is inert
//! (focus stays inside, screen readers see only the dialog) without a hand-made focus trap.
//! Escape, the Close button and a click on the backdrop close it by leaving `/videos/:id`;
//! focus then goes back to what had it before (the tile's link).

use std::sync::Arc;

use cloister_shared::VideoId;
use leptos::prelude::*;
use leptos_router::hooks::use_navigate;
use leptos_router::NavigateOptions;

use super::actions::VideoActions;
use super::details::{Facts, LiveTexts, Opened};
use super::download::DownloadPanel;
use super::CameFromLibrary;
use crate::comments::Comments;
use crate::live::LiveJobs;
use crate::notify::Toasts;
use crate::player::Player;
use crate::session::Session;

#[derive(Clone)]
#[cfg_attr(not(feature = "hydrate"), allow(dead_code))]
enum ViewState {
    Loading,
    Failed(String),
    Opened(Arc<Opened>),
}

#[component]
pub fn VideoDialog(id: Option<VideoId>) -> impl IntoView {
    let session = Session::get();
    let state = RwSignal::new(ViewState::Loading);
    // The title and description as they are now (an edit here or in another tab changes them).
    let texts = LiveTexts::new();
    provide_context(texts);
    // Set when the video leaves the library while it is open: said plainly, once.
    let gone = RwSignal::new(None::<&'static str>);
    let dialog_ref = NodeRef::<leptos::html::Dialog>::new();
    // Set once the view is being left, so a late `close` event does not navigate twice.
    let closing = StoredValue::new(false);
    let came_from_library = use_context::<CameFromLibrary>().map(|c| c.0);
    let navigate = use_navigate();
    let close = Callback::new(move |()| {
        closing.set_value(true);
        if came_from_library.is_some_and(|came| came.get_value()) {
            go_back();
        } else {
            navigate(
                "/",
                NavigateOptions {
                    replace: true,
                    ..Default::default()
                },
            );
        }
    });
    // Every way out goes through here. A `close` event may come after the view is gone (its
    // values disposed): `try_` reads that as "already closing".
    let leave = move || {
        if !closing.try_get_value().unwrap_or(true) {
            close.run(());
        }
    };
    modal::show_while_mounted(dialog_ref, closing);

    Effect::new(move |_| {
        let Some(id) = id else {
            state.set(ViewState::Failed(
                "This address does not name a video: a video's address ends in 32 hexadecimal digits."
                    .to_owned(),
            ));
            return;
        };
        let Some(key) = session.key.get_untracked() else {
            return;
        };
        #[cfg(feature = "hydrate")]
        leptos::task::spawn_local(async move {
            let opened = match super::details::open(id, key).await {
                Ok(opened) => {
                    texts.show(opened.title.clone(), opened.description.clone());
                    ViewState::Opened(Arc::new(opened))
                }
                Err(message) => ViewState::Failed(message),
            };
            state.try_set(opened);
        });
        #[cfg(not(feature = "hydrate"))]
        let _ = (id, key);
    });

    follow_library_events(id, texts, gone);

    let on_keydown = move |ev: leptos::ev::KeyboardEvent| {
        if ev.key() == "Escape" {
            // Instead of the browser closing the dialog by itself: the address must change too.
            ev.prevent_default();
            leave();
        }
    };
    // A click on the dialog element itself, not its contents, is a click on the backdrop.
    let on_click = move |ev: leptos::ev::MouseEvent| {
        if ev.target().is_some() && ev.target() == ev.current_target() {
            leave();
        }
    };
    let title = move || match state.get() {
        ViewState::Opened(opened) => {
            match texts.title.get().unwrap_or_else(|| opened.title.clone()) {
                Ok(title) => view! { <h2 id="video-view-title">{title}</h2> }.into_any(),
                Err(words) => {
                    view! { <h2 id="video-view-title" class="undecryptable">{words}</h2> }
                        .into_any()
                }
            }
        }
        ViewState::Loading => view! { <h2 id="video-view-title">"Opening…"</h2> }.into_any(),
        ViewState::Failed(_) => view! { <h2 id="video-view-title">"Video"</h2> }.into_any(),
    };
    let body = move || match state.get() {
        ViewState::Loading => view! {
            <p class="muted" role="status" data-testid="video-loading">"Opening the video…"</p>
        }
        .into_any(),
        ViewState::Failed(message) => view! {
            <p class="error" role="alert" data-testid="video-error">{message}</p>
        }
        .into_any(),
        ViewState::Opened(opened) => {
            // The Download section's "Save (decrypt here)", which the player offers when this
            // browser cannot play the video.
            let save_here = StoredValue::new(None::<Callback<()>>);
            let on_save = Callback::new(move |()| {
                if let Some(save) = save_here.get_value() {
                    save.run(());
                }
            });
            let player = match &opened.playable {
                Ok(source) => {
                    let title = opened.title.clone().unwrap_or_else(str::to_owned);
                    view! { <Player source=source.clone() title on_save/> }.into_any()
                }
                Err(why) => view! {
                    <p class="muted" data-testid="video-not-ready">{why.clone()}</p>
                }
                .into_any(),
            };
            let (video_id, dek) = (opened.summary.video_id, opened.dek.clone());
            let description = move || {
                texts.description.get().map(|text| {
                    view! { <p class="video-description" data-testid="video-description">{text}</p> }
                })
            };
            view! {
                {description}
                {player}
                <Facts opened=opened.clone()/>
                <VideoActions opened=opened.clone()/>
                <DownloadPanel opened save_here/>
                <Comments video_id dek/>
            }
            .into_any()
        }
    };
    view! {
        <dialog
            node_ref=dialog_ref
            class="video-dialog"
            aria-labelledby="video-view-title"
            data-testid="video-view"
            on:keydown=on_keydown
            on:click=on_click
            on:close=move |_| leave()
        >
            // Focus starts here rather than on the Close button, so Space plays (the player's
            // keys) instead of closing; Tab reaches the buttons.
            <div class="video-dialog-body" tabindex="-1" autofocus=true>
                <header class="video-dialog-head">
                    {title}
                    <button class="button secondary" data-testid="close-video" on:click=move |_| leave()>
                        "Close"
                    </button>
                </header>
                {move || gone.get().map(|words| view! {
                    <p class="video-gone" role="alert" data-testid="video-gone">{words}</p>
                })}
                {body}
            </div>
            // Inside the dialog: a modal dialog makes the page's own toasts inert.
            <Toasts in_dialog=true/>
        </dialog>
    }
}

/// Follows the library's live events for this video: an edit (here or in another tab) reads the
/// title and description again; a move to the trash or a deletion is said plainly.
fn follow_library_events(
    id: Option<VideoId>,
    texts: LiveTexts,
    gone: RwSignal<Option<&'static str>>,
) {
    use cloister_shared::api::Event;
    let live = LiveJobs::get();
    let session = Session::get();
    // The event already there when the view opens is old news: only later ones count.
    Effect::new(move |seen: Option<()>| {
        let event = live.library_event.get();
        if seen.is_none() {
            return;
        }
        let (Some(id), Some(event)) = (id, event) else {
            return;
        };
        match event {
            Event::VideoEdited { video_id } if video_id == id => {
                let Some(key) = session.key.get_untracked() else {
                    return;
                };
                #[cfg(feature = "hydrate")]
                leptos::task::spawn_local(async move {
                    if let Ok((title, description)) = super::details::reread_texts(id, &key).await {
                        texts.show(title, description);
                    }
                });
                #[cfg(not(feature = "hydrate"))]
                let _ = (key, texts);
            }
            Event::VideoTrashed { video_id } if video_id == id => {
                gone.set(Some(
                    "This video was moved to the trash. It is no longer in the library.",
                ));
            }
            Event::VideoRestored { video_id } if video_id == id => gone.set(None),
            Event::VideoPurged { video_id } if video_id == id => {
                gone.set(Some(
                    "This video was deleted. It cannot be played any more.",
                ));
            }
            _ => {}
        }
    });
}

fn go_back() {
    #[cfg(feature = "hydrate")]
    if let Ok(history) = window().history() {
        let _ = history.back();
    }
}

/// Opening the dialog as a modal once it is in the document, and closing it (giving focus back)
/// when the view goes.
mod modal {
    use super::*;

    #[cfg(feature = "hydrate")]
    pub fn show_while_mounted(dialog: NodeRef<leptos::html::Dialog>, closing: StoredValue<bool>) {
        use wasm_bindgen::JsCast;
        let return_focus = StoredValue::new_local(None::<web_sys::HtmlElement>);
        Effect::new(move |_| {
            let Some(dialog) = dialog.get() else { return };
            if dialog.open() {
                return;
            }
            let focused = document()
                .active_element()
                .and_then(|element| element.dyn_into::<web_sys::HtmlElement>().ok());
            return_focus.set_value(focused);
            let _ = dialog.show_modal();
        });
        on_cleanup(move || {
            closing.try_set_value(true);
            if let Some(dialog) = dialog.try_get_untracked().flatten() {
                if dialog.open() {
                    dialog.close();
                }
            }
            if let Some(element) = return_focus.try_get_value().flatten() {
                if element.is_connected() {
                    let _ = element.focus();
                }
            }
        });
    }

    #[cfg(not(feature = "hydrate"))]
    pub fn show_while_mounted(_dialog: NodeRef<leptos::html::Dialog>, _closing: StoredValue<bool>) {
    }
}
