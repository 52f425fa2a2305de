use cloister_shared::api::AcceptInviteRequest;
use leptos::prelude::*;
use leptos::task::spawn_local;
use leptos_router::hooks::use_navigate;

use crate::api;
use crate::components::keys::{NewPassphrase, Working};
use crate::components::{ErrorLine, TextField};
use crate::keyring;
use crate::session::{Auth, Session};

/// `/invite#<token>`: the token sits in the URL fragment, which browsers never send to a server,
/// so it stays out of access logs and Referer headers. The invitee chooses a username, a sign-in
/// password and their own passphrase; this browser makes their key pair and sends only the public
/// key and the private key wrapped under the passphrase. Then an admin lets them in
/// (docs/accounts.md, "Invites").
#[component]
pub fn InvitePage() -> impl IntoView {
    let session = Session::get();
    let signed_in_as = move || match session.auth.get() {
        Auth::SignedIn(me) => Some(me.username),
        _ => None,
    };
    move || match signed_in_as() {
        Some(name) => view! { <SignedInAsSomeoneElse name/> }.into_any(),
        None => view! { <JoinForm/> }.into_any(),
    }
}

/// An invite opened while someone is signed in: accepting it would sign them out of their own
/// account, so the page says so and offers to sign out first.
#[component]
fn SignedInAsSomeoneElse(name: String) -> impl IntoView {
    let session = Session::get();
    let sign_out = move |_| {
        spawn_local(async move {
            let _ = api::logout().await;
            // The token stays in the address bar: the form shows at once.
            session.signed_out();
        });
    };
    view! {
        <section class="card narrow" data-testid="invite-signed-in">
            <h1>"Join the library"</h1>
            <p>{format!("You are signed in as {name}. Sign out first, or open the invite in a private window.")}</p>
            <button class="button" type="button" on:click=sign_out>"Sign out"</button>
        </section>
    }
}

#[component]
fn JoinForm() -> impl IntoView {
    let session = Session::get();
    let navigate = use_navigate();
    let username = RwSignal::new(String::new());
    let password = RwSignal::new(String::new());
    let new = RwSignal::new(String::new());
    let confirm = RwSignal::new(String::new());
    let working = RwSignal::new(false);
    let error = RwSignal::new(None::<String>);
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        if working.get_untracked() {
            return;
        }
        let Some(token) = fragment_token() else {
            error.set(Some(
                "This invite link is incomplete. Ask your admin for a new one.".to_owned(),
            ));
            return;
        };
        let (password_value, passphrase) = (password.get_untracked(), new.get_untracked());
        if let Err(message) = keyring::check_new_passphrase(
            &passphrase,
            &confirm.get_untracked(),
            Some(&password_value),
        ) {
            error.set(Some(message));
            return;
        }
        working.set(true);
        error.set(None);
        let navigate = navigate.clone();
        spawn_local(async move {
            keyring::let_the_page_paint().await;
            let (keys, secret) = match cloister_shared::keyring::new_member_keys(&passphrase) {
                Ok(made) => made,
                Err(err) => {
                    error.set(Some(err.to_string()));
                    working.set(false);
                    return;
                }
            };
            let request = AcceptInviteRequest {
                token,
                username: username.get_untracked(),
                password: password_value.clone(),
                keys: Some(keys),
            };
            match api::accept_invite(&request).await {
                Ok(_) => {
                    session.note_password(&password_value);
                    session.hold_secret(secret, false);
                    session.refresh();
                    navigate("/", Default::default());
                }
                Err(err) => error.set(Some(err.message)),
            }
            working.try_set(false);
        });
    };
    view! {
        <section class="card narrow">
            <h1>"Join the library"</h1>
            <p class="muted">
                "Choose a username and a password to sign in with, and your own passphrase to unlock the videos. "
                "The passphrase never leaves this browser; an admin then lets you in."
            </p>
            <form method="post" on:submit=submit>
                <TextField id="invite-username" label="Username" autocomplete="username" value=username/>
                <TextField id="invite-password" label="Password (8 characters or more)" kind="password" autocomplete="new-password" value=password/>
                <NewPassphrase new confirm label="Your passphrase (10 characters or more, not your password)"/>
                <Working working/>
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
