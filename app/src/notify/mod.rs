//! App-wide notifications (docs/architecture.md): toasts for what happens away from where the member is
//! looking (a download became ready, their video finished processing, an upload failed), and the
//! server-busy banner. One [`Notices`] context, provided by `App`; the live socket feeds it.

mod busy;
mod events;
mod toasts;
pub mod words;

use std::collections::HashSet;

use leptos::prelude::*;

pub use busy::ServerBusyBanner;
pub use toasts::Toasts;

use crate::session::Session;

/// How a toast looks and which ARIA role it gets: errors interrupt (`alert`), the rest wait their
/// turn (`status`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tone {
    Info,
    Success,
    Warning,
    Error,
}

impl Tone {
    pub const fn class(self) -> &'static str {
        match self {
            Self::Info => "toast info",
            Self::Success => "toast success",
            Self::Warning => "toast warning",
            Self::Error => "toast error",
        }
    }

    pub const fn role(self) -> &'static str {
        match self {
            Self::Error => "alert",
            _ => "status",
        }
    }
}

/// What a toast offers besides Dismiss.
#[derive(Clone)]
pub enum ToastAction {
    /// A link; `download` makes the browser save what it points at instead of showing it.
    Link {
        label: &'static str,
        href: String,
        download: bool,
    },
    /// A button that runs `run` and then dismisses the toast.
    Button {
        label: &'static str,
        run: Callback<()>,
    },
}

#[derive(Clone)]
pub struct Toast {
    pub id: u64,
    pub key: String,
    pub tone: Tone,
    pub text: String,
    pub actions: Vec<ToastAction>,
    pub kind: &'static str,
}

/// A toast to show: what [`Notices::push`] takes.
pub struct Notice {
    /// Names what the toast is about (`download:<id>`): a toast with the same key replaces the
    /// older one instead of stacking.
    pub key: String,
    /// `data-kind`, for tests and styling (download-ready, processing-done, …).
    pub kind: &'static str,
    pub tone: Tone,
    pub text: String,
    pub actions: Vec<ToastAction>,
}

impl Notice {
    pub fn new(
        key: impl Into<String>,
        kind: &'static str,
        tone: Tone,
        text: impl Into<String>,
    ) -> Self {
        Self {
            key: key.into(),
            kind,
            tone,
            text: text.into(),
            actions: Vec::new(),
        }
    }

    pub fn with(mut self, action: ToastAction) -> Self {
        self.actions.push(action);
        self
    }
}

/// More than this and the oldest go: a pile of toasts helps nobody.
const MAX_TOASTS: usize = 5;

#[derive(Clone, Copy)]
pub struct Notices {
    toasts: RwSignal<Vec<Toast>>,
    next_id: StoredValue<u64>,
    /// Keys shown once already ([`Notices::push_once`]): a repeated event does not bring back a
    /// toast the member dismissed.
    shown: StoredValue<HashSet<String>>,
    /// Open video dialogs showing the toasts inside them (a modal dialog makes the rest of the
    /// page inert, so toasts outside could not be clicked).
    dialog_hosts: RwSignal<u32>,
    /// Bumped when the member's downloads changed (a download became ready or expired).
    pub downloads_changed: RwSignal<u64>,
    /// Bumped to ask the busy banner to read the load now (a job was deferred).
    pub load_poke: RwSignal<u64>,
    session: Session,
    /// Which videos are the signed-in member's, and their titles, as far as this tab asked.
    owners: events::Owners,
}

impl Notices {
    pub fn provide(session: Session) -> Self {
        let notices = Self {
            toasts: RwSignal::new(Vec::new()),
            next_id: StoredValue::new(0),
            shown: StoredValue::new(HashSet::new()),
            dialog_hosts: RwSignal::new(0),
            downloads_changed: RwSignal::new(0),
            load_poke: RwSignal::new(0),
            session,
            owners: events::Owners::default(),
        };
        provide_context(notices);
        notices
    }

    pub fn get() -> Self {
        expect_context::<Self>()
    }

    /// Shows a toast, replacing one with the same key.
    pub fn push(self, notice: Notice) {
        let id = self.next_id.get_value();
        self.next_id.set_value(id + 1);
        let Notice {
            key,
            kind,
            tone,
            text,
            actions,
        } = notice;
        self.shown.update_value(|shown| {
            shown.insert(key.clone());
        });
        let toast = Toast {
            id,
            key,
            tone,
            text,
            actions,
            kind,
        };
        self.toasts.update(|list| {
            list.retain(|t| t.key != toast.key);
            list.push(toast);
            let extra = list.len().saturating_sub(MAX_TOASTS);
            list.drain(..extra);
        });
    }

    /// As [`Notices::push`], unless a toast with this key was shown before in this tab.
    pub fn push_once(self, notice: Notice) {
        if !self.was_shown(&notice.key) {
            self.push(notice);
        }
    }

    /// A toast with this key was shown in this tab (it may have been dismissed since).
    pub fn was_shown(self, key: &str) -> bool {
        self.shown.with_value(|shown| shown.contains(key))
    }

    pub fn dismiss(self, id: u64) {
        self.toasts.update(|list| list.retain(|t| t.id != id));
    }

    /// Removes the toast with this key, if shown (its subject was dealt with elsewhere).
    pub fn dismiss_key(self, key: &str) {
        self.toasts.update(|list| list.retain(|t| t.key != key));
    }

    /// Forgets everything: someone signed out.
    pub fn clear(self) {
        self.toasts.update(Vec::clear);
        self.shown.update_value(HashSet::clear);
        self.owners.clear();
    }

    fn bump(signal: RwSignal<u64>) {
        signal.update(|n| *n = n.wrapping_add(1));
    }
}
