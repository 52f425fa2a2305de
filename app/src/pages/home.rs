use leptos::prelude::*;
use leptos::task::spawn_local;

use crate::api;

/// The start page: what Cloister is, and a live check that the server answers.
#[component]
pub fn HomePage() -> impl IntoView {
    view! {
        <section class="hero">
            <h1>"Private videos for your group"</h1>
            <p>
                "Cloister keeps your family's, club's or friends' videos on your own server, "
                "encrypted in your browser before they leave it. The server stores and prepares them, "
                "but only members who know the library passphrase can watch them."
            </p>
        </section>
        <ServerStatus/>
    }
}

#[derive(Clone)]
enum Status {
    Unchecked,
    Checking,
    Up(api::Health),
    Down(String),
}

#[component]
fn ServerStatus() -> impl IntoView {
    let status = RwSignal::new(Status::Unchecked);
    let check = move |_| {
        status.set(Status::Checking);
        spawn_local(async move {
            status.set(match api::health().await {
                Ok(health) => Status::Up(health),
                Err(reason) => Status::Down(reason),
            });
        });
    };
    view! {
        <section class="card" aria-live="polite">
            <h2>"Server status"</h2>
            <p class="status-line" data-testid="server-status">
                {move || match status.get() {
                    Status::Unchecked => "Not checked yet.".to_owned(),
                    Status::Checking => "Checking…".to_owned(),
                    Status::Up(health) => format!(
                        "Server is up (version {}), database {}.",
                        health.version, health.database
                    ),
                    Status::Down(reason) => reason,
                }}
            </p>
            <button
                class="button"
                on:click=check
                disabled=move || matches!(status.get(), Status::Checking)
            >
                "Check server"
            </button>
        </section>
    }
}
