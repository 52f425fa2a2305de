//! The recovery key's 24 words, shown once to an admin to write down or print (docs/format.md,
//! "Recovery key"; docs/accounts.md, "The recovery key"). Nothing here is stored: once the admin
//! carries on, the words are gone from the page.

use leptos::prelude::*;

#[component]
pub fn RecoverySheet(
    words: Vec<String>,
    on_done: impl Fn() + Copy + Send + Sync + 'static,
) -> impl IntoView {
    let noted = RwSignal::new(false);
    let items = words
        .into_iter()
        .enumerate()
        .map(|(i, word)| view! { <li><span class="word-number">{i + 1}". "</span>{word}</li> })
        .collect_view();
    let print = move |_| {
        #[cfg(feature = "hydrate")]
        if let Some(window) = web_sys::window() {
            let _ = window.print();
        }
    };
    view! {
        <section class="card narrow recovery-sheet" data-testid="recovery-sheet">
            <h1>"Your recovery key"</h1>
            <p>
                "If every admin forgets their passphrase, these 24 words are the only way back into the library's videos. "
                "Write them down or print this page, and keep it somewhere safe and offline. "
                "Anyone holding them can open the library."
            </p>
            <ol class="recovery-words" data-testid="recovery-words">{items}</ol>
            <button class="button secondary" type="button" on:click=print>"Print"</button>
            <label class="checkbox">
                <input type="checkbox" prop:checked=move || noted.get()
                    on:change=move |ev| noted.set(event_target_checked(&ev))/>
                "I have written these words down or printed them"
            </label>
            <button class="button" type="button" disabled=move || !noted.get() on:click=move |_| on_done()>
                "Continue"
            </button>
        </section>
    }
}
