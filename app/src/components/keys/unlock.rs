use leptos::prelude::*;
use leptos::task::spawn_local;

use super::fields::{ErrorLine, RememberBox, Working};
use super::forgot::ForgotPassphrase;
use crate::components::TextField;
use crate::keyring;
use crate::session::Session;

/// Unlocking with the member's own passphrase: it opens their private key here, which opens the
/// library key an admin sealed to them.
#[component]
pub fn UnlockLibrary() -> impl IntoView {
    let session = Session::get();
    let passphrase = RwSignal::new(String::new());
    let remember = RwSignal::new(false);
    let working = RwSignal::new(false);
    let error = RwSignal::new(None::<String>);
    let forgot = RwSignal::new(false);
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        if working.get_untracked() {
            return;
        }
        let Some(status) = session.status_untracked() else {
            return;
        };
        working.set(true);
        error.set(None);
        spawn_local(async move {
            keyring::let_the_page_paint().await;
            match cloister_shared::keyring::unlock(&passphrase.get_untracked(), &status) {
                Ok(unlocked) => {
                    passphrase.set(String::new());
                    session.set_unlocked(unlocked, remember.get_untracked());
                }
                Err(err) => error.set(Some(err.to_string())),
            }
            working.try_set(false);
        });
    };
    view! {
        <section class="card narrow">
            <h1>"Unlock the library"</h1>
            <Show
                when=move || forgot.get()
                fallback=move || view! {
                    <p class="muted">
                        "Enter your passphrase. It is checked here in your browser and never sent to the server."
                    </p>
                    <form on:submit=submit>
                        <TextField id="unlock-passphrase" label="Your passphrase" kind="password" autocomplete="current-password" value=passphrase/>
                        <RememberBox remember/>
                        <Working working/>
                        <ErrorLine error/>
                        <button class="button" type="submit" disabled=move || working.get()>"Unlock"</button>
                    </form>
                    <p>
                        <button class="link-button" type="button" on:click=move |_| forgot.set(true)>
                            "Forgot your passphrase?"
                        </button>
                    </p>
                }
            >
                <ForgotPassphrase on_back=move || forgot.set(false)/>
            </Show>
        </section>
    }
}
