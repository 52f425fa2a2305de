//! The video view, `/videos/:id`: a modal dialog over the library, so the gallery (its scroll
//! position, its loaded pages) stays underneath while a video is open, the address can be shared,
//! and Back closes it. The library page is the parent route and the view its child, so moving
//! between `/` and `/videos/:id` only mounts and unmounts the dialog.

mod actions;
pub(crate) mod details;
mod dialog;
pub(crate) mod download;

use cloister_shared::VideoId;
use leptos::prelude::*;
use leptos_router::components::Outlet;
use leptos_router::hooks::{use_location, use_params_map};

use super::HomePage;
use crate::session::{Auth, Session};
use dialog::VideoDialog;

/// Whether this tab reached the open view from the library (so closing can go Back to it rather
/// than add a history entry).
#[derive(Clone, Copy)]
struct CameFromLibrary(StoredValue<bool>);

/// The parent route of `/` and `/videos/:id`: the library, with the video view (if any) over it.
#[component]
pub fn LibraryWithVideo() -> impl IntoView {
    let location = use_location();
    let came_from_library = StoredValue::new(false);
    let last_path = StoredValue::new(None::<String>);
    Effect::new(move |_| {
        let path = location.pathname.get();
        if path.starts_with("/videos/") {
            came_from_library.set_value(last_path.get_value().as_deref() == Some("/"));
        }
        last_path.set_value(Some(path));
    });
    provide_context(CameFromLibrary(came_from_library));
    view! {
        <HomePage/>
        <Outlet/>
    }
}

/// `/videos/:id`. Shown once the library is unlocked; until then the library page beneath asks
/// for the passphrase (after a reload, say) and the view opens as soon as it is given.
#[component]
pub fn VideoView() -> impl IntoView {
    let session = Session::get();
    let params = use_params_map();
    let id =
        Memo::new(move |_| params.with(|p| p.get("id").and_then(|raw| VideoId::parse(&raw).ok())));
    let ready =
        Memo::new(move |_| matches!(session.auth.get(), Auth::SignedIn(_)) && session.unlocked());
    move || ready.get().then(|| view! { <VideoDialog id=id.get()/> })
}
