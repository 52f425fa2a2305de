//! Writing a comment: sealed here with the video's DEK, shown at once, then kept or taken back
//! by the server's answer.

use cloister_shared::api::comments::MAX_COMMENT_CHARS;
use cloister_shared::api::NewComment;
use cloister_shared::{CommentId, Dek, VideoId};
use leptos::prelude::*;
use leptos::task::spawn_local;

use super::thread::{char_count, postable, seal_body, Entry, Thread};
use crate::api;

#[component]
pub fn CommentForm(
    video_id: VideoId,
    dek: StoredValue<Dek>,
    thread: RwSignal<Thread>,
    /// The signed-in member, shown as the author until the server answers.
    author: String,
) -> impl IntoView {
    let text = RwSignal::new(String::new());
    let posting = RwSignal::new(false);
    let error = RwSignal::new(None::<String>);
    let author = StoredValue::new(author);
    let count = Memo::new(move |_| text.with(|t| char_count(t)));
    let too_long = move || count.get() > MAX_COMMENT_CHARS;
    let can_post = move || !posting.get() && text.with(|t| postable(t).is_some());

    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let Some(body) = text.with_untracked(|t| postable(t).map(str::to_owned)) else {
            return;
        };
        let sealed = CommentId::random().and_then(|id| {
            dek.with_value(|dek| seal_body(dek, &video_id, &id, &body))
                .map(|sealed| (id, sealed))
        });
        let Ok((id, body_sealed)) = sealed else {
            error.set(Some(
                "The comment could not be encrypted in this browser. Reload the page and try again."
                    .to_owned(),
            ));
            return;
        };
        let mine = Entry::pending(id, author.get_value(), now_seconds(), body.clone());
        thread.update(|t| t.add_posted(mine));
        text.set(String::new());
        error.set(None);
        posting.set(true);
        spawn_local(async move {
            let comment = NewComment {
                comment_id: id,
                body_sealed,
            };
            match api::post_comment(&video_id, &comment).await {
                Ok(stored) => {
                    thread.try_update(|t| t.confirm(&id, stored.created_at, stored.can_delete));
                }
                Err(err) => {
                    thread.try_update(|t| t.remove(&id));
                    // The text comes back to the box, unless a new one was started meanwhile.
                    text.try_update(|t| {
                        if t.is_empty() {
                            *t = body;
                        }
                    });
                    error.try_set(Some(format!(
                        "Your comment was not posted: {}",
                        err.message
                    )));
                }
            }
            posting.try_set(false);
        });
    };

    view! {
        <form class="comment-form" on:submit=submit data-testid="comment-form">
            <label for="comment-text">"Add a comment"</label>
            <textarea id="comment-text" rows="3" data-testid="comment-text"
                prop:value=move || text.get()
                on:input=move |ev| text.set(event_target_value(&ev))></textarea>
            <div class="comment-form-foot">
                <span class="comment-counter" class:over=too_long
                    data-testid="comment-counter" aria-live="polite">
                    {move || format!("{} / {MAX_COMMENT_CHARS}", count.get())}
                </span>
                <button type="submit" class="button" data-testid="post-comment"
                    disabled=move || !can_post()>
                    {move || if posting.get() { "Posting…" } else { "Post comment" }}
                </button>
            </div>
            <Show when=too_long>
                <p class="error" data-testid="comment-too-long">
                    {move || format!(
                        "A comment may have at most {MAX_COMMENT_CHARS} characters; this one has {}.",
                        count.get()
                    )}
                </p>
            </Show>
            <Show when=move || error.with(Option::is_some)>
                <p class="error" role="alert" data-testid="comment-error">
                    {move || error.get().unwrap_or_default()}
                </p>
            </Show>
        </form>
    }
}

/// The browser's clock, for a comment the server has not dated yet.
fn now_seconds() -> i64 {
    #[cfg(feature = "hydrate")]
    {
        (js_sys::Date::now() / 1000.0) as i64
    }
    #[cfg(not(feature = "hydrate"))]
    0
}
