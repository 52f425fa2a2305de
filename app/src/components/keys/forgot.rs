use cloister_shared::api::Role;
use leptos::prelude::*;
use leptos::task::spawn_local;

use super::fields::{ErrorLine, NewPassphrase, Working};
use crate::api;
use crate::keyring;
use crate::session::{Auth, Session};

/// "Forgot your passphrase?": a member chooses a new one and waits to be let in again; an admin
/// may instead use the library's 24 recovery words and is back in at once.
#[component]
pub fn ForgotPassphrase(on_back: impl Fn() + Copy + Send + Sync + 'static) -> impl IntoView {
    let session = Session::get();
    let is_admin =
        move || matches!(session.auth.get(), Auth::SignedIn(me) if me.role == Role::Admin);
    let recovery_set = move || session.status_untracked().is_some_and(|s| s.recovery_set);
    view! {
        <h2>"Forgot your passphrase?"</h2>
        <Show when=move || is_admin() && recovery_set()>
            <RecoverWithWords/>
            <h3>"Or start again with new keys"</h3>
        </Show>
        <ResetKeys/>
        <p>
            <button class="link-button" type="button" on:click=move |_| on_back()>
                "Back to unlocking"
            </button>
        </p>
    }
}

/// New keys for a member who forgot: the old grant is dropped, and an admin lets them in again.
#[component]
fn ResetKeys() -> impl IntoView {
    let session = Session::get();
    let new = RwSignal::new(String::new());
    let confirm = RwSignal::new(String::new());
    let working = RwSignal::new(false);
    let error = RwSignal::new(None::<String>);
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        if working.get_untracked() {
            return;
        }
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
        working.set(true);
        error.set(None);
        spawn_local(async move {
            keyring::let_the_page_paint().await;
            let result = match cloister_shared::keyring::new_member_keys(&new_value) {
                Ok((keys, secret)) => {
                    let request = cloister_shared::api::keys::SetMyKeysRequest {
                        keys,
                        self_grant: None,
                    };
                    api::set_my_keys(&request)
                        .await
                        .map(|()| secret)
                        .map_err(|err| err.message)
                }
                Err(err) => Err(err.to_string()),
            };
            match result {
                Ok(secret) => {
                    session.hold_secret(secret, false);
                    session.refresh_library().await;
                }
                Err(message) => {
                    error.try_set(Some(message));
                }
            }
            working.try_set(false);
        });
    };
    view! {
        <p>
            "Choose a new passphrase. Your browser makes new keys with it; "
            <strong>"an admin must then let you in again"</strong>
            " before you can watch. Nothing in the library is lost."
        </p>
        <form on:submit=submit data-testid="reset-keys">
            <NewPassphrase new confirm label="New passphrase"/>
            <Working working/>
            <ErrorLine error/>
            <button class="button" type="submit" disabled=move || working.get()>"Make new keys"</button>
        </form>
    }
}

/// The 24 words: the server's challenge proves them (and is never a way to open a grant), and
/// the admin gets new keys and their access back.
#[component]
fn RecoverWithWords() -> impl IntoView {
    let session = Session::get();
    let words = RwSignal::new(String::new());
    let new = RwSignal::new(String::new());
    let confirm = RwSignal::new(String::new());
    let working = RwSignal::new(false);
    let error = RwSignal::new(None::<String>);
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        if working.get_untracked() {
            return;
        }
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
        // The words are checked before anything is asked of the server.
        working.set(true);
        error.set(None);
        spawn_local(async move {
            let result = async {
                keyring::recovery::check_words(words.get_untracked()).await?;
                let challenge = api::recovery_challenge().await.map_err(|e| e.message)?;
                keyring::let_the_page_paint().await;
                let (request, unlocked) =
                    keyring::recovery::recover(words.get_untracked(), challenge, new_value.clone())
                        .await?;
                api::recovery_restore(&request)
                    .await
                    .map_err(|e| e.message)?;
                Ok::<_, String>(unlocked)
            }
            .await;
            match result {
                Ok(unlocked) => {
                    words.set(String::new());
                    session.set_unlocked(unlocked, false);
                    session.refresh_library().await;
                }
                Err(message) => {
                    error.try_set(Some(message));
                }
            }
            working.try_set(false);
        });
    };
    view! {
        <p>"As an admin you can use the library's recovery key: the 24 words on the sheet you kept. You choose a new passphrase and are back in at once."</p>
        <form on:submit=submit data-testid="recover-with-words">
            <label for="recovery-words">"The 24 recovery words"</label>
            <textarea id="recovery-words" rows="4" autocomplete="off" autocapitalize="none" spellcheck="false" required
                prop:value=move || words.get()
                on:input=move |ev| words.set(event_target_value(&ev))></textarea>
            <NewPassphrase new confirm label="New passphrase" new_id="recovery-new-passphrase" confirm_id="recovery-confirm-passphrase"/>
            <Working working/>
            <ErrorLine error/>
            <button class="button" type="submit" disabled=move || working.get()>"Recover"</button>
        </form>
    }
}
