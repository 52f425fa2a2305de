//! "Share outside the group" in the open video view (docs/api.md, "Share links"): for the video's
//! owner or an admin, once the video is ready. This tab makes the link's id and secret, wraps the
//! video's key under the secret (docs/format.md, "Share links") and sends only the wrapped key; the
//! secret exists only in the link's fragment, shown once here with Copy. Below, this video's
//! links with their views and expiry, each with Withdraw.

use std::sync::Arc;

use cloister_shared::api::shares::{ShareExpiry, ShareInfo};
use cloister_shared::api::{Role, VideoStatus};
use leptos::prelude::*;

use crate::pages::video::details::Opened;
use crate::session::{Auth, Session};

#[component]
pub fn ShareAction(opened: Arc<Opened>) -> impl IntoView {
    let session = Session::get();
    let summary = &opened.summary;
    let ready = summary.status == VideoStatus::Ready;
    let owner = summary.owner.clone();
    let may_share = move || {
        ready
            && matches!(session.auth.get(), Auth::SignedIn(me)
                if me.role == Role::Admin || me.username == owner)
    };
    move || may_share().then(|| view! { <SharePanel opened=opened.clone()/> })
}

/// What the panel is doing.
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(not(feature = "hydrate"), allow(dead_code))]
enum Making {
    Idle,
    Working,
    /// The new link, whole (with its secret): shown once.
    Made(String),
    Failed(String),
}

