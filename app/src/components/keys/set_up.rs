use leptos::prelude::*;
use leptos::task::spawn_local;

use super::fields::{ErrorLine, NewPassphrase, Working};
use crate::api;
use crate::keyring;
use crate::session::Session;

/// The first admin sets the library up: their own passphrase, the library key, and the recovery
/// key, shown once for them to keep.
#[component]
pub fn SetUpLibrary() -> impl IntoView {
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
            let result = match keyring::recovery::new_library(new_value.clone()).await {
                Ok((request, unlocked, words)) => api::create_library(&request)
                    .await
                    .map(|()| (words, unlocked))
                    .map_err(|err| err.message),
                Err(message) => Err(message),
            };
            match result {
                Ok((words, unlocked)) => {
                    new.try_set(String::new());
                    confirm.try_set(String::new());
                    // The words go to the session first: the gate shows them before anything else.
                    session.recovery_words.set(Some(words));
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
                <section class="card narrow">
                    <h1>"Set up the library: choose your passphrase"</h1>
                    <p class="muted">
                        "You unlock the library with your own passphrase; everyone you invite chooses theirs. "
                        "It never leaves your browser, and it is not your sign-in password. "
                        "A long phrase of four or more words is best."
                    </p>
                    <form on:submit=submit>
                        <NewPassphrase new confirm/>
                        <Working working/>
                        <ErrorLine error/>
                        <button class="button" type="submit" disabled=move || working.get()>"Set up the library"</button>
                    </form>
                </section>
    }
}
