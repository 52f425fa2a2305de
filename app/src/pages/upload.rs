use leptos::prelude::*;

use crate::components::UnlockLibrary;
use crate::live::LiveJobs;
use crate::notify::{Notice, Notices, ToastAction, Tone};
use crate::pages::processing_banner::ProcessingBanner;
use crate::session::{Auth, Library, Session};
use crate::upload::progress::{human_bytes, Snapshot};
use crate::upload::{default_title, UploadState, NETWORK_FAILURE, STORAGE_LOW};

#[cfg(feature = "hydrate")]
type BrowserFile = web_sys::File;
#[cfg(not(feature = "hydrate"))]
type BrowserFile = ();

/// One chosen file and what is happening to it.
#[derive(Clone, Copy)]
struct Item {
    key: u32,
    name: StoredValue<String>,
    size: u64,
    #[cfg_attr(not(feature = "hydrate"), allow(dead_code))]
    file: StoredValue<Option<BrowserFile>, LocalStorage>,
    title: RwSignal<String>,
    description: RwSignal<String>,
    state: RwSignal<UploadState>,
    /// Said once during the upload, e.g. that an unfinished upload was started over.
    notice: RwSignal<Option<String>>,
    cancel: RwSignal<bool>,
}

impl Item {
    fn active(&self) -> bool {
        matches!(
            self.state.get(),
            UploadState::Preparing | UploadState::Sending(_) | UploadState::Completing
        )
    }
}

