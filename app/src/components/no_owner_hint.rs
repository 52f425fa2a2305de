//! The welcome and sign-in pages' word to a visitor while nobody owns this Cloister: the way in is
//! the setup link (docs/accounts.md, "First run").

use leptos::prelude::*;

use crate::api;

#[component]
pub fn NoOwnerHint() -> impl IntoView {
    let needed = LocalResource::new(api::setup_needed);
    let show = move || matches!(needed.get(), Some(Ok(true)));
    view! {
        <Show when=show>
            <p class="banner" role="status" data-testid="no-owner">
                "This Cloister has no owner yet. Open the setup link printed when the server "
                "started (or run "<code>"cloister setup-link"</code>" on the server)."
            </p>
        </Show>
    }
}
