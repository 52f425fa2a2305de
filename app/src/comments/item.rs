//! One comment: author, date, the decrypted text, and Delete (asks first) for its author or an
//! admin.

use cloister_shared::api::utc_date;
use cloister_shared::VideoId;
use leptos::prelude::*;
use leptos::task::spawn_local;

use super::thread::{Entry, Thread};
use crate::api;

#[component]
pub fn CommentItem(entry: Entry, video_id: VideoId, thread: RwSignal<Thread>) -> impl IntoView {
    let id = entry.id;
    let confirming = RwSignal::new(false);
    let deleting = RwSignal::new(false);
    let error = RwSignal::new(None::<String>);
    let delete = move |_| {
        deleting.set(true);
        error.set(None);
        spawn_local(async move {
            match api::delete_comment(&video_id, &id).await {
                // Already gone (deleted elsewhere) is what was asked for.
                Ok(()) => {
                    thread.try_update(|t| t.remove(&id));
                }
                Err(err) if err.status == 404 => {
                    thread.try_update(|t| t.remove(&id));
                }
                Err(err) => {
                    error.try_set(Some(format!(
                        "The comment was not deleted: {}",
                        err.message
                    )));
                    confirming.try_set(false);
                }
            }
            deleting.try_set(false);
        });
    };
    let body = match entry.text {
        Some(text) => {
            view! { <p class="comment-body" data-testid="comment-body">{text}</p> }.into_any()
        }
        None => view! {
            <p class="comment-body undecryptable" data-testid="comment-body">
                "Cannot decrypt this comment"
            </p>
        }
        .into_any(),
    };
    let controls = (entry.can_delete && !entry.pending).then(|| {
        view! {
            <div class="comment-controls">
                <Show
                    when=move || confirming.get()
                    fallback=move || view! {
                        <button class="button secondary small" data-testid="delete-comment"
                            on:click=move |_| confirming.set(true)>"Delete"</button>
                    }
                >
                    <span class="confirm" role="group" aria-label="Confirm deleting the comment">
                        "Delete this comment?"
                        <button class="button danger small" data-testid="confirm-delete-comment"
                            on:click=delete disabled=move || deleting.get()>
                            {move || if deleting.get() { "Deleting…" } else { "Delete" }}
                        </button>
                        <button class="button secondary small" on:click=move |_| confirming.set(false)>
                            "Keep"
                        </button>
                    </span>
                </Show>
                <Show when=move || error.with(Option::is_some)>
                    <p class="error" role="alert">{move || error.get().unwrap_or_default()}</p>
                </Show>
            </div>
        }
    });
    view! {
        <li class="comment" class:pending=entry.pending data-testid="comment"
            data-comment-id=id.to_string() data-pending=entry.pending.to_string()>
            <p class="comment-meta">
                <span class="comment-author" data-testid="comment-author">{entry.author}</span>
                " · "
                <span data-testid="comment-date">{utc_date(entry.created_at)}</span>
                {entry.pending.then_some(" · Posting…")}
            </p>
            {body}
            {controls}
        </li>
    }
}
