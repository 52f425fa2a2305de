use cloister_shared::api::AcceptInviteRequest;
use leptos::prelude::*;
use leptos::task::spawn_local;
use leptos_router::hooks::use_navigate;

use crate::api;
use crate::components::{ErrorLine, TextField};
use crate::session::Session;

/// `/invite#<token>`: the token sits in the URL fragment, which browsers never send to a server,
/// so it stays out of access logs and Referer headers.
#[component]
pub fn InvitePage() -> impl IntoView {
    let session = Session::get();
    let navigate = use_navigate();
    let username = RwSignal::new(String::new());
    let password = RwSignal::new(String::new());
    let working = RwSignal::new(false);
    let error = RwSignal::new(None::<String>);
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let Some(token) = fragment_token() else {
            error.set(Some(
                "This invite link is incomplete. Ask your admin for a new one.".to_owned(),
            ));
            return;
        };
        working.set(true);
        error.set(None);
        let navigate = navigate.clone();
        spawn_local(async move {
            let request = AcceptInviteRequest {
                token,
                username: username.get_untracked(),
                password: password.get_untracked(),
                keys: None,
            };
            match api::accept_invite(&request).await {
                Ok(_) => {
                    session.refresh();
                    navigate("/", Default::default());
                }
                Err(err) => error.set(Some(err.message)),
            }
            working.set(false);
        });
    };
    view! {
        <section class="card narrow">
            <h1>"Join the library"</h1>
            <p class="muted">"Choose your username and password. You will also need the library passphrase from your group to watch videos."</p>
            <form method="post" on:submit=submit>
                <TextField id="invite-username" label="Username" autocomplete="username" value=username/>
                <TextField id="invite-password" label="Password (8 characters or more)" kind="password" autocomplete="new-password" value=password/>
                <ErrorLine error/>
                <button class="button" type="submit" disabled=move || working.get()>"Create account"</button>
            </form>
        </section>
    }
}

fn fragment_token() -> Option<String> {
    #[cfg(feature = "hydrate")]
    {
        let hash = web_sys::window()?.location().hash().ok()?;
        let token = hash.trim_start_matches('#').to_owned();
        (!token.is_empty()).then_some(token)
    }
    #[cfg(not(feature = "hydrate"))]
    None
}
