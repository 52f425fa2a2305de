//! `/trash` (docs/decisions.md, "Delete, trash, restore"): the videos a member deleted (an admin:
//! everyone's), titles decrypted here, who deleted each and how many days it has left, with
//! Restore and "Delete for good" (asked first). Live: another tab's delete or restore shows here.

use cloister_shared::api::trash::{days_left, TrashList, TrashedVideo};
use cloister_shared::api::{utc_date, Role};
use cloister_shared::VideoId;
use leptos::prelude::*;
use leptos::task::spawn_local;

use crate::api;
use crate::components::{ErrorLine, KeysGate};
use crate::live::LiveJobs;
use crate::return_to::login_href;
use crate::session::{Auth, KeyStep, Session};
use crate::upload::progress::human_bytes;

#[component]
pub fn TrashPage() -> impl IntoView {
    let session = Session::get();
    move || {
        match (session.auth.get(), session.step.get()) {
        (Auth::SignedIn(me), KeyStep::Open) => {
            view! { <TrashList is_admin=me.role == Role::Admin/> }.into_any()
        }
        (Auth::SignedIn(_), _) => view! {
            <section class="trash-page">
                <h1>"Trash"</h1>
                <KeysGate/>
            </section>
        }
        .into_any(),
        (Auth::SignedOut, _) => view! {
            <section class="card narrow">
                <h1>"Trash"</h1>
                <p><a href=login_href("/trash", "")>"Sign in"</a>" to see the videos you deleted."</p>
            </section>
        }
        .into_any(),
        (Auth::Unknown(message), _) => {
            view! { <p class="error" role="alert">{message}</p> }.into_any()
        }
        _ => view! { <p class="muted">"Loading…"</p> }.into_any(),
    }
    }
}

/// A trashed video as the page shows it.
#[derive(Clone)]
struct Row {
    id: VideoId,
    title: Option<String>,
    owner: String,
    deleted_by: Option<String>,
    deleted_on: String,
    days_left: i64,
    size: String,
}

fn rows(list: TrashList, session: Session) -> Vec<Row> {
    let now = (js_now_ms() / 1000.0) as i64;
    list.videos
        .into_iter()
        .map(|video: TrashedVideo| Row {
            id: video.video.video_id,
            title: session
                .key
                .with_untracked(|key| key.as_ref().and_then(|key| video.video.open_title(key))),
            owner: video.video.owner.clone(),
            deleted_by: video.trashed_by,
            deleted_on: utc_date(video.trashed_at),
            days_left: days_left(video.purge_at, now),
            size: human_bytes(video.video.size_bytes),
        })
        .collect()
}

fn js_now_ms() -> f64 {
    #[cfg(feature = "hydrate")]
    {
        js_sys::Date::now()
    }
    #[cfg(not(feature = "hydrate"))]
    {
        0.0
    }
}

