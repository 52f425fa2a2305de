//! The key change after a member is removed, run by an admin's unlocked tab (docs/accounts.md,
//! "Removing a member: the key change"): one calm line under the header with its progress. It
//! starts when the status lists removed members who still know the key, and resumes an unfinished
//! change (a tab closed half-way) the same way. The key work is `cloister_shared::keyring`'s; the
//! server keeps every step, so another tab or a reload carries on where this one stopped.

use cloister_shared::api::keys::RotationProgress;
use cloister_shared::api::Role;
use cloister_shared::keyring::{rewrap_batch, start_rotation, Unlocked};
use leptos::prelude::*;
use leptos::task::spawn_local;

use crate::api;
use crate::session::{Auth, Library, Session};

/// Videos per batch: a fraction of a second of work in the browser, a small request.
const BATCH: u32 = 200;

#[derive(Debug, Clone, PartialEq)]
enum KeyChange {
    Idle,
    /// Removed members know the key, but this tab is locked.
    NeedsUnlock(Vec<String>),
    Running {
        names: Vec<String>,
        done: u64,
        total: u64,
    },
    Done(Vec<String>),
    Failed(String),
}

#[component]
pub fn KeyChangeBanner() -> impl IntoView {
    let session = Session::get();
    let state = RwSignal::new(KeyChange::Idle);
    let running = StoredValue::new(false);
    // What calls for a key change, as this tab knows it: (names, one unfinished, unlocked).
    let due = Memo::new(move |_| {
        let is_admin = matches!(session.auth.get(), Auth::SignedIn(me) if me.role == Role::Admin);
        let unlocked = session.key.with(Option::is_some);
        session.library.with(|library| match library {
            Library::Known(status)
                if is_admin
                    && (!status.rotation_needed.is_empty() || status.rotation.is_some()) =>
            {
                Some((status.rotation_needed.clone(), unlocked))
            }
            _ => None,
        })
    });
    let run = move || {
        if running.get_value() {
            return;
        }
        running.set_value(true);
        spawn_local(async move {
            let outcome = run_key_change(session, state).await;
            running.set_value(false);
            state.try_set(match outcome {
                Ok(Some(names)) => KeyChange::Done(names),
                Ok(None) => KeyChange::Idle,
                Err(message) => KeyChange::Failed(message),
            });
        });
    };
    Effect::new(move |_| {
        let Some((names, unlocked)) = due.get() else {
            return;
        };
        let failed = state.with_untracked(|s| matches!(s, KeyChange::Failed(_)));
        if !unlocked {
            state.set(KeyChange::NeedsUnlock(names));
        } else if !failed {
            run();
        }
    });
    let retry = move |_| {
        state.set(KeyChange::Idle);
        run();
    };
    move || {
        match state.get() {
        KeyChange::Idle => None,
        KeyChange::NeedsUnlock(names) => Some(
            view! {
                <div class="key-change" role="status" data-testid="key-change">
                    <span>{needs_unlock_sentence(&names)}</span>
                    " "
                    <a href="/">"Unlock the library"</a>
                </div>
            }
            .into_any(),
        ),
        KeyChange::Running { names, done, total } => Some(
            view! {
                <div class="key-change" role="status" data-testid="key-change">
                    <span>{progress_sentence(&names, done, total)}</span>
                    <progress max=total.max(1) value=done aria-hidden="true"></progress>
                </div>
            }
            .into_any(),
        ),
        KeyChange::Done(names) => Some(
            view! {
                <div class="key-change done" role="status" data-testid="key-change">
                    <span>{done_sentence(&names)}</span>
                    " "
                    <button class="button secondary small" on:click=move |_| state.set(KeyChange::Idle)>"OK"</button>
                </div>
            }
            .into_any(),
        ),
        KeyChange::Failed(message) => Some(
            view! {
                <div class="key-change failed" role="alert" data-testid="key-change">
                    <span>{format!("The library key could not be changed yet: {message}")}</span>
                    " "
                    <button class="button secondary small" on:click=retry>"Try again"</button>
                </div>
            }
            .into_any(),
        ),
    }
    }
}

