//! The Share links section: every link to a video outside the group, whoever made it, with its
//! views and expiry, and Withdraw (docs/api.md, "Share links"). Titles show once the library is
//! unlocked in this tab.

use cloister_shared::api::shares::ShareInfo;
use leptos::prelude::*;
use leptos::task::spawn_local;

use crate::api;
use crate::components::ErrorLine;
use crate::session::Session;

#[component]
pub fn SharesPanel() -> impl IntoView {
    let session = Session::get();
    let shares = RwSignal::new(None::<Vec<ShareInfo>>);
    let error = RwSignal::new(None::<String>);
    let reload = move || async move {
        match api::all_shares().await {
            Ok(list) => {
                shares.try_set(Some(list));
            }
            Err(err) => {
                error.try_set(Some(err.message));
            }
        }
    };
    super::repeat(60_000, reload);
    let revoke = move |info: ShareInfo| {
        error.set(None);
        spawn_local(async move {
            if let Err(err) = api::revoke_share(&info.share_id).await {
                error.try_set(Some(err.message));
            }
            reload().await;
        });
    };
    let rows = move || {
        let key = session.key.get();
        let now = now_seconds();
        shares.get().map(|list| {
            if list.is_empty() {
                return view! { <p class="muted">"No video has been shared outside the group."</p> }
                    .into_any();
            }
            view! {
                <ul class="share-list" data-testid="admin-share-list">
                    {list
                        .into_iter()
                        .map(|info| {
                            let title = key
                                .as_ref()
                                .and_then(|key| info.open_title(key))
                                .map(|t| if t.is_empty() { "Untitled".to_owned() } else { t })
                                .unwrap_or_else(|| "A video (unlock the library to see its title)".to_owned());
                            let live = info.is_live(now);
                            let line = info.status_line(now);
                            let by = format!("Made by {}", info.created_by);
                            let href = format!("/videos/{}", info.video_id);
                            view! {
                                <li class="share-item" data-testid="admin-share-item" data-live=live.to_string()>
                                    <a class="share-video" href=href>{title}</a>
                                    <span class="share-line">{line}</span>
                                    <span class="muted share-by">{by}</span>
                                    <Show when=move || live>
                                        {
                                            let info = info.clone();
                                            view! {
                                                <button type="button" class="button secondary small"
                                                    on:click=move |_| revoke(info.clone())>
                                                    "Withdraw"
                                                </button>
                                            }
                                        }
                                    </Show>
                                </li>
                            }
                        })
                        .collect_view()}
                </ul>
            }
            .into_any()
        })
    };
    view! {
        <section class="card" data-testid="admin-shares">
            <h2>"Share links"</h2>
            <ErrorLine error/>
            {rows}
        </section>
    }
}

/// Unix seconds now, by this device's clock.
fn now_seconds() -> i64 {
    #[cfg(feature = "hydrate")]
    {
        (js_sys::Date::now() / 1000.0) as i64
    }
    #[cfg(not(feature = "hydrate"))]
    {
        0
    }
}
