//! The video view's Download section: two ways to get the original file, each explained in one
//! line, and the member's own server-side downloads.

mod mine;
#[cfg(feature = "hydrate")]
pub(crate) mod save;
mod server;
#[cfg(feature = "hydrate")]
mod sink;

use std::sync::Arc;

use cloister_shared::api::VideoStatus;
use leptos::prelude::*;

use super::details::Opened;
use crate::notify::{words, Notices};
use crate::upload::progress::human_bytes;
use mine::MyDownloads;
use server::ServerState;

#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(not(feature = "hydrate"), allow(dead_code))]
enum SaveState {
    Idle,
    Running { done: u64, total: u64 },
    Saved,
    Cancelled,
    Failed(String),
}

/// `save_here` receives what starts "Save (decrypt here)", for the player to offer too.
#[component]
pub fn DownloadPanel(
    opened: Arc<Opened>,
    save_here: StoredValue<Option<Callback<()>>>,
) -> impl IntoView {
    let notices = Notices::get();
    let summary = &opened.summary;
    let video = summary.video_id;
    let size = summary.size_bytes;
    // The original's own name when it was recorded, else the title (the CLI does the same).
    let name = cloister_shared::api::downloads::clean_file_name(
        opened
            .file_name
            .as_deref()
            .or(opened.title.as_deref().ok())
            .unwrap_or("video"),
    );
    let name = StoredValue::new(name);
    let dek = StoredValue::new(opened.dek.clone());
    let host = NodeRef::<leptos::html::Section>::new();
    let save = RwSignal::new(SaveState::Idle);
    let cancel_save = StoredValue::new(false);
    let server = RwSignal::new(ServerState::Idle);
    let list_refresh = RwSignal::new(0u64);
    let available = summary.status != VideoStatus::Uploading;

    let start_save = move || {
        if matches!(save.get_untracked(), SaveState::Running { .. }) {
            return;
        }
        cancel_save.set_value(false);
        save.set(SaveState::Running {
            done: 0,
            total: size,
        });
        #[cfg(feature = "hydrate")]
        leptos::task::spawn_local(async move {
            let Some(host) = host.get_untracked() else {
                return;
            };
            let request = save::SaveRequest {
                video,
                original_url: format!("/api/videos/{video}/original"),
                dek: dek.get_value(),
                size,
                file_name: name.get_value(),
            };
            let end = save::run(
                request,
                move || cancel_save.try_get_value().unwrap_or(true),
                move |done| {
                    save.try_set(SaveState::Running { done, total: size });
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
    };
    let on_save = move |_| start_save();
    save_here.set_value(Some(Callback::new(move |()| {
        start_save();
        // Started from the player: the progress shows here.
        #[cfg(feature = "hydrate")]
        if let Some(host) = host.get_untracked() {
            host.scroll_into_view();
        }
    })));

    let ask_server = move |queue: bool| {
        server.set(ServerState::Asking);
        leptos::task::spawn_local(async move {
            let state = server::request(video, &dek.get_value(), &name.get_value(), queue).await;
            #[cfg(feature = "hydrate")]
            if let (ServerState::Ready { url }, Some(host)) = (&state, host.get_untracked()) {
                let _ = click_link(&host, url, &name.get_value());
            }
            server.try_set(state);
            list_refresh.try_update(|n| *n = n.wrapping_add(1));
        });
    };
    let cancel_queued = move |download_id: String| {
        leptos::task::spawn_local(async move {
            let state = server::cancel(&download_id).await;
            server.try_set(state);
            list_refresh.try_update(|n| *n = n.wrapping_add(1));
        });
    };
    // The socket said a download changed, or My downloads cancelled one: if it is the one queued
    // here, read it again.
    Effect::new(move |_| {
        notices.downloads_changed.track();
        list_refresh.track();
        let ServerState::Queued { download_id, .. } = server.get_untracked() else {
            return;
        };
        leptos::task::spawn_local(async move {
            if let Some(state) = server::refresh(&download_id).await {
                server.try_set(state);
            }
        });
    });

    let save_line = move || {
        match save.get() {
        SaveState::Idle => ().into_any(),
        SaveState::Running { done, total } => {
            let percent = if total == 0 { 100.0 } else { done as f64 / total as f64 * 100.0 };
            view! {
                <div class="download-progress" data-testid="save-progress">
                    <div class="progress" role="progressbar" aria-label="Saving" aria-valuemin="0"
                        aria-valuemax="100" aria-valuenow=format!("{percent:.0}")>
                        <div style=format!("width: {percent:.1}%")></div>
                    </div>
                    <span>{format!("Decrypting: {} of {}", human_bytes(done), human_bytes(total))}</span>
                    " "
                    <button class="button secondary small" data-testid="save-cancel"
                        on:click=move |_| cancel_save.set_value(true)>"Cancel"</button>
                </div>
            }
            .into_any()
        }
        SaveState::Saved => view! {
            <p class="success" role="status" data-testid="save-status">"Saved."</p>
        }
        .into_any(),
        SaveState::Cancelled => view! {
            <p class="muted" role="status" data-testid="save-status">"Not saved: cancelled. Nothing was kept."</p>
        }
        .into_any(),
        SaveState::Failed(message) => view! {
            <p class="error" role="alert" data-testid="save-status">{message}</p>
        }
        .into_any(),
    }
    };
    let server_line = move || {
        match server.get() {
        ServerState::Idle => ().into_any(),
        ServerState::Asking => view! {
            <p class="muted" role="status" data-testid="server-download-status">"Asking the server…"</p>
        }
        .into_any(),
        ServerState::Busy(message) => view! {
            <div class="download-busy" role="alert" data-testid="download-busy">
                <p>{message}</p>
                <button class="button small" on:click=move |_| ask_server(true)>"Queue download"</button>
                " "
                <button class="button secondary small" on:click=move |_| ask_server(false)>"Try now"</button>
            </div>
        }
        .into_any(),
        ServerState::Queued { download_id, position } => view! {
            <p role="status" data-testid="server-download-status">
                {words::download_queued(position)}
                " "
                <button class="button secondary small" data-testid="cancel-queued-download"
                    on:click=move |_| cancel_queued(download_id.clone())>"Cancel"</button>
            </p>
        }
        .into_any(),
        ServerState::Ready { url } => view! {
            <p role="status" data-testid="server-download-status">
                "Your download is ready. If it did not start, "
                <a href=url download="">"download it here"</a>
                " (the link works once)."
            </p>
        }
        .into_any(),
        ServerState::Cancelled => view! {
            <p class="muted" role="status" data-testid="server-download-status">"Download cancelled."</p>
        }
        .into_any(),
        ServerState::Failed(message) => view! {
            <p class="error" role="alert" data-testid="server-download-status">{message}</p>
        }
        .into_any(),
    }
    };
    let saving = move || matches!(save.get(), SaveState::Running { .. });
    let asking = move || matches!(server.get(), ServerState::Asking);

    view! {
        <section class="download-panel" node_ref=host aria-labelledby="download-heading" data-testid="download-panel">
            <h3 id="download-heading">"Download"</h3>
            {(!available).then(|| view! {
                <p class="muted">"The original can be downloaded once its upload is complete."</p>
            })}
            <Show when=move || available>
                <div class="download-way">
                    <button class="button" data-testid="save-here" on:click=on_save disabled=saving>
                        "Save (decrypt here)"
                    </button>
                    <span class="muted">
                        "Decrypted in this browser and written straight to disk; the key never leaves this device."
                    </span>
                </div>
                {save_line}
                <div class="download-way">
                    <button class="button secondary" data-testid="download-from-server"
                        on:click=move |_| ask_server(false) disabled=asking>
                        "Download from server"
                    </button>
                    <span class="muted">
                        "The server decrypts it for you with this video's key, held only for this download; it may have to queue when busy."
                    </span>
                </div>
                {server_line}
            </Show>
            <MyDownloads refresh=list_refresh/>
        </section>
    }
}

/// Starts the browser's download of a file: a `download` link clicked inside `host` (inside the
/// modal dialog, so not inert), then taken away again. For a server-side download the session
/// cookie authenticates the request.
#[cfg(feature = "hydrate")]
fn click_link(host: &web_sys::Element, url: &str, name: &str) -> Result<(), wasm_bindgen::JsValue> {
    use wasm_bindgen::JsCast;
    let document = host
        .owner_document()
        .ok_or_else(|| wasm_bindgen::JsValue::from_str("no document"))?;
    let link = document
        .create_element("a")?
        .dyn_into::<web_sys::HtmlElement>()?;
    link.set_attribute("href", url)?;
    link.set_attribute("download", name)?;
    link.set_attribute("hidden", "")?;
    host.append_child(&link)?;
    link.click();
    link.remove();
    Ok(())
}
