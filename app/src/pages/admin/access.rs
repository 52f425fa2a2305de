//! Letting members in and the recovery key (docs/admin.md, "Access"): who waits for access, with
//! a Grant button that seals the library key to their public key in this tab; and a new recovery
//! key on demand. The list follows `AccessRequested` live (the session fetches the status again).

use cloister_shared::api::keys::WaitingMember;
use leptos::prelude::*;
use leptos::task::spawn_local;

use crate::api;
use crate::components::{ErrorLine, RecoverySheet};
use crate::session::{Library, Session};

#[component]
pub(super) fn AccessPanel() -> impl IntoView {
    let session = Session::get();
    let waiting = Memo::new(move |_| {
        session.library.with(|library| match library {
            Library::Known(status) => status.waiting.clone(),
            _ => Vec::new(),
        })
    });
    let recovery_set = Memo::new(move |_| {
        session
            .library
            .with(|library| matches!(library, Library::Known(status) if status.recovery_set))
    });
    view! {
        <section class="card" id="access" data-testid="access-panel">
            <h2>"Access"</h2>
            <Show
                when=move || !waiting.with(Vec::is_empty)
                fallback=|| view! { <p class="muted">"Nobody is waiting to be let in."</p> }
            >
                <Show when=move || !session.unlocked()>
                    <p class="banner warning">
                        "Unlock the library in this tab to let someone in: " <a href="/">"go to the library"</a>"."
                    </p>
                </Show>
                <ul class="waiting-list">
                    <For each=move || waiting.get() key=|member| (member.username.clone(), member.public_key.to_hex()) let:member>
                        <WaitingRow member/>
                    </For>
                </ul>
            </Show>
            <NewRecoveryKey recovery_set/>
        </section>
    }
}

#[component]
fn WaitingRow(member: WaitingMember) -> impl IntoView {
    let session = Session::get();
    let busy = RwSignal::new(false);
    let error = RwSignal::new(None::<String>);
    let name = member.username.clone();
    let member = StoredValue::new(member);
    let grant = move |_| {
        let Some(unlocked) = session.key.get_untracked() else {
            error.set(Some("Unlock the library in this tab first.".to_owned()));
            return;
        };
        busy.set(true);
        error.set(None);
        spawn_local(async move {
            let result = match member.with_value(|m| cloister_shared::keyring::grant(&unlocked, m))
            {
                Ok(request) => api::grant(&request).await.map_err(|err| err.message),
                Err(err) => Err(err.to_string()),
            };
            match result {
                Ok(()) => session.refresh_library().await,
                Err(message) => {
                    error.try_set(Some(message));
                    busy.try_set(false);
                }
            }
        });
    };
    view! {
        <li class="waiting-member" data-testid="waiting-member">
            <span>{format!("{name} is waiting for access")}</span>
            " — "
            <button class="button small" data-testid="grant-access"
                disabled=move || busy.get() || !session.unlocked() on:click=grant>"Grant"</button>
            <ErrorLine error/>
        </li>
    }
}

/// A new recovery key, replacing the old one: the words are shown once.
#[component]
fn NewRecoveryKey(recovery_set: Memo<bool>) -> impl IntoView {
    let session = Session::get();
    let words = RwSignal::new(None::<Vec<String>>);
    let error = RwSignal::new(None::<String>);
    let busy = RwSignal::new(false);
    let make = move |_| {
        let Some(unlocked) = session.key.get_untracked() else {
            error.set(Some("Unlock the library in this tab first.".to_owned()));
            return;
        };
        busy.set(true);
        error.set(None);
        spawn_local(async move {
            let result = match crate::keyring::recovery::new_recovery(unlocked).await {
                Ok((request, list)) => api::set_recovery(&request)
                    .await
                    .map(|()| list)
                    .map_err(|err| err.message),
                Err(message) => Err(message),
            };
            match result {
                Ok(list) => {
                    words.try_set(Some(list));
                    session.refresh_library().await;
                }
                Err(message) => {
                    error.try_set(Some(message));
                }
            }
            busy.try_set(false);
        });
    };
    view! {
        <h3>"Recovery key"</h3>
        {move || match words.get() {
            Some(list) => view! { <RecoverySheet words=list on_done=Callback::new(move |()| words.set(None))/> }.into_any(),
            None => view! {
                <p class="muted">
                    {move || if recovery_set.get() {
                        "The library has a recovery key. Making a new one replaces it: the old words stop working."
                    } else {
                        "The library has no recovery key yet. Without one, the videos are lost if every admin forgets their passphrase."
                    }}
                </p>
                <button class="button secondary" type="button" disabled=move || busy.get() || !session.unlocked()
                    on:click=make>"Make a new recovery key"</button>
                <ErrorLine error/>
            }
            .into_any(),
        }}
    }
}
