//! The Storage section: each account's quota use and bytes on disk, and housekeeping — what each
//! category of leftovers frees, with a Clean button (asked first).

use cloister_shared::api::admin::{
    CleanupCategory, CleanupKind, HousekeepingReport, StorageReport, TrashStorage,
};
use leptos::prelude::*;
use leptos::task::spawn_local;

use super::format::bytes;
use crate::api;
use crate::components::ErrorLine;

#[component]
pub fn StoragePanel() -> impl IntoView {
    let usage = RwSignal::new(None::<StorageReport>);
    let report = RwSignal::new(None::<HousekeepingReport>);
    let error = RwSignal::new(None::<String>);
    let notice = RwSignal::new(None::<String>);
    let asking = RwSignal::new(None::<CleanupKind>);
    // Kept here: the trash summary is drawn again with each new report.
    let emptied = RwSignal::new(None::<Result<String, String>>);
    let reload = move || async move {
        match (api::storage_report().await, api::housekeeping().await) {
            (Ok(u), Ok(h)) => {
                usage.try_set(Some(u));
                report.try_set(Some(h));
            }
            (Err(err), _) | (_, Err(err)) => {
                error.try_set(Some(err.message));
            }
        }
    };
    // Walking the data directory costs disk reads: once a minute is plenty.
    super::repeat(60_000, reload);
    let clean = move |kind: CleanupKind| {
        asking.set(None);
        error.set(None);
        spawn_local(async move {
            match api::clean(kind).await {
                Ok(done) => notice.set(Some(format!(
                    "{}: removed {} item(s), freed {}.",
                    kind.label(),
                    done.removed,
                    bytes(done.freed_bytes)
                ))),
                Err(err) => error.set(Some(err.message)),
            }
            reload().await;
        });
    };
    view! {
        <section class="card" data-testid="admin-storage">
            <h2>"Storage"</h2>
            <ErrorLine error/>
            {move || usage.get().map(|u| view! { <Usage report=u/> })}
            {move || usage.get().map(|u| view! { <TrashSummary trash=u.trash reload emptied/> })}
            <h3>"Housekeeping"</h3>
            {move || notice.get().map(|n| view! { <p class="success" role="status">{n}</p> })}
            {move || asking.get().map(|kind| view! {
                <div class="confirm-bar" role="group" aria-label="Confirm">
                    <span>{format!("Remove all {}? This cannot be undone.", kind.label().to_lowercase())}</span>
                    <button class="button danger small" on:click=move |_| clean(kind)>"Remove"</button>
                    <button class="button secondary small" on:click=move |_| asking.set(None)>"Keep"</button>
                </div>
            })}
            <table class="table reflow">
                <thead><tr><th>"What"</th><th>"Items"</th><th>"Frees"</th><th></th></tr></thead>
                <tbody>
                    {move || report.get().map(|r| r.categories.into_iter().map(|c| view! {
                        <Category category=c ask=move |kind| asking.set(Some(kind))/>
                    }).collect_view())}
                </tbody>
            </table>
        </section>
    }
}

#[component]
fn Usage(report: StorageReport) -> impl IntoView {
    let rows = report
        .users
        .into_iter()
        .map(|user| {
            let share = if user.quota_bytes == 0 {
                1.0
            } else {
                user.quota_used_bytes as f64 / user.quota_bytes as f64
            };
            let over = share >= 1.0;
            view! {
                <tr data-testid="storage-user">
                    <th scope="row" data-label="Member">{user.username}</th>
                    <td data-label="Videos">{user.videos}</td>
                    <td data-label="Quota used">
                        <div class="gauge small" class:over=over role="meter"
                            aria-label="Quota used" aria-valuemin="0" aria-valuemax="100"
                            aria-valuenow=format!("{:.0}", share * 100.0)>
                            <div class="gauge-fill" style=format!("width: {:.1}%", (share * 100.0).min(100.0))></div>
                        </div>
                        {format!("{} of {}", bytes(user.quota_used_bytes), bytes(user.quota_bytes))}
                    </td>
                    <td data-label="On disk">{bytes(user.stored_bytes)}</td>
                </tr>
            }
        })
        .collect_view();
    view! {
        <table class="table reflow">
            <thead><tr><th>"Member"</th><th>"Videos"</th><th>"Quota used"</th><th>"On disk"</th></tr></thead>
            <tbody>{rows}</tbody>
        </table>
        <p class="muted">
            "The quota counts each video's original size; on disk is what its encrypted files take. "
            {format!("Disk free: {}.", bytes(report.disk_free_bytes))}
        </p>
    }
}

