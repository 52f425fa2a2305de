//! "My downloads": the member's queued and ready server-side downloads (of any video), with Cancel
//! for a queued one and the link of a ready one. Read again when a download event arrives.

use cloister_shared::api::downloads::{DownloadInfo, DownloadState};
use leptos::prelude::*;

use crate::api;
use crate::notify::Notices;

#[component]
pub fn MyDownloads(
    /// Bumped by the panel after it started or cancelled a download.
    refresh: RwSignal<u64>,
) -> impl IntoView {
    let notices = Notices::get();
    let list = RwSignal::new(None::<Result<Vec<DownloadInfo>, String>>);
    Effect::new(move |_| {
        refresh.track();
        notices.downloads_changed.track();
        leptos::task::spawn_local(async move {
            let answer = api::downloads().await.map_err(|err| err.message);
            list.try_set(Some(answer));
        });
    });
    let cancel = move |download_id: String| {
        leptos::task::spawn_local(async move {
            if let Err(err) = api::cancel_download(&download_id).await {
                list.try_set(Some(Err(err.message)));
                return;
            }
            refresh.try_update(|n| *n = n.wrapping_add(1));
        });
    };
    let rows = move || match list.get() {
        None => view! { <p class="muted">"Loading…"</p> }.into_any(),
        Some(Err(message)) => view! { <p class="error">{message}</p> }.into_any(),
        Some(Ok(downloads)) => {
            let open: Vec<DownloadInfo> = downloads
                .into_iter()
                .filter(|d| !d.state.is_final())
                .collect();
            if open.is_empty() {
                return view! { <p class="muted" data-testid="no-downloads">"No downloads waiting."</p> }
                    .into_any();
            }
            let items = open
                .into_iter()
                .map(|download| {
                    let id = download.download_id.clone();
                    let action = match (download.state, download.url.clone()) {
                        (DownloadState::Queued, _) => view! {
                            <button class="button secondary small" data-testid="my-download-cancel"
                                on:click=move |_| cancel(id.clone())>"Cancel"</button>
                        }
                        .into_any(),
                        (DownloadState::Ready, Some(url)) => view! {
                            <a class="button small" href=url download="">"Download"</a>
                        }
                        .into_any(),
                        _ => ().into_any(),
                    };
                    view! {
                        <li data-testid="my-download" data-state=download.state.as_str()>
                            <span>{download.file_name.clone()}</span>
                            " — "
                            <span class="muted">{state_words(&download)}</span>
                            " "
                            {action}
                        </li>
                    }
                })
                .collect_view();
            view! { <ul>{items}</ul> }.into_any()
        }
    };
    view! {
        <div class="my-downloads" data-testid="my-downloads">
            <h4>"My downloads"</h4>
            {rows}
        </div>
    }
}

fn state_words(download: &DownloadInfo) -> String {
    match (download.state, download.queue_position) {
        (DownloadState::Queued, Some(position)) => format!("queued, position {position}"),
        (DownloadState::Queued, None) => "queued".to_owned(),
        (DownloadState::Ready, _) => "ready".to_owned(),
        (state, _) => state.as_str().to_owned(),
    }
}
