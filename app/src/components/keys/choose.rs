use leptos::prelude::*;
use leptos::task::spawn_local;

use super::fields::{ErrorLine, NewPassphrase, Working};
use crate::api;
use crate::keyring;
use crate::session::Session;

/// A member with no keys yet (added by an admin): they choose a passphrase, their browser makes
/// their keys, and they wait for an admin to let them in.
#[component]
pub fn ChooseYourPassphrase() -> impl IntoView {
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
                    api::set_my_keys(&cloister_shared::api::keys::SetMyKeysRequest {
                        keys,
                        self_grant: None,
                    })
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
        <section class="card narrow">
            <h1>"Choose your passphrase"</h1>
            <p class="muted">
                "You unlock the library with your own passphrase. It never leaves your browser, "
                "and it is not your sign-in password. A long phrase of four or more words is best."
            </p>
            <form on:submit=submit>
                <NewPassphrase new confirm/>
                <Working working/>
                <ErrorLine error/>
                <button class="button" type="submit" disabled=move || working.get()>"Save my passphrase"</button>
            </form>
        </section>
    }
}
