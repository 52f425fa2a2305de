use cloister_shared::api::Role;
use leptos::prelude::*;
use leptos::task::spawn_local;

use super::fields::{ErrorLine, NewPassphrase, RememberBox, Working};
use crate::api;
use crate::components::TextField;
use crate::keyring;
use crate::session::{Auth, Session};

/// A library from before members had their own passphrases: the shared passphrase opens it once
/// more, then the member's own passphrase makes their keys and a grant to themselves. The first
/// admin to convert also gets a recovery key.
#[component]
pub fn ConvertFromShared() -> impl IntoView {
    let session = Session::get();
    let shared = RwSignal::new(String::new());
    let new = RwSignal::new(String::new());
    let confirm = RwSignal::new(String::new());
    let remember = RwSignal::new(false);
    let working = RwSignal::new(false);
    let error = RwSignal::new(None::<String>);
    let reuses_shared = move || !new.get().is_empty() && new.get() == shared.get();
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        if working.get_untracked() {
            return;
        }
        let Some(status) = session.status_untracked() else {
            return;
        };
        let Some(shared_wrapping) = status.shared.clone() else {
            return;
        };
        let new_value = new.get_untracked();
        if let Err(message) = keyring::check_new_passphrase(
            &new_value,
            &confirm.get_untracked(),
            session
                .is_password(&new_value)
                .then_some(new_value.as_str()),
        ) {
            error.set(Some(message));
            return;
        }
        let is_admin =
            matches!(session.auth.get_untracked(), Auth::SignedIn(me) if me.role == Role::Admin);
        working.set(true);
        error.set(None);
        spawn_local(async move {
            let result = async {
                keyring::let_the_page_paint().await;
                let opened = cloister_shared::keyring::unlock_shared(
                    &shared.get_untracked(),
                    &shared_wrapping,
                    status.generation,
                )
                .map_err(|err| err.to_string())?;
                keyring::let_the_page_paint().await;
                let (request, unlocked) =
                    cloister_shared::keyring::convert_from_shared(&opened, &new_value)
                        .map_err(|err| err.to_string())?;
                api::set_my_keys(&request).await.map_err(|e| e.message)?;
                // The first admin to convert makes the library's recovery key.
                let mut words = Vec::new();
                if is_admin && !status.recovery_set {
                    let (request, recovery_words) =
                        keyring::recovery::new_recovery(unlocked.clone()).await?;
                    api::set_recovery(&request).await.map_err(|e| e.message)?;
                    words = recovery_words;
                }
                Ok::<_, String>((words, unlocked))
            }
            .await;
            match result {
                Ok((words, unlocked)) => {
                    if !words.is_empty() {
                        // Shown by the gate before anything else, until the admin kept them.
                        session.recovery_words.set(Some(words));
                    }
                    session.set_unlocked(unlocked, remember.get_untracked());
                    session.refresh_library().await;
                }
                Err(message) => {
                    error.try_set(Some(message));
                }
            }
            shared.try_set(String::new());
            working.try_set(false);
        });
    };
    view! {
                <section class="card narrow">
                    <h1>"Cloister now gives each member their own passphrase"</h1>
                    <p class="muted">
                        "Unlock once more with the passphrase your group shares, and choose your own. "
                        "From then on you unlock with yours; nobody else needs to know it. "
                        "It never leaves your browser, and it is not your sign-in password."
                    </p>
                    <form on:submit=submit>
                        <TextField id="shared-passphrase" label="The group's shared passphrase" kind="password" autocomplete="current-password" value=shared/>
                        <NewPassphrase new confirm/>
                        <Show when=reuses_shared>
                            <p class="muted" data-testid="reuses-shared">"Better choose a new one: everyone in the group knows the shared passphrase."</p>
                        </Show>
                        <RememberBox remember/>
                        <Working working/>
                        <ErrorLine error/>
                        <button class="button" type="submit" disabled=move || working.get()>"Unlock and keep my passphrase"</button>
                    </form>
                </section>
    }
}
