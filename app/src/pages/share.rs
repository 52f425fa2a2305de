//! `/s/:id#<secret>`: one shared video for someone outside the group (docs/api.md, "Share links").
//! No account, no sign-in: the share id in the path is the authority for the share-scoped routes,
//! and the secret in the fragment (which the browser never sends) unwraps the video's key here.
//! The title, the player and — when the link allows it — "Save", decrypting in this tab with the
//! same code members use.

use std::sync::Arc;

use cloister_shared::api::shares::ShareId;
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_params_map;

use crate::player::{Player, Source};
use crate::upload::progress::human_bytes;

/// What the page shows.
#[derive(Clone)]
#[cfg_attr(not(feature = "hydrate"), allow(dead_code))]
enum PageState {
    Opening,
    /// Expired, withdrawn or never existed: the server's words.
    Gone(String),
    /// Anything else that stops it, in words (a cut-off link, the server unreachable).
    Failed(String),
    Opened(Arc<SharedOpened>),
}

/// The opened share.
#[cfg_attr(not(feature = "hydrate"), allow(dead_code))]
struct SharedOpened {
    share: ShareId,
    title: String,
    source: Arc<Source>,
    /// Plain size and file name, when the link allows saving.
    save: Option<(u64, String)>,
}

#[component]
pub fn SharePage() -> impl IntoView {
    let params = use_params_map();
    let share = params.with_untracked(|p| p.get("id").and_then(|raw| ShareId::parse(&raw).ok()));
    let state = RwSignal::new(PageState::Opening);
    // A link pasted over this one in the same tab changes only the fragment: open it afresh.
    let attempt = RwSignal::new(0u32);
    let on_hash = window_event_listener(leptos::ev::hashchange, move |_| {
        state.set(PageState::Opening);
        attempt.update(|n| *n = n.wrapping_add(1));
    });
    on_cleanup(move || on_hash.remove());
    Effect::new(move |_| {
        attempt.track();
        #[cfg(feature = "hydrate")]
        leptos::task::spawn_local(async move {
            let opened = browser::open(share).await;
            state.try_set(opened);
        });
        #[cfg(not(feature = "hydrate"))]
        let _ = share;
    });
    let body = move || match state.get() {
        PageState::Opening => view! {
            <p class="muted" role="status" data-testid="share-opening">"Opening the video…"</p>
        }
        .into_any(),
        PageState::Gone(message) => view! {
            <h1>"Shared video"</h1>
            <p class="error" role="alert" data-testid="share-gone">{message}</p>
            <p class="muted">"Ask whoever sent it to you for a new link."</p>
        }
        .into_any(),
        PageState::Failed(message) => view! {
            <h1>"Shared video"</h1>
            <p class="error" role="alert" data-testid="share-error">{message}</p>
        }
        .into_any(),
        PageState::Opened(opened) => {
            let title = opened.title.clone();
            let save = opened
                .save
                .clone()
                .map(|(size, name)| view! { <ShareSave opened=opened.clone() size name/> });
            view! {
                <h1 data-testid="share-title">{title.clone()}</h1>
                <Player source=opened.source.clone() title/>
                {save}
                <p class="muted share-note">
                    "Shared with you through Cloister. The video is decrypted in this browser; the server cannot see it."
                </p>
            }
            .into_any()
        }
    };
    view! {
        <Title text="Shared video · Cloister"/>
        <div class="share-page" data-testid="share-page">
            {body}
        </div>
    }
}

#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(not(feature = "hydrate"), allow(dead_code))]
enum SaveState {
    Idle,
    Running { done: u64 },
    Saved,
    Cancelled,
    Failed(String),
}

/// "Save": the sealed original through the share, decrypted here chunk by chunk and written out
/// (the members' "Save (decrypt here)").
#[component]
fn ShareSave(opened: Arc<SharedOpened>, size: u64, name: String) -> impl IntoView {
    let save = RwSignal::new(SaveState::Idle);
    let cancel = StoredValue::new(false);
    let host = NodeRef::<leptos::html::Section>::new();
    let opened = StoredValue::new(opened);
    let name = StoredValue::new(name);
    let start = move |_| {
        if matches!(save.get_untracked(), SaveState::Running { .. }) {
            return;
        }
        cancel.set_value(false);
        save.set(SaveState::Running { done: 0 });
        #[cfg(feature = "hydrate")]
        leptos::task::spawn_local(async move {
            use crate::pages::video::download::save;
            let Some(host) = host.get_untracked() else {
                return;
            };
            let opened = opened.get_value();
            let request = save::SaveRequest {
                video: opened.source.video,
                original_url: cloister_shared::api::shares::paths::original(&opened.share),
                dek: opened.source.dek.clone(),
                size,
                file_name: name.get_value(),
            };
            let end = save::run(
                request,
                move || cancel.try_get_value().unwrap_or(true),
                move |done| {
                    save.try_set(SaveState::Running { done });
                },
                host.into(),
            )
            .await;
            save.try_set(match end {
                save::SaveEnd::Saved => SaveState::Saved,
                save::SaveEnd::Cancelled => SaveState::Cancelled,
                other => SaveState::Failed(other.message().unwrap_or_default()),
            });
        });
        #[cfg(not(feature = "hydrate"))]
        let _ = (opened, name, host, size);
    };
    let line = move || {
        match save.get() {
        SaveState::Idle => ().into_any(),
        SaveState::Running { done } => {
            let percent = if size == 0 { 100.0 } else { done as f64 / size as f64 * 100.0 };
            view! {
                <div class="download-progress" data-testid="share-save-progress">
                    <div class="progress" role="progressbar" aria-label="Saving" aria-valuemin="0"
                        aria-valuemax="100" aria-valuenow=format!("{percent:.0}")>
                        <div style=format!("width: {percent:.1}%")></div>
                    </div>
                    <span>{format!("Decrypting: {} of {}", human_bytes(done), human_bytes(size))}</span>
                    " "
                    <button class="button secondary small" on:click=move |_| cancel.set_value(true)>
                        "Cancel"
                    </button>
                </div>
            }
            .into_any()
        }
        SaveState::Saved => view! {
            <p class="success" role="status" data-testid="share-save-status">"Saved."</p>
        }
        .into_any(),
        SaveState::Cancelled => view! {
            <p class="muted" role="status" data-testid="share-save-status">"Not saved: cancelled. Nothing was kept."</p>
        }
        .into_any(),
        SaveState::Failed(message) => view! {
            <p class="error" role="alert" data-testid="share-save-status">{message}</p>
        }
        .into_any(),
    }
    };
    let running = move || matches!(save.get(), SaveState::Running { .. });
    view! {
        <section class="share-save" node_ref=host aria-label="Save the video">
            <div class="download-way">
                <button class="button" data-testid="share-save" on:click=start disabled=running>
                    "Save"
                </button>
                <span class="muted">
                    {format!("The original file ({}), decrypted in this browser.", human_bytes(size))}
                </span>
            </div>
            {line}
        </section>
    }
}

