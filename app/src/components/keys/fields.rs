use leptos::prelude::*;

use crate::components::TextField;
use crate::keyring;

/// A new passphrase typed twice, with the strength hint.
#[component]
pub fn NewPassphrase(
    new: RwSignal<String>,
    confirm: RwSignal<String>,
    #[prop(default = "Your passphrase")] label: &'static str,
    /// Ids of the two inputs, when two of these forms share a page.
    #[prop(default = "new-passphrase")]
    new_id: &'static str,
    #[prop(default = "confirm-passphrase")] confirm_id: &'static str,
) -> impl IntoView {
    let hint = move || keyring::strength_hint(&new.get());
    view! {
        <TextField id=new_id label kind="password" autocomplete="new-password" value=new/>
        <p class=move || format!("strength {}", hint().0) data-testid="strength-hint" aria-live="polite">
            {move || if new.get().is_empty() { String::new() } else { hint().1.to_owned() }}
        </p>
        <TextField id=confirm_id label="Type it again" kind="password" autocomplete="new-password" value=confirm/>
    }
}

/// An indeterminate progress bar while Argon2 runs (it blocks the page for a few seconds; the bar
/// is a compositor animation, so it keeps moving).
#[component]
pub fn Working(working: RwSignal<bool>) -> impl IntoView {
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

/// "Remember for this browser session".
#[component]
pub fn RememberBox(remember: RwSignal<bool>) -> impl IntoView {
    view! {
        <label class="checkbox">
            <input
                type="checkbox"
                prop:checked=move || remember.get()
                on:change=move |ev| remember.set(event_target_checked(&ev))
            />
            "Remember for this browser session"
        </label>
    }
}
