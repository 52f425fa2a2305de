//! Members: the account list, adding an account, and one-time invites.

use cloister_shared::api::{CreateInviteRequest, CreateUserRequest, Role, UserInfo};
use leptos::prelude::*;
use leptos::task::spawn_local;

use crate::api;
use crate::components::ErrorLine;

/// Accounts: who they are, adding one, inviting someone.
#[component]
pub(super) fn Users() -> impl IntoView {
    let session = crate::session::Session::get();
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

    // The member being removed and how many videos they have (asked of the storage report).
    let removing = RwSignal::new(None::<(String, u64)>);
    let remove = move |username: String| {
        error.set(None);
        spawn_local(async move {
            let videos = match api::storage_report().await {
                Ok(report) => report
                    .users
                    .iter()
                    .find(|u| u.username == username)
                    .map_or(0, |u| u.videos),
                Err(err) => {
                    error.try_set(Some(err.message));
                    return;
                }
            };
            removing.try_set(Some((username, videos)));
        })
    };

    view! {
        <section class="card">
            <h2>"Members"</h2>
            <ErrorLine error/>
            {move || removing.get().map(|(username, videos)| view! {
                <RemoveMember username videos users on_done=move |removed| {
                    removing.set(None);
                    if removed {
                        reload();
                        // The status now lists them: the key change starts (notify/key_change.rs).
                        spawn_local(session.refresh_library());
                    }
                }/>
            })}
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
                                    <td data-label="Quota">{cloister_shared::protocol::human_bytes(user.quota_bytes)}</td>
                                    <td class="row-actions-cell"><button class="button secondary small" data-testid="remove-member" on:click=move |_| remove(name.clone())>"Remove"</button></td>
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

/// Removing one member, asked first; with videos, the admin chooses who gets them or moves them
/// to the trash (docs/admin.md, "Members").
#[component]
fn RemoveMember(
    username: String,
    videos: u64,
    users: RwSignal<Vec<UserInfo>>,
    on_done: impl Fn(bool) + Copy + Send + Sync + 'static,
) -> impl IntoView {
    let others: Vec<String> = users
        .get_untracked()
        .into_iter()
        .map(|u| u.username)
        .filter(|u| *u != username)
        .collect();
    // "trash", or the name of the member who gets the videos.
    let choice = RwSignal::new(
        others
            .first()
            .cloned()
            .unwrap_or_else(|| "trash".to_owned()),
    );
    let error = RwSignal::new(None::<String>);
    let busy = RwSignal::new(false);
    let name = StoredValue::new(username.clone());
    // The question appears above the list: take the focus (and the eye) there.
    let bar = NodeRef::<leptos::html::Div>::new();
    Effect::new(move |_| {
        if let Some(bar) = bar.get() {
            let _ = bar.focus();
        }
    });
    let confirm = move |_| {
        busy.set(true);
        error.set(None);
        let username = name.get_value();
        let goes_to = match choice.get_untracked() {
            c if c == "trash" => api::VideosGoTo::Trash,
            member => api::VideosGoTo::Member(member),
        };
        spawn_local(async move {
            match api::remove_member(&username, &goes_to).await {
                Ok(()) => on_done(true),
                Err(err) => {
                    busy.try_set(false);
                    error.try_set(Some(err.message));
                }
            }
        });
    };
    let question = if videos == 0 {
        format!("Remove {username}? They can no longer sign in.")
    } else {
        format!(
            "Remove {username}? They can no longer sign in, and their comments are removed. Their {videos} video{}:",
            if videos == 1 { "" } else { "s" }
        )
    };
    let select = (videos > 0).then(|| {
        let options = others
            .into_iter()
            .map(|other| {
                let label = format!("Give them to {other}");
                view! { <option value=other>{label}</option> }
            })
            .collect_view();
        view! {
            <label class="visually-hidden" for="remove-videos-to">"Where their videos go"</label>
            <select id="remove-videos-to" data-testid="remove-videos-to"
                on:change=move |ev| choice.set(event_target_value(&ev))>
                {options}
                <option value="trash">"Move them to the trash"</option>
            </select>
        }
    });
    view! {
        <div class="confirm-bar remove-member" role="group" aria-label="Confirm removing the member"
            tabindex="-1" node_ref=bar>
            <span>{question}</span>
            {select}
            <button class="button danger small" data-testid="confirm-remove-member"
                disabled=move || busy.get() on:click=confirm>"Remove"</button>
            <button class="button secondary small" on:click=move |_| on_done(false)>"Keep"</button>
            <ErrorLine error/>
        </div>
    }
}

#[component]
fn AddMember(on_added: impl Fn() + Copy + Send + Sync + 'static) -> impl IntoView {
    // Read from the inputs at submit, not bound to signals: hydration (the admin page is a lazy
    // route, so it may come a moment after the page shows) then leaves alone what was typed.
    let username = NodeRef::<leptos::html::Input>::new();
    let password = NodeRef::<leptos::html::Input>::new();
    let admin = NodeRef::<leptos::html::Input>::new();
    let error = RwSignal::new(None::<String>);
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        error.set(None);
        let (Some(username), Some(password), Some(admin)) = (
            username.get_untracked(),
            password.get_untracked(),
            admin.get_untracked(),
        ) else {
            return;
        };
        let request = CreateUserRequest {
            username: username.value(),
            password: password.value(),
            role: Some(if admin.checked() {
                Role::Admin
            } else {
                Role::Member
            }),
            quota_bytes: None,
        };
        spawn_local(async move {
            match api::create_user(&request).await {
                Ok(_) => {
                    username.set_value("");
                    password.set_value("");
                    admin.set_checked(false);
                    on_added();
                }
                Err(err) => error.set(Some(err.message)),
            }
        });
    };
    view! {
        <form class="inline-form" on:submit=submit>
            <h3>"Add a member"</h3>
            <input placeholder="username" aria-label="New member's username" required node_ref=username/>
            <input type="password" placeholder="password" aria-label="New member's password" autocomplete="new-password" required
                node_ref=password/>
            <label class="checkbox"><input type="checkbox" node_ref=admin/>"admin"</label>
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