#[component]
fn Category(
    category: CleanupCategory,
    ask: impl Fn(CleanupKind) + Copy + 'static,
) -> impl IntoView {
    let kind = category.kind;
    view! {
        <tr data-testid="cleanup" data-kind=kind.as_str()>
            <td class="reflow-head"><strong>{kind.label()}</strong><br/><span class="muted">{category.description}</span></td>
            <td data-label="Items" data-testid="cleanup-items">{category.items}</td>
            <td data-label="Frees" data-testid="cleanup-bytes">{bytes(category.bytes)}</td>
            <td class="row-actions-cell">
                <button class="button small secondary" disabled=category.items == 0
                    on:click=move |_| ask(kind)>"Clean"</button>
            </td>
        </tr>
    }
}

/// The trash, apart from the rest (its videos still count in each member's figures above until
/// purged), with "Empty trash" asked first.
#[component]
fn TrashSummary<F, Fut>(
    trash: TrashStorage,
    reload: F,
    emptied: RwSignal<Option<Result<String, String>>>,
) -> impl IntoView
where
    F: Fn() -> Fut + Copy + Send + Sync + 'static,
    Fut: std::future::Future<Output = ()> + 'static,
{
    let asking = RwSignal::new(false);
    let empty = move |_| {
        asking.set(false);
        emptied.set(None);
        spawn_local(async move {
            let outcome = api::empty_trash()
                .await
                .map(|purged| {
                    format!(
                        "Emptied the trash: {} video{} deleted for good.",
                        purged.purged,
                        if purged.purged == 1 { "" } else { "s" }
                    )
                })
                .map_err(|err| err.message);
            emptied.try_set(Some(outcome));
            reload().await;
        });
    };
    let summary = if trash.videos == 0 {
        "The trash is empty.".to_owned()
    } else {
        format!(
            "{} video{} in the trash: {} of quota, {} on disk. They count in the figures above until they are deleted for good.",
            trash.videos,
            if trash.videos == 1 { "" } else { "s" },
            bytes(trash.quota_bytes),
            bytes(trash.stored_bytes)
        )
    };
    view! {
        <div class="trash-summary" data-testid="storage-trash"
            data-videos=trash.videos.to_string() data-bytes=trash.stored_bytes.to_string()>
            <h3>"Trash"</h3>
            {move || emptied.get().map(|outcome| match outcome {
                Ok(n) => view! { <p class="success" role="status">{n}</p> }.into_any(),
                Err(e) => view! { <p class="error" role="alert">{e}</p> }.into_any(),
            })}
            <p>{summary}" "<a href="/trash">"Open the trash"</a></p>
            <Show
                when=move || asking.get()
                fallback=move || view! {
                    <button class="button secondary" data-testid="empty-trash"
                        disabled=trash.videos == 0 on:click=move |_| asking.set(true)>"Empty trash"</button>
                }
            >
                <div class="confirm-bar" role="group" aria-label="Confirm emptying the trash">
                    <span>"Delete every video in the trash for good? This cannot be undone."</span>
                    <button class="button danger" data-testid="confirm-empty-trash" on:click=empty>"Empty trash"</button>
                    <button class="button secondary" on:click=move |_| asking.set(false)>"Keep"</button>
                </div>
            </Show>
        </div>
    }
}