/// Pick or drop videos, name them, send them encrypted; watch each one's progress.
#[component]
pub fn UploadPage() -> impl IntoView {
    let session = Session::get();
    let live = LiveJobs::get();
    let items = RwSignal::new(Vec::<Item>::new());
    let next_key = StoredValue::new(0u32);
    let running = RwSignal::new(false);
    let notices = Notices::get();
    // The toast's Retry is Upload pressed again; set once `start` exists.
    let retry = StoredValue::new(None::<Callback<()>>);
    let retry_action = Callback::new(move |()| {
        if let Some(start) = retry.get_value() {
            start.run(());
        }
    });
    // The toasts act on this page's files: they go with it.
    on_cleanup(move || {
        notices.dismiss_key("upload-failed");
    });

    #[cfg(feature = "hydrate")]
    let add_files = move |files: Option<web_sys::FileList>| {
        let Some(files) = files else { return };
        let mut added = Vec::new();
        for i in 0..files.length() {
            let Some(file) = files.get(i) else { continue };
            let key = next_key.get_value();
            next_key.set_value(key + 1);
            let name = file.name();
            added.push(Item {
                key,
                size: file.size() as u64,
                title: RwSignal::new(default_title(&name)),
                name: StoredValue::new(name),
                file: StoredValue::new_local(Some(file)),
                description: RwSignal::new(String::new()),
                state: RwSignal::new(UploadState::Ready),
                notice: RwSignal::new(None),
                cancel: RwSignal::new(false),
            });
        }
        items.update(|list| list.extend(added));
    };
    #[cfg(not(feature = "hydrate"))]
    let add_files = move |_: Option<()>| {
        let _ = (next_key, default_title);
    };

    let on_pick = move |ev: leptos::ev::Event| {
        #[cfg(feature = "hydrate")]
        {
            use wasm_bindgen::JsCast;
            let input = ev
                .target()
                .and_then(|t| t.dyn_into::<web_sys::HtmlInputElement>().ok());
            add_files(input.as_ref().and_then(|i| i.files()));
            if let Some(input) = input {
                // Choosing the same file again (to resume after a reload) must fire `change` again.
                input.set_value("");
            }
        }
        #[cfg(not(feature = "hydrate"))]
        {
            let _ = ev;
            add_files(None);
        }
    };
    let on_drop = move |ev: leptos::ev::DragEvent| {
        ev.prevent_default();
        #[cfg(feature = "hydrate")]
        add_files(ev.data_transfer().and_then(|d| d.files()));
    };

    let start = move || {
        if running.get_untracked() {
            return;
        }
        let Some(key) = session.key.get_untracked() else {
            return;
        };
        running.set(true);
        // Pressing Upload again retries what failed for a passing reason; a failed file is not
        // retried on its own, or a dead network would loop forever.
        items.with_untracked(|list| {
            for item in list {
                if matches!(
                    item.state.get_untracked(),
                    UploadState::Failed {
                        retryable: true,
                        ..
                    }
                ) {
                    item.state.set(UploadState::Ready);
                }
            }
        });
        leptos::task::spawn_local(async move {
            // One file at a time: each already keeps several chunks in flight.
            loop {
                let next = items.with_untracked(|list| {
                    list.iter()
                        .copied()
                        .find(|item| matches!(item.state.get_untracked(), UploadState::Ready))
                });
                let Some(item) = next else { break };
                run_item(item, &key, live).await;
                notify_failure(notices, &item.state.get_untracked(), retry_action);
            }
            running.set(false);
        });
    };
    retry.set_value(Some(Callback::new(move |()| start())));

    let total = move || {
        items.with(|list| {
            list.iter().fold((0u64, 0u64), |(done, all), item| {
                let done_here = match item.state.get() {
                    UploadState::Sending(s) => s.bytes_done,
                    UploadState::Completing | UploadState::Done { .. } => item.size,
                    _ => 0,
                };
                (done + done_here, all + item.size)
            })
        })
    };

    view! {
        {move || match (session.auth.get(), session.library.get()) {
            (Auth::SignedIn(_), _) if session.unlocked() => ().into_any(),
            (Auth::Loading, _) | (Auth::SignedIn(_), Library::Loading) => {
                view! { <p class="muted">"Loading…"</p> }.into_any()
            }
            // After a reload the key is gone: unlock right here, then carry on (and resume).
            (Auth::SignedIn(_), Library::Locked(status)) => view! { <UnlockLibrary status/> }.into_any(),
            _ => view! {
                <section class="card narrow">
                    <h1>"Upload"</h1>
                    <p>"Sign in and unlock the library first: videos are encrypted with the library's keys before they leave your browser."</p>
                    <a class="button" href="/">"Go to the library"</a>
                </section>
            }
            .into_any(),
        }}
        <Show when=move || session.unlocked()>
            <h1>"Upload videos"</h1>
            <label
                class="dropzone"
                on:dragover=move |ev: leptos::ev::DragEvent| ev.prevent_default()
                on:drop=on_drop
            >
                <input type="file" multiple accept="video/*,.mkv,.mov,.mp4,.webm" on:change=on_pick data-testid="file-input"/>
                <span>"Choose videos, or drop them here. They are encrypted in this browser before they are sent."</span>
            </label>
            <Show when=move || !items.with(Vec::is_empty)>
                <div class="queue-summary" data-testid="queue-progress">
                    {move || {
                        let (done, all) = total();
                        let percent = if all == 0 { 100.0 } else { done as f64 / all as f64 * 100.0 };
                        view! {
                            <div class="progress"><div style=format!("width: {percent:.1}%")></div></div>
                            <span>{format!("All files: {} of {}", human_bytes(done), human_bytes(all))}</span>
                        }
                    }}
                </div>
                <ul class="upload-list">
                    <For each=move || items.get() key=|item| item.key let:item>
                        <UploadRow item/>
                    </For>
                </ul>
                <button class="button" on:click=move |_| start() disabled=move || running.get() data-testid="start-upload">
                    {move || if running.get() { "Uploading…" } else { "Upload" }}
                </button>
            </Show>
        </Show>
    }
}

/// The seed's upload messages as toasts too: the network failure with Retry, and storage low.
fn notify_failure(notices: Notices, state: &UploadState, retry: Callback<()>) {
    match state {
        UploadState::Failed {
            retryable: true, ..
        } => notices.push(
            Notice::new(
                "upload-failed",
                "upload-failed",
                Tone::Error,
                NETWORK_FAILURE,
            )
            .with(ToastAction::Button {
                label: "Retry",
                run: retry,
            }),
        ),
        UploadState::Failed { message, .. } if message == STORAGE_LOW => notices.push(Notice::new(
            "storage-low",
            "storage-low",
            Tone::Error,
            STORAGE_LOW,
        )),
        _ => {}
    }
}

