use leptos::prelude::*;
use leptos_router::hooks::use_query_map;

use crate::components::KeysGate;
use crate::live::LiveJobs;
use crate::notify::{Notice, Notices, ToastAction, Tone};
use crate::pages::processing_banner::ProcessingBanner;
use crate::session::{Auth, KeyStep, Session};
use crate::upload::check::{Check, EMPTY_FILE};
use crate::upload::progress::{human_bytes, Snapshot};
use crate::upload::unfinished::{self, Unfinished};
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
    /// The file's `lastModified` (ms): remembered to check a re-chosen file is the same one.
    #[cfg_attr(not(feature = "hydrate"), allow(dead_code))]
    modified: u64,
    /// Where the service worker keeps it, for a video shared from the share sheet.
    shared: StoredValue<Option<String>>,
    #[cfg_attr(not(feature = "hydrate"), allow(dead_code))]
    file: StoredValue<Option<BrowserFile>, LocalStorage>,
    title: RwSignal<String>,
    description: RwSignal<String>,
    state: RwSignal<UploadState>,
    /// What the checks before sending found (empty, not a video, a duplicate).
    check: RwSignal<Check>,
    /// Said once during the upload, e.g. that an unfinished upload was started over.
    notice: RwSignal<Option<String>>,
    cancel: RwSignal<bool>,
}

