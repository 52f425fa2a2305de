//! Members: the account list, adding an account, and one-time invites.

use cloister_shared::api::{CreateInviteRequest, CreateUserRequest, Role, UserInfo};
use leptos::prelude::*;
use leptos::task::spawn_local;

use crate::api;
use crate::components::ErrorLine;

/// Accounts: who they are, adding one, inviting someone.
#[component]
pub(super) fn Users() -> impl IntoView {
    let users = RwSignal::new(Vec::<UserInfo>::new());
    let error = RwSignal::new(None::<String>);
    let reload = move || {
        spawn_local(async move {
            match api::users().await {
                Ok(list) => users.set(list),
                Err(err) => error.set(Some(err.message)),
            }
        })
    };
    Effect::new(move |_| reload());

    let remove = move |username: String| {
        spawn_local(async move {
            match api::remove_user(&username).await {
                Ok(()) => reload(),
                Err(err) => error.set(Some(err.message)),
            }
        })
    };

    view! {
        <section class="card">
            <h2>"Members"</h2>
            <ErrorLine error/>
            <table class="table reflow">
                <thead><tr><th>"Username"</th><th>"Role"</th><th>"Quota"</th><th></th></tr></thead>
                <tbody>
                    <For each=move || users.get() key=|user| user.username.clone() let:user>
                        {
                            let name = user.username.clone();
                            view! {
                                <tr>
                                    <td data-label="Username">{user.username.clone()}</td>
                                    <td data-label="Role">{user.role.to_string()}</td>
                                    <td data-label="Quota">{format_gib(user.quota_bytes)}</td>
                                    <td class="row-actions-cell"><button class="button secondary small" on:click=move |_| remove(name.clone())>"Remove"</button></td>
                                </tr>
                            }
                        }
                    </For>
                </tbody>
            </table>
            <AddMember on_added=reload/>
            <Invite/>
        </section>
    }
}

#[component]
fn AddMember(on_added: impl Fn() + Copy + Send + Sync + 'static) -> impl IntoView {
    let username = RwSignal::new(String::new());
    let password = RwSignal::new(String::new());
    let admin = RwSignal::new(false);
    let error = RwSignal::new(None::<String>);
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        error.set(None);
        spawn_local(async move {
            let request = CreateUserRequest {
                username: username.get_untracked(),
                password: password.get_untracked(),
                role: Some(if admin.get_untracked() {
                    Role::Admin
                } else {
                    Role::Member
                }),
                quota_bytes: None,
            };
            match api::create_user(&request).await {
                Ok(_) => {
                    username.set(String::new());
                    password.set(String::new());
                    on_added();
                }
                Err(err) => error.set(Some(err.message)),
            }
        });
    };
    view! {
        <form class="inline-form" on:submit=submit>
            <h3>"Add a member"</h3>
            <input placeholder="username" aria-label="New member's username" required
                prop:value=move || username.get() on:input=move |ev| username.set(event_target_value(&ev))/>
            <input type="password" placeholder="password" aria-label="New member's password" autocomplete="new-password" required
                prop:value=move || password.get() on:input=move |ev| password.set(event_target_value(&ev))/>
            <label class="checkbox"><input type="checkbox" prop:checked=move || admin.get()
                on:change=move |ev| admin.set(event_target_checked(&ev))/>"admin"</label>
            <button class="button" type="submit">"Add"</button>
            <ErrorLine error/>
        </form>
    }
}

#[component]
fn Invite() -> impl IntoView {
    let link = RwSignal::new(None::<String>);
    let error = RwSignal::new(None::<String>);
    let create = move |_| {
        spawn_local(async move {
            match api::create_invite(&CreateInviteRequest { role: None }).await {
                Ok(invite) => link.set(Some(format!("{}{}", origin(), invite.url_path))),
                Err(err) => error.set(Some(err.message)),
            }
        });
    };
    view! {
        <div class="invite">
            <h3>"Invite someone"</h3>
            <p class="muted">"A link that works once, for seven days. Send it privately; whoever opens it can create an account."</p>
            <button class="button secondary" on:click=create>"Create invite link"</button>
            <Show when=move || link.with(Option::is_some)>
                <input class="invite-link" readonly aria-label="Invite link" prop:value=move || link.get().unwrap_or_default()/>
            </Show>
            <ErrorLine error/>
        </div>
    }
}

fn origin() -> String {
    #[cfg(feature = "hydrate")]
    {
        web_sys::window()
            .and_then(|w| w.location().origin().ok())
            .unwrap_or_default()
    }
    #[cfg(not(feature = "hydrate"))]
    String::new()
}

fn format_gib(bytes: u64) -> String {
    format!("{:.0} GiB", bytes as f64 / (1024.0 * 1024.0 * 1024.0))
}