#[cfg(feature = "hydrate")]
async fn run_item(item: Item, key: &cloister_shared::crypto::keys::LibraryKey, live: LiveJobs) {
    use crate::upload::engine::{self, Upload};
    let Some(file) = item.file.with_value(Clone::clone) else {
        return;
    };
    let title = item.title.get_untracked();
    let description = item.description.get_untracked();
    item.cancel.set(false);
    item.notice.set(None);
    let notice = move |text: String| item.notice.set(Some(text));
    let upload = Upload {
        file: &file,
        title: &title,
        description: &description,
        library_key: key,
        notice: &notice,
    };
    let end = engine::run(
        upload,
        move || item.cancel.get_untracked(),
        move |state| item.state.set(state),
    )
    .await;
    if let UploadState::Done {
        video_id,
        job_id,
        queue_position,
        ..
    } = &end
    {
        live.track_upload(*video_id, *job_id, *queue_position);
    }
    item.state.set(end);
}

#[cfg(not(feature = "hydrate"))]
async fn run_item(_item: Item, _key: &cloister_shared::crypto::keys::LibraryKey, _live: LiveJobs) {}

#[component]
fn UploadRow(item: Item) -> impl IntoView {
    let started = move || !matches!(item.state.get(), UploadState::Ready);
    let snapshot = move || match item.state.get() {
        UploadState::Sending(s) => Some(s),
        _ => None,
    };
    view! {
        <li class="upload-item" data-testid="upload-item">
            <div class="upload-head">
                <strong>{item.name.get_value()}</strong>
                <span class="muted">{human_bytes(item.size)}</span>
            </div>
            <label>
                "Title"
                <input prop:value=move || item.title.get() on:input=move |ev| item.title.set(event_target_value(&ev))
                    disabled=started maxlength="200"/>
            </label>
            <label>
                "Description"
                <textarea prop:value=move || item.description.get() on:input=move |ev| item.description.set(event_target_value(&ev))
                    disabled=started rows="2" maxlength="5000"></textarea>
            </label>
            <div class="progress" role="progressbar" aria-valuemin="0" aria-valuemax="100"
                aria-valuenow=move || format!("{:.0}", percent_of(&item)) data-testid="upload-progress">
                <div style=move || format!("width: {:.1}%", percent_of(&item))></div>
            </div>
            <p class="status-line" data-testid="upload-status" aria-live="polite">
                {move || status_text(&item.state.get(), snapshot())}
            </p>
            {move || item.notice.get().map(|text| view! {
                <p class="status-line" data-testid="upload-notice" role="status">{text}</p>
            })}
            {move || match item.state.get() {
                UploadState::Done { video_id, job_id, queue_position, note } => {
                    view! { <ProcessingBanner video=video_id job_id queue_position note/> }.into_any()
                }
                _ => ().into_any(),
            }}
            <Show when=move || item.active()>
                <button class="button secondary small" on:click=move |_| item.cancel.set(true)>"Cancel"</button>
            </Show>
        </li>
    }
}

fn percent_of(item: &Item) -> f64 {
    match item.state.get() {
        UploadState::Sending(s) => s.percent(),
        UploadState::Completing | UploadState::Done { .. } => 100.0,
        _ => 0.0,
    }
}

fn status_text(state: &UploadState, snapshot: Option<Snapshot>) -> String {
    match state {
        UploadState::Ready => "Ready to upload.".to_owned(),
        UploadState::Preparing => {
            "Encrypting the title and asking the server where to resume…".to_owned()
        }
        UploadState::Sending(_) => snapshot.map(|s| s.describe()).unwrap_or_default(),
        UploadState::Completing => {
            "Finishing: the server is storing the encrypted file…".to_owned()
        }
        UploadState::Done { .. } => "Uploaded.".to_owned(),
        UploadState::Failed {
            message,
            retryable: true,
        } => format!("{message} Press Upload to resume."),
        UploadState::Failed { message, .. } => message.clone(),
        UploadState::Cancelled => {
            "Cancelled. Nothing of this file is kept on the server.".to_owned()
        }
    }
}
