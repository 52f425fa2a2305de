use cloister_shared::api::Role;
use leptos::prelude::*;
use leptos_router::hooks::use_location;

use crate::components::{ChoosePassphrase, NoOwnerHint, UnlockLibrary};
use crate::gallery::Gallery;
use crate::return_to::login_href;
use crate::session::{Auth, Library, Session};

/// The start page: a welcome when signed out; otherwise the library — set up, unlock, or open.
#[component]
pub fn HomePage() -> impl IntoView {
    let session = Session::get();
    move || match session.auth.get() {
        Auth::Loading => view! { <p class="muted">"Loading…"</p> }.into_any(),
        Auth::SignedOut => view! { <Welcome/> }.into_any(),
        Auth::Unknown(message) => view! { <p class="error" role="alert">{message}</p> }.into_any(),
        Auth::SignedIn(me) => {
            let is_admin = me.role == Role::Admin;
            (move || match session.library.get() {
                Library::Loading => view! { <p class="muted">"Loading the library…"</p> }.into_any(),
                Library::Unknown(message) => view! { <p class="error" role="alert">{message}</p> }.into_any(),
                Library::Uninitialized if is_admin => view! { <ChoosePassphrase/> }.into_any(),
                Library::Uninitialized => view! {
                    <section class="card narrow">
                        <h1>"The library is not set up yet"</h1>
                        <p>"An admin has to choose the library passphrase first. Ask them, then reload this page."</p>
                    </section>
                }
                .into_any(),
                Library::Locked(status) => {
                    if session.unlocked() {
                        view! { <LibraryOpen/> }.into_any()
                    } else {
                        view! { <UnlockLibrary status/> }.into_any()
                    }
                }
            })
            .into_any()
        }
    }
}

#[component]
fn LibraryOpen() -> impl IntoView {
    view! {
        <section class="library" data-testid="library-unlocked">
            <h1>"Library"</h1>
            <p class="muted">
                "This tab holds the library key, so titles are decrypted here. "
                "Use Lock in the top bar to make it forget the key."
            </p>
            <Gallery/>
        </section>
    }
}

#[component]
fn Welcome() -> impl IntoView {
    let location = use_location();
    // Opened from a shared video link: signing in comes back to the video.
    let sign_in_href = move || login_href(&location.pathname.get(), &location.search.get());
    let for_a_video = move || location.pathname.get().starts_with("/videos/");
    view! {
        <NoOwnerHint/>
        <Show when=for_a_video>
            <p class="banner" data-testid="sign-in-to-watch">"Sign in to watch the video you were sent."</p>
        </Show>
        <section class="hero" data-testid="welcome">
            <h1>"Private videos for your group"</h1>
            <p class="lead">
                "Cloister is private, encrypted video sharing for your family, club or friends, "
                "on a server your group runs."
            </p>
            <ul class="hero-points">
                <li>
                    <strong>"Encrypted in your browser."</strong>
                    " Your videos are encrypted on your device before they are uploaded. "
                    "The server stores them and prepares them for playback, but cannot watch them."
                </li>
                <li>
                    <strong>"Only for your group."</strong>
                    " Members watch with the library passphrase your group shares; nobody else can."
                </li>
                <li>
                    <strong>"How to get an account."</strong>
                    " Ask your group's admin for an invite link. Opening it lets you choose a "
                    "username and password."
                </li>
            </ul>
            <a class="button" href=sign_in_href>"Sign in"</a>
        </section>
    }
}
