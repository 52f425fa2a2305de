//! Edit: the owner (or an admin) changes the title and description of an open video. The new
//! text is sealed here under the video's key with a fresh salt (docs/format.md), sent with
//! `PATCH /api/videos/{id}`, and every open tab hears of it (`VideoEdited`).

use std::sync::Arc;

use cloister_shared::api::edit::{MAX_DESCRIPTION_CHARS, MAX_TITLE_CHARS};
use cloister_shared::api::Role;
use leptos::prelude::*;

use crate::pages::video::details::{LiveTexts, Opened};
use crate::session::{Auth, Session};

/// What is wrong with the new text, in plain words; `None` when it can be saved.
pub fn problem_with(title: &str, description: &str) -> Option<String> {
    if title.trim().is_empty() {
        return Some("Give the video a title.".to_owned());
    }
    if title.chars().count() > MAX_TITLE_CHARS {
        return Some(format!(
            "A title can be at most {MAX_TITLE_CHARS} characters long."
        ));
    }
    if description.chars().count() > MAX_DESCRIPTION_CHARS {
        return Some(format!(
            "A description can be at most {MAX_DESCRIPTION_CHARS} characters long."
        ));
    }
    None
}

#[component]
pub fn EditAction(opened: Arc<Opened>) -> impl IntoView {
    let session = Session::get();
    let texts = use_context::<LiveTexts>().unwrap_or_default();
    let owner = opened.summary.owner.clone();
    let may_edit = move || matches!(session.auth.get(), Auth::SignedIn(me) if me.role == Role::Admin || me.username == owner);
    let editing = RwSignal::new(false);
    let title = RwSignal::new(String::new());
    let description = RwSignal::new(String::new());
    let saving = RwSignal::new(false);
    let problem = RwSignal::new(None::<String>);
    let saved = RwSignal::new(false);
    let opened = StoredValue::new(opened);

    let open_form = move |_| {
        title.set(
            texts
                .title
                .get_untracked()
                .and_then(Result::ok)
                .unwrap_or_default(),
        );
        description.set(texts.description.get_untracked().unwrap_or_default());
        problem.set(None);
        saved.set(false);
        editing.set(true);
    };
    let save = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        if saving.get_untracked() {
            return;
        }
        let (new_title, new_description) = (
            title.get_untracked().trim().to_owned(),
            description.get_untracked().trim().to_owned(),
        );
        if let Some(why) = problem_with(&new_title, &new_description) {
            problem.set(Some(why));
            return;
        }
        problem.set(None);
        saving.set(true);
        let opened = opened.get_value();
        leptos::task::spawn_local(async move {
            let outcome = send(&opened, &new_title, &new_description).await;
            saving.try_set(false);
            match outcome {
                Ok(()) => {
                    let description = Some(new_description).filter(|d| !d.is_empty());
                    texts.show(Ok(new_title), description);
                    editing.try_set(false);
                    saved.try_set(true);
                }
                Err(message) => {
                    problem.try_set(Some(message));
                }
            }
        });
    };

    let form = move || {
        view! {
            <form class="video-edit-form" on:submit=save data-testid="edit-form">
                <label>
                    "Title"
                    <input
                        prop:value=move || title.get()
                        on:input=move |ev| title.set(event_target_value(&ev))
                        maxlength=MAX_TITLE_CHARS.to_string()
                        required=true
                        data-testid="edit-title"
                    />
                </label>
                <label>
                    "Description"
                    <textarea
                        prop:value=move || description.get()
                        on:input=move |ev| description.set(event_target_value(&ev))
                        maxlength=MAX_DESCRIPTION_CHARS.to_string()
                        rows="3"
                        data-testid="edit-description"
                    ></textarea>
                </label>
                {move || problem.get().map(|text| view! {
                    <p class="error" role="alert" data-testid="edit-problem">{text}</p>
                })}
                <div class="video-edit-buttons">
                    <button class="button" type="submit" disabled=move || saving.get() data-testid="edit-save">
                        {move || if saving.get() { "Saving…" } else { "Save" }}
                    </button>
                    <button class="button secondary" type="button" on:click=move |_| editing.set(false)
                        disabled=move || saving.get()>
                        "Cancel"
                    </button>
                </div>
            </form>
        }
    };

    view! {
        <Show when=may_edit>
            <section class="video-edit" aria-label="Edit">
                <Show when=move || editing.get() fallback=move || view! {
                    <button class="button secondary" data-testid="edit-video" on:click=open_form>
                        "Edit title and description"
                    </button>
                    {move || saved.get().then(|| view! {
                        <p class="status-line" role="status" data-testid="edit-saved">
                            "Saved. Everyone in the group now sees the new title."
                        </p>
                    })}
                }>
                    {form}
                </Show>
            </section>
        </Show>
    }
}

/// Seals the new title and description under the video's key, each with a fresh salt, and sends
/// them. `Err` is a message for the form.
#[cfg(feature = "hydrate")]
async fn send(opened: &Opened, title: &str, description: &str) -> Result<(), String> {
    use cloister_shared::api::edit::EditVideoRequest;
    use cloister_shared::crypto::stream::{seal_all, DEFAULT_CHUNK_SIZE};
    use cloister_shared::Purpose;

    let video = opened.summary.video_id;
    let seal = |text: &str, purpose: Purpose| {
        seal_all(
            &opened.dek,
            &video,
            &purpose,
            DEFAULT_CHUNK_SIZE,
            text.as_bytes(),
        )
        .map(hex::encode)
        .map_err(|err| format!("Encryption failed in this browser: {err}."))
    };
    let request = EditVideoRequest {
        title_sealed: seal(title, Purpose::Title)?,
        description_sealed: if description.is_empty() {
            None
        } else {
            Some(seal(description, Purpose::Description)?)
        },
    };
    crate::api::edit_video(&video, &request)
        .await
        .map(|_| ())
        .map_err(|err| err.message)
}

#[cfg(not(feature = "hydrate"))]
async fn send(_opened: &Opened, _title: &str, _description: &str) -> Result<(), String> {
    Err("Editing needs the page to have loaded.".to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn titles_must_be_there_and_not_too_long() {
        assert_eq!(
            problem_with("  ", ""),
            Some("Give the video a title.".to_owned())
        );
        assert_eq!(problem_with("Sea", ""), None);
        assert_eq!(problem_with(&"é".repeat(MAX_TITLE_CHARS), ""), None);
        assert!(problem_with(&"é".repeat(MAX_TITLE_CHARS + 1), "").is_some());
        assert!(problem_with("Sea", &"x".repeat(MAX_DESCRIPTION_CHARS + 1)).is_some());
    }
}