/// Starts the key change if none runs, then re-wraps batches until the server says it finished.
/// Answers the names it answered for (`None`: nothing was due after all).
async fn run_key_change(
    session: Session,
    state: RwSignal<KeyChange>,
) -> Result<Option<Vec<String>>, String> {
    let mut names = Vec::new();
    let mut refused = None;
    // A start is refused (409) when another tab started first, or when who holds the key changed
    // since the plan was fetched (someone was let in): fetch the plan again, a few times.
    for _ in 0..3 {
        let plan = api::rotation_plan().await.map_err(|err| err.message)?;
        names = plan.needed_for.clone();
        if let Some(progress) = &plan.running {
            show(state, &names, progress);
            refused = None;
            break;
        }
        if names.is_empty() {
            return Ok(None);
        }
        let unlocked = current_key(session, plan.generation, false).await?;
        let (request, next) = start_rotation(&unlocked, &plan).map_err(|e| e.to_string())?;
        match api::start_rotation(&request).await {
            Ok(progress) => {
                session.set_unlocked(next, false);
                show(state, &names, &progress);
                refused = None;
                break;
            }
            Err(err) if err.status == 409 => {
                refused = Some(err.message);
                session.refresh_library().await;
            }
            Err(err) => return Err(err.message),
        }
    }
    if let Some(message) = refused {
        return Err(message);
    }
    loop {
        let batch = match api::rotation_batch(BATCH).await {
            Ok(batch) => batch,
            // Finished by another tab.
            Err(err) if err.status == 409 => break,
            Err(err) => return Err(err.message),
        };
        let unlocked = current_key(session, batch.to_generation, true).await?;
        let request = rewrap_batch(&unlocked, &batch).map_err(|e| e.to_string())?;
        let progress = api::rewrap_batch(&request)
            .await
            .map_err(|err| err.message)?;
        show(state, &names, &progress);
        if progress.finished {
            break;
        }
        crate::keyring::let_the_page_paint().await;
    }
    session.refresh_library().await;
    Ok(Some(names))
}

fn show(state: RwSignal<KeyChange>, names: &[String], progress: &RotationProgress) {
    state.try_set(KeyChange::Running {
        names: names.to_vec(),
        done: progress.done,
        total: progress.total,
    });
}

/// The tab's key for `generation` (with the previous one when `with_previous`), fetching the
/// status again once if the tab still holds an older one.
async fn current_key(
    session: Session,
    generation: u32,
    with_previous: bool,
) -> Result<Unlocked, String> {
    let fits = |key: &Option<Unlocked>| {
        key.as_ref()
            .filter(|k| k.generation == generation && (!with_previous || k.previous.is_some()))
            .cloned()
    };
    if let Some(key) = session.key.with_untracked(fits) {
        return Ok(key);
    }
    session.refresh_library().await;
    session
        .key
        .with_untracked(fits)
        .ok_or_else(|| "unlock the library again in this tab to finish it.".to_owned())
}

/// "bob", "bob and carol", "bob, carol and dave".
fn names_sentence(names: &[String]) -> String {
    match names {
        [] => String::new(),
        [one] => one.clone(),
        [rest @ .., last] => format!("{} and {last}", rest.join(", ")),
    }
}

/// 1000 → "1,000".
fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

fn progress_sentence(names: &[String], done: u64, total: u64) -> String {
    let videos = if total == 1 { "video" } else { "videos" };
    let count = format!("{} of {} {videos}", thousands(done), thousands(total));
    if names.is_empty() {
        format!("Changing the library key — {count}")
    } else {
        format!(
            "Changing the library key so {} can no longer open new videos — {count}",
            names_sentence(names)
        )
    }
}

fn done_sentence(names: &[String]) -> String {
    if names.is_empty() {
        "The library key is changed.".to_owned()
    } else {
        format!(
            "The library key is changed: {} can no longer open new videos.",
            names_sentence(names)
        )
    }
}

fn needs_unlock_sentence(names: &[String]) -> String {
    let who = if names.is_empty() {
        "A key change is unfinished.".to_owned()
    } else {
        format!(
            "{} {} removed.",
            names_sentence(names),
            if names.len() == 1 { "was" } else { "were" }
        )
    };
    format!("{who} Unlock the library in this tab to change its key, so new videos stay private.")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn the_progress_line_names_who_is_locked_out_and_counts_with_separators() {
        assert_eq!(
            progress_sentence(&names(&["bob"]), 450, 1000),
            "Changing the library key so bob can no longer open new videos — 450 of 1,000 videos"
        );
        assert_eq!(
            progress_sentence(&names(&["bob", "carol", "dave"]), 0, 1),
            "Changing the library key so bob, carol and dave can no longer open new videos — 0 of \
             1 video"
        );
        assert_eq!(
            progress_sentence(&[], 1_234_567, 2_000_000),
            "Changing the library key — 1,234,567 of 2,000,000 videos"
        );
        assert_eq!(
            done_sentence(&names(&["bob", "carol"])),
            "The library key is changed: bob and carol can no longer open new videos."
        );
        assert!(needs_unlock_sentence(&names(&["bob"])).starts_with("bob was removed."));
    }
}