impl Item {
    #[cfg(feature = "hydrate")]
    fn new(key: u32, file: web_sys::File, shared: Option<String>) -> Self {
        let name = file.name();
        let size = file.size() as u64;
        Item {
            key,
            size,
            check: RwSignal::new(if size == 0 {
                Check::Empty
            } else {
                Check::Checking
            }),
            modified: file.last_modified().max(0.0) as u64,
            shared: StoredValue::new(shared),
            title: RwSignal::new(default_title(&name)),
            name: StoredValue::new(name),
            file: StoredValue::new_local(Some(file)),
            description: RwSignal::new(String::new()),
            state: RwSignal::new(UploadState::Ready),
            notice: RwSignal::new(None),
            cancel: RwSignal::new(false),
        }
    }

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
    // Items and resume cards are made in event handlers and tasks (a card's button, the look for
    // unfinished uploads): their signals must belong to the page, not to the card that goes away.
    #[cfg(feature = "hydrate")]
    let page_owner = StoredValue::new_local(Owner::current());
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
    // `resuming`: the file carries on an upload this member already started, so it was checked
    // and decided on then; anything else is checked now.
    let add_file = move |file: web_sys::File, shared: Option<String>, resuming: bool| {
        let key = next_key.get_value();
        next_key.set_value(key + 1);
        let item = match page_owner.get_value() {
            Some(owner) => owner.with(|| Item::new(key, file, shared)),
            None => Item::new(key, file, shared),
        };
        if resuming {
            item.check.set(Check::Clear);
        }
        items.update(|list| list.push(item));
        // Checked at once, before anything is sent (docs/uploads.md, "Before sending").
        if item.check.get_untracked() == Check::Checking {
            let (Some(key), Auth::SignedIn(me)) =
                (session.key.get_untracked(), session.auth.get_untracked())
            else {
                item.check.set(Check::Clear);
                return;
            };
            if let Some(file) = item.file.with_value(Clone::clone) {
                leptos::task::spawn_local(async move {
                    let found = crate::upload::check::check_file(&file, &key, &me.username).await;
                    item.check.try_set(found);
                });
            }
        }
    };
    #[cfg(feature = "hydrate")]
    let add_files = move |files: Option<web_sys::FileList>| {
        let Some(files) = files else { return };
        for i in 0..files.length() {
            if let Some(file) = files.get(i) {
                add_file(file, None, false);
            }
        }
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

    let unfinished_cards = RwSignal::new(Vec::<ResumeCard>::new());
    let start = move || {
        if running.get_untracked() {
            return;
        }
        let Some(key) = session.key.get_untracked() else {
            return;
        };
        let user = match session.auth.get_untracked() {
            Auth::SignedIn(me) => me.username,
            _ => return,
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
                // A file still being checked (chosen a moment ago, or to resume) is waited for;
                // one refused or waiting for the member's answer is left as it is.
                let next = items.with_untracked(|list| {
                    list.iter().copied().find(|item| {
                        matches!(item.state.get_untracked(), UploadState::Ready)
                            && item
                                .check
                                .with_untracked(|c| c.may_send() || *c == Check::Checking)
                    })
                });
                let Some(item) = next else { break };
                if item.check.get_untracked() == Check::Checking {
                    crate::browser::sleep_ms(100).await;
                    continue;
                }
                run_item(item, &key, &user, live, unfinished_cards).await;
                notify_failure(notices, &item.state.get_untracked(), retry_action);
            }
            running.set(false);
        });
    };
    retry.set_value(Some(Callback::new(move |()| start())));

    // The screen stays on and leaving asks first while anything is being sent.
    crate::pwa::hold_while_busy(running.into());

    // Coming back: unfinished uploads of this browser, and videos shared from the share sheet.
    let looked = StoredValue::new(false);
    Effect::new(move |_| {
        let Auth::SignedIn(me) = session.auth.get() else {
            return;
        };
        if !session.unlocked() || looked.get_value() {
            return;
        }
        looked.set_value(true);
        #[cfg(feature = "hydrate")]
        leptos::task::spawn_local(async move {
            let (found, shared) = look_for_unfinished(&me.username).await;
            let cards = found
                .into_iter()
                .enumerate()
                .map(|(at, (record, held, file))| {
                    let card = move || ResumeCard {
                        key: at as u32,
                        record,
                        held,
                        file: StoredValue::new_local(file),
                        problem: RwSignal::new(None),
                    };
                    match page_owner.get_value() {
                        Some(owner) => owner.with(card),
                        None => card(),
                    }
                })
                .collect();
            unfinished_cards.set(cards);
            for waiting in shared {
                add_file(waiting.file, Some(waiting.key), false);
            }
        });
        #[cfg(not(feature = "hydrate"))]
        let _ = (me, unfinished_cards);
    });
    // A card's one button: the file goes into the list and the upload starts (it resumes: the
    // engine finds the server's record by the file's fingerprint).
    let resume = Callback::new(move |(card_key, file): (u32, ResumeFile)| {
        let Some(card) = unfinished_cards
            .with_untracked(|cards| cards.iter().find(|c| c.key == card_key).cloned())
        else {
            return;
        };
        unfinished_cards.update(|cards| cards.retain(|c| c.key != card_key));
        #[cfg(feature = "hydrate")]
        {
            add_file(file, card.record.shared.clone(), true);
            start();
        }
        #[cfg(not(feature = "hydrate"))]
        let _ = (file, card);
    });
    let discard = Callback::new(move |card_key: u32| {
        let Some(card) = unfinished_cards
            .with_untracked(|cards| cards.iter().find(|c| c.key == card_key).cloned())
        else {
            return;
        };
        unfinished_cards.update(|cards| cards.retain(|c| c.key != card_key));
        leptos::task::spawn_local(async move {
            let _ = crate::api::abort_upload(&card.record.video_id).await;
            forget_upload(&card.record.video_id, card.record.shared.as_deref()).await;
        });
    });
    let remove_item = Callback::new(move |key: u32| {
        let mut removed = None;
        items.update(|list| {
            if let Some(at) = list.iter().position(|i| i.key == key) {
                removed = Some(list.remove(at));
            }
        });
        if let Some(shared) = removed.and_then(|item| item.shared.get_value()) {
            leptos::task::spawn_local(async move { forget_shared(&shared).await });
        }
    });
    let query = use_query_map();
    let shared_message = move || {
        query
            .with(|q| q.get("shared"))
            .and_then(|code| shared_problem(&code))
    };

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
        {move || match (session.auth.get(), session.step.get()) {
            (Auth::SignedIn(_), KeyStep::Open) => ().into_any(),
            (Auth::Loading, _) => view! { <p class="muted">"Loading…"</p> }.into_any(),
            // After a reload the key is gone: unlock right here, then carry on (and resume).
            (Auth::SignedIn(_), _) => view! { <KeysGate/> }.into_any(),
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
            {move || shared_message().map(|text| view! {
                <p class="card" role="status" data-testid="shared-message">{text}</p>
            })}
            <Show when=move || !unfinished_cards.with(Vec::is_empty)>
                <ul class="upload-list" data-testid="unfinished-uploads">
                    <For each=move || unfinished_cards.get() key=|card| card.key let:card>
                        <ResumeCardView card resume discard/>
                    </For>
                </ul>
            </Show>
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
                        <UploadRow item remove=remove_item/>
                    </For>
                </ul>
                <button class="button" on:click=move |_| start() data-testid="start-upload"
                    disabled=move || running.get() || items.with(|list| list.iter().any(|i| i.check.get() == Check::Checking))>
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
async fn run_item(
    item: Item,
    key: &crate::keyring::Unlocked,
    user: &str,
    live: LiveJobs,
    cards: RwSignal<Vec<ResumeCard>>,
) {
    use crate::upload::engine::{self, Upload};
    let Some(file) = item.file.with_value(Clone::clone) else {
        return;
    };
    let title = item.title.get_untracked();
    let description = item.description.get_untracked();
    item.cancel.set(false);
    item.notice.set(None);
    let notice = move |text: String| item.notice.set(Some(text));
    let video = std::cell::RefCell::new(None::<String>);
    let started = |id: &cloister_shared::VideoId| {
        video.replace(Some(id.to_string()));
        // This file is under way again: its card (if it had one) has done its job.
        let (name, size, modified) = (item.name.get_value(), item.size, item.modified);
        cards.update(|cards| cards.retain(|card| !card.record.matches(&name, size, modified)));
        unfinished::remember(Unfinished {
            user: user.to_owned(),
            video_id: id.to_string(),
            name: item.name.get_value(),
            size: item.size,
            modified: item.modified,
            shared: item.shared.get_value(),
        });
    };
    let upload = Upload {
        file: &file,
        title: &title,
        description: &description,
        keys: key,
        notice: &notice,
        started: &started,
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
    // Finished or cancelled: nothing is left to resume, and a shared copy is no longer needed.
    if matches!(end, UploadState::Done { .. } | UploadState::Cancelled) {
        if let Some(id) = video.take() {
            forget_upload(&id, item.shared.get_value().as_deref()).await;
        } else if let Some(shared) = item.shared.get_value() {
            forget_shared(&shared).await;
        }
    }
    item.state.set(end);
}

#[cfg(not(feature = "hydrate"))]
async fn run_item(
    _item: Item,
    _key: &crate::keyring::Unlocked,
    _user: &str,
    _live: LiveJobs,
    _cards: RwSignal<Vec<ResumeCard>>,
) {
}

/// The browser forgets an upload: its record here and, for a shared video, the kept copy.
async fn forget_upload(video_id: &str, shared: Option<&str>) {
    unfinished::forget(video_id);
    if let Some(shared) = shared {
        forget_shared(shared).await;
    }
}

async fn forget_shared(key: &str) {
    #[cfg(feature = "hydrate")]
    crate::pwa::shared::forget(key).await;
    #[cfg(not(feature = "hydrate"))]
    let _ = key;
}

/// What the Upload page says when a share from the share sheet did not arrive (`?shared=`); a
/// batch id (the share arrived) says nothing: the videos are in the list.
fn shared_problem(code: &str) -> Option<&'static str> {
    match code {
        "unavailable" => Some(
            "The shared video did not reach Cloister: this browser had not finished setting Cloister up. \
             Share it again, or choose it below.",
        ),
        "failed" => Some(
            "The shared video could not be kept in this browser (it may be short of space). Choose it below instead.",
        ),
        "none" => Some("Nothing that could be uploaded was shared: only videos can be shared to Cloister."),
        _ => None,
    }
}

type ResumeFile = BrowserFile;

/// An upload this browser started and did not finish, as found when coming back.
#[derive(Clone)]
struct ResumeCard {
    key: u32,
    record: Unfinished,
    /// Chunks the server holds and the chunk count, when the server could be asked.
    held: Option<(u64, u64)>,
    /// The shared video, still in this browser; `None`: the member must choose the file again.
    file: StoredValue<Option<BrowserFile>, LocalStorage>,
    problem: RwSignal<Option<String>>,
}

/// An unfinished upload as found: the record, chunks held and chunk count, the shared file if kept.
#[cfg(feature = "hydrate")]
type FoundUnfinished = (Unfinished, Option<(u64, u64)>, Option<web_sys::File>);

/// The member's unfinished uploads that the server still holds (others are forgotten), and the
/// shared videos waiting that no unfinished upload covers.
#[cfg(feature = "hydrate")]
async fn look_for_unfinished(
    user: &str,
) -> (Vec<FoundUnfinished>, Vec<crate::pwa::shared::SharedFile>) {
    use cloister_shared::api::VideoStatus;
    let mut shared = crate::pwa::shared::waiting().await;
    let mut cards = Vec::new();
    for record in unfinished::of(user) {
        let held = match crate::api::upload_state(&record.video_id).await {
            Ok(Some(state)) if state.status == VideoStatus::Uploading => {
                Some((state.received.len() as u64, state.chunk_count))
            }
            // Finished (perhaps from another tab), cancelled or swept: nothing to resume.
            Ok(_) => {
                forget_upload(&record.video_id, record.shared.as_deref()).await;
                continue;
            }
            Err(_) => None,
        };
        let file = record
            .shared
            .as_ref()
            .and_then(|key| shared.iter().position(|s| &s.key == key))
            .map(|at| shared.remove(at).file);
        cards.push((record, held, file));
    }
    (cards, shared)
}

/// One unfinished upload and its one button: Resume when the browser still has the file (a shared
/// video), else "Choose … to resume", which checks the chosen file is the same one first.
#[component]
fn ResumeCardView(
    card: ResumeCard,
    resume: Callback<(u32, ResumeFile)>,
    discard: Callback<u32>,
) -> impl IntoView {
    let record = card.record.clone();
    let has_file = card.file.with_value(Option::is_some);
    let progress = match card.held {
        Some((held, total)) => format!("{held} of {total} parts are on the server."),
        None => "The server could not be asked how far it got.".to_owned(),
    };
    let key = card.key;
    let problem = card.problem;
    let file = card.file;
    let on_resume = move |_| {
        if let Some(file) = file.with_value(Clone::clone) {
            resume.run((key, file));
        }
    };
    let expected = record.clone();
    let on_pick = move |ev: leptos::ev::Event| {
        #[cfg(feature = "hydrate")]
        {
            use wasm_bindgen::JsCast;
            let input = ev
                .target()
                .and_then(|t| t.dyn_into::<web_sys::HtmlInputElement>().ok());
            let picked = input
                .as_ref()
                .and_then(|i| i.files())
                .and_then(|f| f.get(0));
            if let Some(input) = input {
                input.set_value("");
            }
            let Some(picked) = picked else { return };
            let modified = picked.last_modified().max(0.0) as u64;
            if expected.matches(&picked.name(), picked.size() as u64, modified) {
                problem.set(None);
                resume.run((key, picked));
            } else {
                problem.set(Some(format!(
                    "That is not the same file: this upload is “{}” ({}), unchanged since the upload began. Choose that file.",
                    expected.name,
                    human_bytes(expected.size)
                )));
            }
        }
        #[cfg(not(feature = "hydrate"))]
        let _ = (ev, &expected, problem);
    };
    let name = record.name.clone();
    view! {
        <li class="upload-item" data-testid="unfinished-upload">
            <div class="upload-head">
                <strong>{record.name.clone()}</strong>
                <span class="muted">{human_bytes(record.size)}</span>
            </div>
            <p class="status-line">{format!("Not finished. {progress}")}</p>
            {if has_file {
                view! {
                    <button class="button" on:click=on_resume data-testid="resume-upload">"Resume upload"</button>
                }.into_any()
            } else {
                view! {
                    <p class="status-line">
                        "This browser cannot reopen the file by itself: choose the same file again and the upload carries on where it stopped."
                    </p>
                    <label class="button" data-testid="resume-upload">
                        {format!("Choose “{name}” to resume")}
                        <input type="file" accept="video/*,.mkv,.mov,.mp4,.webm" class="visually-hidden"
                            on:change=on_pick data-testid="resume-file-input"/>
                    </label>
                }.into_any()
            }}
            {move || problem.get().map(|text| view! {
                <p class="status-line" role="alert" data-testid="resume-problem">{text}</p>
            })}
            <button class="button secondary small" on:click=move |_| discard.run(key)>"Discard"</button>
        </li>
    }
}

/// What the checks before sending found, and the member's answer: "Upload anyway", or leave the
/// file out ("Skip" for a duplicate, "Remove" otherwise).
#[component]
fn CheckNotice(item: Item, remove: Callback<u32>) -> impl IntoView {
    move || match item.check.get() {
        Check::Warn {
            not_video,
            duplicate,
        } => {
            let leave_out = if duplicate.is_some() {
                "Skip"
            } else {
                "Remove"
            };
            view! {
                <div class="upload-warning" role="alert">
                    {not_video.map(|text| view! { <p data-testid="not-video-warning">{text}</p> })}
                    {duplicate.map(|text| view! { <p data-testid="duplicate-warning">{text}</p> })}
                    <div class="upload-warning-buttons">
                        <button class="button secondary small" data-testid="skip-file"
                            on:click=move |_| remove.run(item.key)>{leave_out}</button>
                        <button class="button small" data-testid="upload-anyway"
                            on:click=move |_| item.check.set(Check::Clear)>"Upload anyway"</button>
                    </div>
                </div>
            }
            .into_any()
        }
        _ => ().into_any(),
    }
}

#[component]
fn UploadRow(item: Item, remove: Callback<u32>) -> impl IntoView {
    if item.check.get_untracked() == Check::Empty {
        return view! {
            <li class="upload-item" data-testid="upload-item">
                <div class="upload-head">
                    <strong>{item.name.get_value()}</strong>
                    <span class="muted">{human_bytes(item.size)}</span>
                </div>
                <p class="status-line error" role="alert" data-testid="upload-refused">{EMPTY_FILE}</p>
                <button class="button secondary small" data-testid="remove-file"
                    on:click=move |_| remove.run(item.key)>"Remove"</button>
            </li>
        }
        .into_any();
    }
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
            <CheckNotice item remove/>
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
                {move || match (item.state.get(), item.check.get()) {
                    (UploadState::Ready, Check::Checking) => "Checking the file…".to_owned(),
                    (UploadState::Ready, Check::Warn { .. }) => {
                        "Waiting for your answer above: this file is not sent until you choose.".to_owned()
                    }
                    (state, _) => status_text(&state, snapshot()),
                }}
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
            <Show when=move || {
                matches!(item.state.get(), UploadState::Ready) && !matches!(item.check.get(), Check::Warn { .. })
            }>
                <button class="button secondary small" data-testid="remove-file"
                    on:click=move |_| remove.run(item.key)>"Remove"</button>
            </Show>
        </li>
    }
    .into_any()
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
