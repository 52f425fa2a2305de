use cloister_shared::api::LibraryStatus;
use leptos::prelude::*;
use leptos::task::spawn_local;

use super::TextField;
use crate::api;
use crate::keyring;
use crate::session::Session;

/// Unlocking: derive the passphrase key here, open the wrapped library key, keep it in the tab.
#[component]
pub fn UnlockLibrary(status: LibraryStatus) -> impl IntoView {
    let session = Session::get();
    let passphrase = RwSignal::new(String::new());
    let remember = RwSignal::new(false);
    let working = RwSignal::new(false);
    let error = RwSignal::new(None::<String>);
    let status = StoredValue::new(status);
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        if working.get_untracked() {
            return;
        }
        working.set(true);
        error.set(None);
        spawn_local(async move {
            keyring::let_the_page_paint().await;
            let result =
                status.with_value(|status| keyring::unlock(&passphrase.get_untracked(), status));
            match result {
                Ok(key) => {
                    passphrase.set(String::new());
                    session.set_key(key, remember.get_untracked());
                }
                Err(message) => error.set(Some(message)),
            }
            working.set(false);
        });
    };
    view! {
        <section class="card narrow">
            <h1>"Unlock the library"</h1>
            <p class="muted">
                "Enter the library passphrase your group chose. It is checked here in your browser and never sent to the server."
            </p>
            <form on:submit=submit>
                <TextField id="unlock-passphrase" label="Library passphrase" kind="password" autocomplete="current-password" value=passphrase/>
                <label class="checkbox">
                    <input
                        type="checkbox"
                        prop:checked=move || remember.get()
                        on:change=move |ev| remember.set(event_target_checked(&ev))
                    />
                    "Remember for this browser session"
                </label>
                <Working working/>
                <ErrorLine error/>
                <button class="button" type="submit" disabled=move || working.get()>"Unlock"</button>
            </form>
        </section>
    }
}

/// Choosing the library passphrase (first admin, empty library) or changing it (admin page).
/// With `current` set, the old passphrase is asked for and must open the current key.
#[component]
pub fn ChoosePassphrase(#[prop(optional)] current: Option<LibraryStatus>) -> impl IntoView {
    let session = Session::get();
    let changing = current.is_some();
    let current = StoredValue::new(current);
    let old = RwSignal::new(String::new());
    let new = RwSignal::new(String::new());
    let confirm = RwSignal::new(String::new());
    let working = RwSignal::new(false);
    let error = RwSignal::new(None::<String>);
    let done = RwSignal::new(false);
    let hint = move || keyring::strength_hint(&new.get());

    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        if working.get_untracked() {
            return;
        }
        let new_value = new.get_untracked();
        if new_value.chars().count() < keyring::MIN_PASSPHRASE_CHARS {
            error.set(Some(format!(
                "Use at least {} characters.",
                keyring::MIN_PASSPHRASE_CHARS
            )));
            return;
        }
        if new_value != confirm.get_untracked() {
            error.set(Some("The two passphrases are not the same.".to_owned()));
            return;
        }
        working.set(true);
        error.set(None);
        done.set(false);
        spawn_local(async move {
            keyring::let_the_page_paint().await;
            let result = match current.get_value() {
                None => match keyring::create(&new_value) {
                    Ok((request, key)) => api::init_library(&request)
                        .await
                        .map(|_| key)
                        .map_err(|e| e.message),
                    Err(message) => Err(message),
                },
                Some(status) => match keyring::change(&old.get_untracked(), &new_value, &status) {
                    Ok((request, key)) => api::change_passphrase(&request)
                        .await
                        .map(|_| key)
                        .map_err(|e| e.message),
                    Err(message) => Err(message),
                },
            };
            match result {
                Ok(key) => {
                    old.set(String::new());
                    new.set(String::new());
                    confirm.set(String::new());
                    session.set_key(key, false);
                    done.set(true);
                    session.refresh_library().await;
                }
                Err(message) => error.set(Some(message)),
            }
            working.set(false);
        });
    };

    view! {
        <section class="card narrow">
            <h1>{if changing { "Change the library passphrase" } else { "Choose the library passphrase" }}</h1>
            <p class="muted">
                "Everyone in your group unlocks the library with this passphrase. It never leaves your browser: "
                "the server cannot recover it, so write it down somewhere safe. A long phrase of four or more words is best."
            </p>
            <form on:submit=submit>
                <Show when=move || changing>
                    <TextField id="old-passphrase" label="Current passphrase" kind="password" autocomplete="current-password" value=old/>
                </Show>
                <TextField id="new-passphrase" label={if changing { "New passphrase" } else { "Passphrase" }} kind="password" autocomplete="new-password" value=new/>
                <p class=move || format!("strength {}", hint().0) data-testid="strength-hint" aria-live="polite">
                    {move || if new.get().is_empty() { String::new() } else { hint().1.to_owned() }}
                </p>
                <TextField id="confirm-passphrase" label="Type it again" kind="password" autocomplete="new-password" value=confirm/>
                <Working working/>
                <ErrorLine error/>
                <Show when=move || done.get()>
                    <p class="success" role="status">
                        {if changing { "The passphrase is changed. Tell your group the new one." } else { "The library is ready and unlocked." }}
                    </p>
                </Show>
                <button class="button" type="submit" disabled=move || working.get()>
                    {if changing { "Change passphrase" } else { "Set passphrase" }}
                </button>
            </form>
        </section>
    }
}

/// An indeterminate progress bar while Argon2 runs (it blocks the page for a few seconds; the bar
/// is a compositor animation, so it keeps moving).
#[component]
fn Working(working: RwSignal<bool>) -> impl IntoView {
    view! {
        <Show when=move || working.get()>
            <div class="working" role="status">
                <div class="progress indeterminate"><div></div></div>
                "Deriving the key from the passphrase — this takes a few seconds…"
            </div>
        </Show>
    }
}

#[component]
pub fn ErrorLine(error: RwSignal<Option<String>>) -> impl IntoView {
    view! {
        <Show when=move || error.with(Option::is_some)>
            <p class="error" role="alert">{move || error.get().unwrap_or_default()}</p>
        </Show>
    }
}
