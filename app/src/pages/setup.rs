//! `/setup#<secret>`: the first run in the browser (docs/accounts.md, "First run"). The owner
//! chooses the first admin's username, sign-in password and own passphrase; this tab makes their
//! keys, the library key and a recovery key (shared/src/keyring.rs), sends only what the server
//! may hold, and then shows the recovery key once.

use cloister_shared::api::keys::SetupRequest;
use cloister_shared::keyring;
use leptos::html::Input;
use leptos::prelude::*;
use leptos::task::spawn_local;
use leptos_router::hooks::use_navigate;

use crate::api;
use crate::components::{ErrorLine, RecoverySheet};
use crate::keyring::{let_the_page_paint, strength_hint, MIN_PASSPHRASE_CHARS};
use crate::session::Session;

const INCOMPLETE_LINK: &str = "This setup link is incomplete. Copy the whole link the server \
    printed, or run `cloister setup-link` on the server for a new one.";

#[component]
pub fn SetupPage() -> impl IntoView {
    let needed = LocalResource::new(api::setup_needed);
    // The words, once the library exists: shown until the owner says they wrote them down.
    let words = RwSignal::new(None::<Vec<String>>);
    move || {
        if let Some(list) = words.get() {
            return view! { <Written words=list/> }.into_any();
        }
        match needed.get() {
            Some(Ok(false)) => view! { <AlreadyOwned/> }.into_any(),
            _ => view! { <SetupForm words/> }.into_any(),
        }
    }
}

#[component]
fn Written(words: Vec<String>) -> impl IntoView {
    let navigate = use_navigate();
    let on_done = Callback::new(move |()| navigate("/", Default::default()));
    view! { <RecoverySheet words on_done/> }
}

#[component]
fn AlreadyOwned() -> impl IntoView {
    view! {
        <section class="card narrow">
            <h1>"This Cloister already has an owner"</h1>
            <p>"Its first admin has been created, so this setup link is no longer needed."</p>
            <a class="button" href="/login">"Sign in"</a>
        </section>
    }
}

/// What the form asks, read from the inputs at submit: the page's code may arrive a moment after
/// the page shows (a lazy route), and reading at submit keeps what was typed before that.
struct Answers {
    username: String,
    password: String,
    password_again: String,
    passphrase: String,
    passphrase_again: String,
}

impl Answers {
    /// The first thing wrong with the answers, in plain words.
    fn problem(&self) -> Option<String> {
        if self.password != self.password_again {
            return Some("The two passwords are not the same.".to_owned());
        }
        if self.passphrase.chars().count() < MIN_PASSPHRASE_CHARS {
            return Some(format!(
                "Use at least {MIN_PASSPHRASE_CHARS} characters for your passphrase."
            ));
        }
        if self.passphrase != self.passphrase_again {
            return Some("The two passphrases are not the same.".to_owned());
        }
        if self.passphrase == self.password {
            return Some(
                "Choose a passphrase different from your sign-in password: the server checks \
                 the password, and must never be able to open your videos."
                    .to_owned(),
            );
        }
        None
    }
}