#[component]
fn TrashList(is_admin: bool) -> impl IntoView {
    let session = Session::get();
    let live = LiveJobs::get();
    let list = RwSignal::new(None::<Vec<Row>>);
    let retention = RwSignal::new(None::<u32>);
    let error = RwSignal::new(None::<String>);
    let notice = RwSignal::new(None::<String>);
    let asking = RwSignal::new(None::<VideoId>);
    let reload = move || {
        spawn_local(async move {
            match api::trash_list().await {
                Ok(trash) => {
                    retention.try_set(Some(trash.retention_days));
                    list.try_set(Some(rows(trash, session)));
                }
                Err(err) => {
                    error.try_set(Some(err.message));
                }
            }
        })
    };
    // Now, and whenever a video is deleted, restored or purged anywhere.
    Effect::new(move |_| {
        live.library_changed.track();
        reload();
    });
    let restore = move |id: VideoId, title: String| {
        error.set(None);
        spawn_local(async move {
            match api::restore_video(id).await {
                Ok(_) => {
                    notice.try_set(Some(format!("{title} is back in the library.")));
                    reload();
                }
                Err(err) => {
                    error.try_set(Some(err.message));
                }
            }
        });
    };
    let purge = move |id: VideoId, title: String| {
        asking.set(None);
        error.set(None);
        spawn_local(async move {
            match api::purge_video(id).await {
                Ok(()) => {
                    notice.try_set(Some(format!("{title} was deleted for good.")));
                    reload();
                }
                Err(err) => {
                    error.try_set(Some(err.message));
                }
            }
        });
    };
    let intro = move || {
        let days = retention
            .get()
            .map_or_else(String::new, |d| format!(" for {d} days"));
        if is_admin {
            format!("Deleted videos of every member stay here{days}, then go for good. They still count in each member's storage until then.")
        } else {
            format!("Videos you deleted stay here{days}, then go for good. They still count in your storage until then.")
        }
    };
    view! {
        <section class="trash-page" data-testid="trash-page">
            <h1>"Trash"</h1>
            <p class="muted">{intro}</p>
            <ErrorLine error/>
            {move || notice.get().map(|n| view! { <p class="success" role="status" data-testid="trash-notice">{n}</p> })}
            {move || match list.get() {
                None => view! { <p class="muted">"Loading the trash…"</p> }.into_any(),
                Some(rows) if rows.is_empty() => view! {
                    <p class="trash-empty" data-testid="trash-empty">"The trash is empty."</p>
                }
                .into_any(),
                Some(rows) => view! {
                    <ul class="trash-list">
                        {rows.into_iter().map(|row| view! {
                            <TrashItem row is_admin asking restore purge/>
                        }).collect_view()}
                    </ul>
                }
                .into_any(),
            }}
        </section>
    }
}

#[component]
fn TrashItem(
    row: Row,
    is_admin: bool,
    asking: RwSignal<Option<VideoId>>,
    restore: impl Fn(VideoId, String) + Copy + Send + Sync + 'static,
    purge: impl Fn(VideoId, String) + Copy + Send + Sync + 'static,
) -> impl IntoView {
    let id = row.id;
    let named = row
        .title
        .clone()
        .map_or_else(|| "This video".to_owned(), |t| format!("“{t}”"));
    let shown_title = match row.title.clone() {
        Some(title) => view! { <h2 class="trash-title">{title}</h2> }.into_any(),
        None => {
            view! { <h2 class="trash-title undecryptable">"Title does not decrypt"</h2> }.into_any()
        }
    };
    let who = match (&row.deleted_by, is_admin) {
        (Some(by), true) => format!(
            "{}'s video, deleted by {by} on {}",
            row.owner, row.deleted_on
        ),
        (Some(by), false) => format!("Deleted by {by} on {}", row.deleted_on),
        (None, true) => format!("{}'s video, deleted on {}", row.owner, row.deleted_on),
        (None, false) => format!("Deleted on {}", row.deleted_on),
    };
    let left = match row.days_left {
        0 => "Goes for good today".to_owned(),
        1 => "1 day left".to_owned(),
        n => format!("{n} days left"),
    };
    let (restore_name, purge_name, question_name) = (named.clone(), named.clone(), named);
    view! {
        <li class="trash-item card" data-testid="trash-item" data-video-id=id.to_string()>
            {shown_title}
            <p class="muted trash-facts">
                <span>{who}</span>" · "<span data-testid="trash-days-left">{left}</span>" · "<span>{row.size}</span>
            </p>
            <Show
                when=move || asking.get() == Some(id)
                fallback=move || {
                    let (restore_name, ask_purge) = (restore_name.clone(), move |_| asking.set(Some(id)));
                    view! {
                        <div class="trash-actions">
                            <button class="button" data-testid="restore-video"
                                on:click=move |_| restore(id, restore_name.clone())>"Restore"</button>
                            <button class="button secondary" data-testid="purge-video"
                                on:click=ask_purge>"Delete for good"</button>
                        </div>
                    }
                }
            >
                {
                    let (purge_name, question_name) = (purge_name.clone(), question_name.clone());
                    view! {
                        <div class="confirm-bar" role="group" aria-label="Confirm deleting for good">
                            <span>{format!("Delete {question_name} for good? This cannot be undone.")}</span>
                            <button class="button danger" data-testid="confirm-purge-video"
                                on:click=move |_| purge(id, purge_name.clone())>"Delete for good"</button>
                            <button class="button secondary" on:click=move |_| asking.set(None)>"Keep"</button>
                        </div>
                    }
                }
            </Show>
        </li>
    }
}