#[component]
fn SharePanel(opened: Arc<Opened>) -> impl IntoView {
    let video = opened.summary.video_id;
    let dek = StoredValue::new(opened.dek.clone());
    let expiry = RwSignal::new(ShareExpiry::default());
    let allow_download = RwSignal::new(false);
    let making = RwSignal::new(Making::Idle);
    let copied = RwSignal::new(false);
    let shares = RwSignal::new(None::<Result<Vec<ShareInfo>, String>>);
    let refresh = RwSignal::new(0u32);
    let link_ref = NodeRef::<leptos::html::Input>::new();

    Effect::new(move |_| {
        refresh.track();
        leptos::task::spawn_local(async move {
            let answer = crate::api::video_shares(&video)
                .await
                .map_err(|err| err.message);
            shares.try_set(Some(answer));
        });
    });

    let create = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        if making.get_untracked() == Making::Working {
            return;
        }
        making.set(Making::Working);
        copied.set(false);
        let (expiry, allow_download) = (expiry.get_untracked(), allow_download.get_untracked());
        leptos::task::spawn_local(async move {
            let made = make_link(video, &dek.get_value(), expiry, allow_download).await;
            making.try_set(match made {
                Ok(link) => Making::Made(link),
                Err(message) => Making::Failed(message),
            });
            refresh.try_update(|n| *n = n.wrapping_add(1));
        });
    };
    let copy = move |_| {
        if let Making::Made(link) = making.get_untracked() {
            leptos::task::spawn_local(async move {
                let done = copy_text(link, link_ref).await;
                copied.try_set(done);
            });
        }
    };
    let revoke = move |info: ShareInfo| {
        leptos::task::spawn_local(async move {
            if let Err(err) = crate::api::revoke_share(&info.share_id).await {
                shares.try_set(Some(Err(err.message)));
            }
            refresh.try_update(|n| *n = n.wrapping_add(1));
        });
    };

    let made = move || {
        match making.get() {
        Making::Idle => ().into_any(),
        Making::Working => view! {
            <p class="muted" role="status">"Making the link…"</p>
        }
        .into_any(),
        Making::Made(link) => view! {
            <div class="share-made" data-testid="share-made">
                <label for="share-link">"The link"</label>
                <div class="share-link-row">
                    <input id="share-link" class="share-link" type="text" readonly=true
                        node_ref=link_ref value=link data-testid="share-link"
                        on:focus=move |ev| select_all(&ev)/>
                    <button type="button" class="button" data-testid="share-copy" on:click=copy>
                        {move || if copied.get() { "Copied" } else { "Copy" }}
                    </button>
                </div>
                <p class="muted">
                    "Copy it now: Cloister does not keep the part after # (it is the key), so this link cannot be shown again."
                </p>
            </div>
        }
        .into_any(),
        Making::Failed(message) => view! {
            <p class="error" role="alert" data-testid="share-error">{message}</p>
        }
        .into_any(),
    }
    };
    let list = move || match shares.get() {
        None => ().into_any(),
        Some(Err(message)) => view! { <p class="error" role="alert">{message}</p> }.into_any(),
        Some(Ok(list)) if list.is_empty() => view! {
            <p class="muted" data-testid="share-none">"No links to this video yet."</p>
        }
        .into_any(),
        Some(Ok(list)) => {
            let now = now_seconds();
            view! {
                <ul class="share-list" data-testid="share-list">
                    {list
                        .into_iter()
                        .map(|info| {
                            let live = info.is_live(now);
                            let line = info.status_line(now);
                            let by = format!("Made by {}", info.created_by);
                            let id = info.share_id.to_string();
                            view! {
                                <li class="share-item" data-testid="share-item" data-share-id=id
                                    data-live=live.to_string()>
                                    <span class="share-line">{line}</span>
                                    <span class="muted share-by">{by}</span>
                                    <Show when=move || live>
                                        {
                                            let info = info.clone();
                                            view! {
                                                <button type="button" class="button secondary small"
                                                    data-testid="share-revoke"
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
        }
    };

    view! {
        <details class="share-panel" data-testid="share-panel">
            <summary>"Share outside the group"</summary>
            <p class="muted">
                "Anyone with the link can watch this video, without an account, until the link expires or you withdraw it."
            </p>
            <form class="share-form" on:submit=create>
                <label for="share-expiry">"The link works for"</label>
                <select id="share-expiry" data-testid="share-expiry"
                    on:change=move |ev| {
                        if let Some(chosen) = ShareExpiry::parse(&event_target_value(&ev)) {
                            expiry.set(chosen);
                        }
                    }>
                    {ShareExpiry::ALL
                        .into_iter()
                        .map(|choice| view! {
                            <option value=choice.as_str() selected=choice == ShareExpiry::default()>
                                {choice.label()}
                            </option>
                        })
                        .collect_view()}
                </select>
                <label class="share-allow">
                    <input type="checkbox" data-testid="share-allow-download"
                        prop:checked=move || allow_download.get()
                        on:change=move |ev| allow_download.set(event_target_checked(&ev))/>
                    "Let them save the video"
                </label>
                <button type="submit" class="button" data-testid="share-create"
                    disabled=move || making.get() == Making::Working>
                    "Create link"
                </button>
            </form>
            {made}
            <h4 class="share-list-heading">"Links to this video"</h4>
            {list}
        </details>
    }
}

/// Makes the id and secret, wraps the key, registers the share: the whole link, or why not.
#[cfg(feature = "hydrate")]
async fn make_link(
    video: cloister_shared::VideoId,
    dek: &cloister_shared::Dek,
    expiry: ShareExpiry,
    allow_download: bool,
) -> Result<String, String> {
    use cloister_shared::api::shares::CreateShareRequest;
    use cloister_shared::crypto::share::{link_path, wrap_dek_for_share, ShareId, ShareSecret};

    let failed = |_| "This browser could not make a random key for the link.".to_owned();
    let share_id = ShareId::random().map_err(failed)?;
    let secret = ShareSecret::generate().map_err(failed)?;
    let wrapped_key = wrap_dek_for_share(&secret, &share_id, &video, dek)
        .map_err(|_| "The video's key could not be wrapped for the link.".to_owned())?;
    let request = CreateShareRequest {
        share_id,
        wrapped_key,
        expiry,
        allow_download,
    };
    crate::api::create_share(&video, &request)
        .await
        .map_err(|err| err.message)?;
    let origin = window().location().origin().unwrap_or_default();
    Ok(format!("{origin}{}", link_path(&share_id, &secret)))
}

#[cfg(not(feature = "hydrate"))]
async fn make_link(
    _video: cloister_shared::VideoId,
    _dek: &cloister_shared::Dek,
    _expiry: ShareExpiry,
    _allow_download: bool,
) -> Result<String, String> {
    Err("Links are made in the browser.".to_owned())
}

/// Copies to the clipboard where the browser allows it; otherwise selects the text so the person
/// can copy it themselves. `true` when it was copied.
async fn copy_text(text: String, input: NodeRef<leptos::html::Input>) -> bool {
    #[cfg(feature = "hydrate")]
    {
        use wasm_bindgen::JsCast;
        let clipboard = js_sys::Reflect::get(&window().navigator(), &"clipboard".into())
            .ok()
            .filter(|value| !value.is_undefined() && !value.is_null());
        let write = clipboard.as_ref().and_then(|clipboard| {
            js_sys::Reflect::get(clipboard, &"writeText".into())
                .ok()?
                .dyn_into::<js_sys::Function>()
                .ok()
        });
        if let (Some(clipboard), Some(write)) = (clipboard, write) {
            let promise = write
                .call1(&clipboard, &text.into())
                .ok()
                .and_then(|value| value.dyn_into::<js_sys::Promise>().ok());
            if let Some(promise) = promise {
                if wasm_bindgen_futures::JsFuture::from(promise).await.is_ok() {
                    return true;
                }
            }
        }
        if let Some(input) = input.get_untracked() {
            let _ = input.focus();
            input.select();
        }
        false
    }
    #[cfg(not(feature = "hydrate"))]
    {
        let _ = (text, input);
        false
    }
}

fn select_all(ev: &leptos::ev::FocusEvent) {
    #[cfg(feature = "hydrate")]
    {
        use wasm_bindgen::JsCast;
        if let Some(input) = ev
            .target()
            .and_then(|target| target.dyn_into::<web_sys::HtmlInputElement>().ok())
        {
            input.select();
        }
    }
    #[cfg(not(feature = "hydrate"))]
    let _ = ev;
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
