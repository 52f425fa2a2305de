use leptos::prelude::*;
use leptos::task::spawn_local;

use super::fields::{ErrorLine, NewPassphrase, Working};
use crate::api;
use crate::components::RecoverySheet;
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
    // The words to show, and the unlocked library waiting until they were noted.
    let made = RwSignal::new(None::<(Vec<String>, keyring::Unlocked)>);
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
            let result = match cloister_shared::keyring::new_library(&new_value) {
                Ok((request, unlocked, recovery)) => api::create_library(&request)
                    .await
                    .map(|()| (recovery.words(), unlocked))
                    .map_err(|err| err.message),
                Err(err) => Err(err.to_string()),
            };
            match result {
                Ok(done) => {
                    new.set(String::new());
                    confirm.set(String::new());
                    made.set(Some(done));
                }
                Err(message) => {
                    error.try_set(Some(message));
                }
            }
            working.try_set(false);
        });
    };
    let carry_on = move || {
        if let Some((_, unlocked)) = made.get_untracked() {
            session.set_unlocked(unlocked, false);
            spawn_local(session.refresh_library());
        }
    };
    view! {
        <Show
            when=move || made.with(Option::is_some)
            fallback=move || view! {
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
        >
            <RecoverySheet
                words=made.get_untracked().map(|(words, _)| words).unwrap_or_default()
                on_done=carry_on
            />
        </Show>
    }
}
