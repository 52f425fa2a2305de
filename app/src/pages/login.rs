use leptos::prelude::*;
use leptos::task::spawn_local;
use leptos_router::hooks::{use_navigate, use_query_map};
use leptos_router::NavigateOptions;

use crate::api;
use crate::components::{ErrorLine, TextField};
use crate::return_to::{safe_return_path, PARAM};
use crate::session::Session;

#[component]
pub fn LoginPage() -> impl IntoView {
    let session = Session::get();
    let navigate = use_navigate();
    let query = use_query_map();
    let username = RwSignal::new(String::new());
    let password = RwSignal::new(String::new());
    let working = RwSignal::new(false);
    let error = RwSignal::new(None::<String>);
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        if working.get_untracked() {
            return;
        }
        working.set(true);
        error.set(None);
        let navigate = navigate.clone();
        spawn_local(async move {
            match api::login(username.get_untracked(), password.get_untracked()).await {
                Ok(_) => {
                    session.note_password(&password.get_untracked());
                    password.set(String::new());
                    session.refresh();
                    // Back to the page that asked for a sign-in (only ever a path on this site),
                    // replacing the login page in the history so Back does not return to it.
                    let next = query.with_untracked(|q| q.get(PARAM));
                    let to = next.as_deref().and_then(safe_return_path).unwrap_or("/");
                    navigate(
                        to,
                        NavigateOptions {
                            replace: true,
                            ..Default::default()
                        },
                    );
                }
                // The server's words: wrong password, or when a locked-out user may try again.
                Err(err) => error.set(Some(err.message)),
            }
            working.set(false);
        });
    };
    view! {
        <section class="card narrow">
            <h1>"Sign in"</h1>
            // POST, so a form sent before the page is interactive never puts the password in a URL.
            <form method="post" on:submit=submit>
                <TextField id="username" label="Username" autocomplete="username" value=username/>
                <TextField id="password" label="Password" kind="password" autocomplete="current-password" value=password/>
                <ErrorLine error/>
                <button class="button" type="submit" disabled=move || working.get()>
                    {move || if working.get() { "Signing in…" } else { "Sign in" }}
                </button>
            </form>
            <p class="muted">"No account? Ask your group's admin for an invite link."</p>
        </section>
    }
}