#[cfg(feature = "hydrate")]
mod browser {
    use cloister_shared::api::downloads::clean_file_name;
    use cloister_shared::api::shares::{paths, SharedVideo, SHARE_UNDECRYPTABLE_MESSAGE};
    use cloister_shared::crypto::share::{secret_from_fragment, unwrap_dek_for_share};
    use cloister_shared::crypto::webcrypto;
    use cloister_shared::Purpose;

    use super::*;
    use crate::api;
    use crate::player::retry::{with_retries, FetchError};
    use crate::player::sealed::{read_manifest, ManifestProblem};
    use crate::player::Files;

    const UNREACHABLE: &str = "The video could not be opened: the server could not be reached, even after several tries. Check your connection and reload the page.";

    fn undecryptable() -> PageState {
        PageState::Failed(SHARE_UNDECRYPTABLE_MESSAGE.to_owned())
    }

    fn refused(err: FetchError) -> PageState {
        match err {
            FetchError::Refused(message) => PageState::Failed(message),
            FetchError::Unreachable | FetchError::Abandoned => {
                PageState::Failed(UNREACHABLE.to_owned())
            }
        }
    }

    /// Everything the page needs, or what to say instead.
    pub async fn open(share: Option<ShareId>) -> PageState {
        let Some(share) = share else {
            // A path that is not a share id at all answers like a link that no longer works.
            return PageState::Gone(cloister_shared::api::shares::SHARE_GONE_MESSAGE.to_owned());
        };
        let fragment = window().location().hash().unwrap_or_default();
        let facts: SharedVideo = match api::shared_video(&share).await {
            Ok(facts) => facts,
            Err(err) if err.status == 410 => return PageState::Gone(err.message),
            Err(err) if err.status == 0 => return PageState::Failed(UNREACHABLE.to_owned()),
            Err(err) => return PageState::Failed(err.message),
        };
        let Ok(secret) = secret_from_fragment(&fragment) else {
            return undecryptable();
        };
        let video = facts.video_id;
        let Ok(dek) = unwrap_dek_for_share(&secret, &share, &video, &facts.wrapped_key) else {
            return undecryptable();
        };
        let open_text = |sealed_hex: &str, purpose: Purpose| {
            let dek = dek.clone();
            let sealed = hex::decode(sealed_hex).ok();
            async move {
                let plain = webcrypto::open_all(&dek, &video, &purpose, &sealed?)
                    .await
                    .ok()?;
                Some(String::from_utf8_lossy(&plain).trim().to_owned())
            }
        };
        let Some(title) = open_text(&facts.title_sealed, Purpose::Title).await else {
            return undecryptable();
        };
        let title = if title.is_empty() {
            "Untitled".to_owned()
        } else {
            title
        };
        let url = paths::manifest(&share, &facts.rendition);
        let sealed = match with_retries(|| api::sealed_file(&url, None), || false, |_| {}).await {
            Ok(sealed) => sealed,
            Err(err) => return refused(err),
        };
        let Ok(plain) = webcrypto::open_all(&dek, &video, &Purpose::Manifest, &sealed).await else {
            return undecryptable();
        };
        let manifest =
            match read_manifest(&plain, &facts.rendition) {
                Ok(manifest) => manifest,
                Err(ManifestProblem::Unreadable) => return undecryptable(),
                Err(ManifestProblem::NewerVersion) => return PageState::Failed(
                    "This video was prepared by a newer Cloister than this page. Reload the page."
                        .to_owned(),
                ),
            };
        let save = match (facts.allow_download, facts.size_bytes) {
            (true, Some(size)) => {
                let file_name = match facts.file_name_sealed.as_deref() {
                    Some(sealed) => open_text(sealed, Purpose::FileName).await,
                    None => None,
                };
                let name = file_name
                    .filter(|name| !name.is_empty())
                    .unwrap_or_else(|| title.clone());
                Some((size, clean_file_name(&name)))
            }
            _ => None,
        };
        // One view per opening; a failure to count must not stop the watching.
        let _ = api::count_share_view(&share).await;
        PageState::Opened(Arc::new(SharedOpened {
            share,
            title,
            source: Arc::new(Source {
                video,
                dek,
                manifest,
                files: Files::Share(share),
            }),
            save,
        }))
    }
}
