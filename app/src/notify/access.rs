//! The one place admins hear that someone waits for access (docs/architecture.md, "Messages
//! members see"): a calm line under the header while the library's status lists waiting
//! members, on every page. `AccessRequested` fetches the status again, so it appears live.

use cloister_shared::api::Role;
use leptos::prelude::*;

use crate::session::{Auth, Library, Session};

#[component]
pub fn AccessWaitingBanner() -> impl IntoView {
    let session = Session::get();
    let waiting = Memo::new(move |_| {
        let is_admin = matches!(session.auth.get(), Auth::SignedIn(me) if me.role == Role::Admin);
        if !is_admin {
            return Vec::new();
        }
        session.library.with(|library| match library {
            Library::Known(status) => status.waiting.iter().map(|m| m.username.clone()).collect(),
            _ => Vec::new(),
        })
    });
    move || {
        let names = waiting.get();
        (!names.is_empty()).then(|| {
            let text = waiting_sentence(&names);
            view! {
                <div class="access-waiting" role="status" data-testid="access-waiting">
                    <span>{text}</span>
                    " "
                    <a href="/admin#access">"Let them in"</a>
                </div>
            }
        })
    }
}

/// "bob is waiting for access." / "bob and carol are waiting for access." / "bob, carol and 2
/// others are waiting for access."
pub fn waiting_sentence(names: &[String]) -> String {
    match names {
        [] => String::new(),
        [one] => format!("{one} is waiting for access."),
        [a, b] => format!("{a} and {b} are waiting for access."),
        [a, b, c] => format!("{a}, {b} and {c} are waiting for access."),
        [a, b, rest @ ..] => format!("{a}, {b} and {} others are waiting for access.", rest.len()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_sentence_names_who_waits() {
        let names = |list: &[&str]| list.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        assert_eq!(
            waiting_sentence(&names(&["bob"])),
            "bob is waiting for access."
        );
        assert_eq!(
            waiting_sentence(&names(&["bob", "carol"])),
            "bob and carol are waiting for access."
        );
        assert_eq!(
            waiting_sentence(&names(&["a", "b", "c", "d", "e"])),
            "a, b and 3 others are waiting for access."
        );
    }
}