#[component]
fn SetupForm(words: RwSignal<Option<Vec<String>>>) -> impl IntoView {
    let session = Session::get();
    let username = NodeRef::<Input>::new();
    let password = NodeRef::<Input>::new();
    let password_again = NodeRef::<Input>::new();
    let passphrase = NodeRef::<Input>::new();
    let passphrase_again = NodeRef::<Input>::new();
    // Only for the strength hint; the value sent is read from the input.
    let typed = RwSignal::new(String::new());
    let hint = move || strength_hint(&typed.get());
    let working = RwSignal::new(false);
    let error = RwSignal::new(None::<String>);
    // The button works once this page's code runs: before that, a click would do nothing useful.
    let ready = RwSignal::new(false);
    Effect::new(move |_| {
        ready.set(true);
        if fragment_secret().is_none() {
            error.set(Some(INCOMPLETE_LINK.to_owned()));
        }
    });

    let read = move || -> Option<Answers> {
        Some(Answers {
            username: username.get_untracked()?.value(),
            password: password.get_untracked()?.value(),
            password_again: password_again.get_untracked()?.value(),
            passphrase: passphrase.get_untracked()?.value(),
            passphrase_again: passphrase_again.get_untracked()?.value(),
        })
    };
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        if working.get_untracked() {
            return;
        }
        let Some(secret) = fragment_secret() else {
            error.set(Some(INCOMPLETE_LINK.to_owned()));
            return;
        };
        let Some(answers) = read() else {
            return;
        };
        if let Some(problem) = answers.problem() {
            error.set(Some(problem));
            return;
        }
        working.set(true);
        error.set(None);
        spawn_local(async move {
            let_the_page_paint().await;
            match create(secret, answers).await {
                Ok(list) => {
                    session.refresh();
                    words.set(Some(list));
                }
                Err(message) => error.set(Some(message)),
            }
            working.set(false);
        });
    };

    view! {
        <section class="card narrow">
            <h1>"Make this Cloister yours"</h1>
            <p>"You are creating the first admin account. You choose two different secrets:"</p>
            <ul class="setup-secrets">
                <li><strong>"A sign-in password"</strong>" lets you into this server."</li>
                <li>
                    <strong>"Your passphrase"</strong>
                    " opens the videos. It never leaves this browser, and nobody can reset it for "
                    "you — a recovery key, shown next, is the way back if it is forgotten."
                </li>
            </ul>
            <form method="post" on:submit=submit>
                <label for="setup-username">"Username"</label>
                <input id="setup-username" autocomplete="username" autocapitalize="none" required node_ref=username/>
                <label for="setup-password">"Sign-in password (8 characters or more)"</label>
                <input id="setup-password" type="password" autocomplete="new-password" required node_ref=password/>
                <label for="setup-password-again">"Sign-in password again"</label>
                <input id="setup-password-again" type="password" autocomplete="new-password" required node_ref=password_again/>
                <label for="setup-passphrase">"Your passphrase"</label>
                <input id="setup-passphrase" type="password" autocomplete="off" required node_ref=passphrase
                    on:input=move |ev| typed.set(event_target_value(&ev))/>
                <p class=move || format!("strength {}", hint().0) data-testid="strength-hint" aria-live="polite">
                    {move || if typed.with(String::is_empty) { String::new() } else { hint().1.to_owned() }}
                </p>
                <label for="setup-passphrase-again">"Your passphrase again"</label>
                <input id="setup-passphrase-again" type="password" autocomplete="off" required node_ref=passphrase_again/>
                <Show when=move || working.get()>
                    <div class="working" role="status">
                        <div class="progress indeterminate"><div></div></div>
                        "Making your keys — this takes a few seconds…"
                    </div>
                </Show>
                <ErrorLine error/>
                <button class="button" type="submit" disabled=move || working.get() || !ready.get()>
                    "Create my account"
                </button>
            </form>
        </section>
    }
}

/// Makes the keys here and sends the setup request; answers the recovery key's words.
async fn create(secret: String, answers: Answers) -> Result<Vec<String>, String> {
    let (library, _unlocked, recovery) =
        keyring::new_library(&answers.passphrase).map_err(|err| err.to_string())?;
    let request = SetupRequest {
        secret,
        username: answers.username,
        password: answers.password,
        library,
    };
    api::set_up(&request).await.map_err(|err| err.message)?;
    Ok(recovery.words())
}

/// The secret after `#`: browsers never send the fragment to a server.
fn fragment_secret() -> Option<String> {
    #[cfg(feature = "hydrate")]
    {
        let hash = web_sys::window()?.location().hash().ok()?;
        let secret = hash.trim_start_matches('#').to_owned();
        (!secret.is_empty()).then_some(secret)
    }
    #[cfg(not(feature = "hydrate"))]
    None
}
