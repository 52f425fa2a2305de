//! The recovery key shown once: 24 numbered words, large enough to copy from a phone, a "Print"
//! button whose sheet holds only the words, the date and what to do with them (the print styles
//! are in style/main.css, "Recovery sheet"), and "I have written it down" to go on. What the words
//! are: docs/format.md, "Recovery key".

use leptos::prelude::*;

/// What the sheet says the words are for, on screen and on paper.
const WHAT_THEY_DO: &str = "If every admin forgets their passphrase, these 24 words are the only \
    way back into the library's videos. Anyone who has them can open every video, so keep them \
    somewhere safe and private — with your important papers, not in an email or a photo.";

const HOW_TO_USE: &str = "To use them: sign in as an admin, choose “Recover with the recovery \
    key” and type the words in order (or run `cloister library recover` on a computer).";

#[component]
pub fn RecoverySheet(
    /// The 24 words, in order.
    words: Vec<String>,
    /// "I have written it down".
    on_done: Callback<()>,
) -> impl IntoView {
    let numbered = move || {
        words
            .iter()
            .enumerate()
            .map(|(i, word)| {
                view! {
                    <li>
                        <span class="recovery-number" aria-hidden="true">{i + 1}</span>
                        <span class="recovery-word">{word.clone()}</span>
                    </li>
                }
            })
            .collect_view()
    };
    let printed_words = numbered.clone();
    view! {
        <section class="card recovery-sheet" aria-labelledby="recovery-heading">
            <h1 id="recovery-heading">"Your recovery key"</h1>
            <p>"Write these 24 words down on paper, in this order, or print them."</p>
            <p class="muted">{WHAT_THEY_DO}</p>
            <ol class="recovery-words" data-testid="recovery-words">{numbered}</ol>
            <div class="recovery-actions">
                <button class="button secondary" type="button" on:click=move |_| print_page()>
                    "Print"
                </button>
                <button class="button" type="button" on:click=move |_| on_done.run(())>
                    "I have written it down"
                </button>
            </div>
        </section>
        // Only on paper (style/main.css, "Recovery sheet"): the words, the date and instructions.
        <div class="recovery-print" aria-hidden="true">
            <h1>"Cloister recovery key"</h1>
            <p>"Written down on " {today()}</p>
            <ol class="recovery-words">{printed_words}</ol>
            <p>{WHAT_THEY_DO}</p>
            <p>{HOW_TO_USE}</p>
        </div>
    }
}

/// Today's date as YYYY-MM-DD (UTC), for the printed sheet.
fn today() -> String {
    #[cfg(feature = "hydrate")]
    {
        #[allow(clippy::cast_possible_truncation)]
        let now = (js_sys::Date::now() / 1000.0) as i64;
        cloister_shared::api::utc_date(now)
    }
    #[cfg(not(feature = "hydrate"))]
    String::new()
}

fn print_page() {
    #[cfg(feature = "hydrate")]
    if let Some(window) = web_sys::window() {
        let _ = window.print();
    }
}
