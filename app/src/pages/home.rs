use leptos::prelude::*;
use leptos_router::hooks::use_location;

use crate::components::KeysGate;
use crate::gallery::Gallery;
use crate::return_to::login_href;
use crate::session::{Auth, KeyStep, Session};

/// The start page: a welcome when signed out; otherwise the library — or the step before it
/// (setting up, choosing a passphrase, waiting to be let in, unlocking).
#[component]
pub fn HomePage() -> impl IntoView {
    let session = Session::get();
    move || match session.auth.get() {
        Auth::Loading => view! { <p class="muted">"Loading…"</p> }.into_any(),
        Auth::SignedOut => view! { <Welcome/> }.into_any(),
        Auth::Unknown(message) => view! { <p class="error" role="alert">{message}</p> }.into_any(),
        Auth::SignedIn(_) => view! {
            <Show when=move || session.step.get() == KeyStep::Open fallback=KeysGate>
                <LibraryOpen/>
            </Show>
        }
        .into_any(),
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
                    " Each member unlocks the library with their own passphrase, which never leaves their browser; nobody else can watch."
                </li>
                <li>
                    <strong>"How to get an account."</strong>
                    " Ask your group's admin for an invite link. Opening it lets you choose a "
                    "username, password and passphrase; an admin then lets you in."
                </li>
            </ul>
            <a class="button" href=sign_in_href>"Sign in"</a>
        </section>
    }
}
