use leptos::prelude::*;
use leptos::task::spawn_local;
use leptos_router::hooks::{use_location, use_navigate};

use crate::api;
use crate::return_to::login_href;
use crate::session::{Auth, Session};
use cloister_shared::api::Role;

/// The top bar: who is signed in, the lock button while the library is open, and sign out.
#[component]
pub fn SiteHeader() -> impl IntoView {
    let session = Session::get();
    let navigate = use_navigate();
    let location = use_location();
    // Signing in from here comes back here (a shared video link, say).
    let sign_in_href = move || login_href(&location.pathname.get(), &location.search.get());
    let sign_out = move |_| {
        let navigate = navigate.clone();
        spawn_local(async move {
            // Whatever the server says, this tab forgets the key and the signed-in state.
            let _ = api::logout().await;
            session.signed_out();
            navigate("/login", Default::default());
        });
    };
    view! {
        <header class="site-header">
            <a class="brand" href="/">"Cloister"</a>
            <nav class="site-nav">
                {move || match session.auth.get() {
                    Auth::SignedIn(me) => {
                        let is_admin = me.role == Role::Admin;
                        view! {
                            <a href="/upload">"Upload"</a>
                            <span class="who" data-testid="signed-in-as">{me.username.clone()}</span>
                            <Show when=move || is_admin>
                                <a href="/admin">"Admin"</a>
                            </Show>
                            <Show when=move || session.unlocked()>
                                <button class="button secondary" on:click=move |_| session.forget_key()>
                                    "Lock"
                                </button>
                            </Show>
                            <button class="button secondary" on:click=sign_out.clone()>"Sign out"</button>
                        }
                            .into_any()
                    }
                    Auth::SignedOut => view! { <a href=sign_in_href>"Sign in"</a> }.into_any(),
                    _ => ().into_any(),
                }}
            </nav>
        </header>
    }
}
