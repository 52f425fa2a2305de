//! App-wide notifications (docs/architecture.md, "Messages members see"): toasts for what happens
//! away from where the member is looking (a download became ready, their videos finished or
//! failed processing, an upload failed), and the server-busy banner. One [`Notices`] context,
//! provided by `App`; the live socket feeds it.

mod access;
mod busy;
mod events;
pub mod group;
mod key_change;
mod toasts;
pub mod words;

use std::collections::HashSet;

use leptos::prelude::*;

pub use access::AccessWaitingBanner;
pub use busy::ServerBusyBanner;
pub use key_change::KeyChangeBanner;
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

impl ToastAction {
    /// Something the member must act on to have it at all (a button, a download link that will
    /// lapse): the toast then stays until dismissed. A link to a page is a shortcut, not that.
    pub const fn must_stay(&self) -> bool {
        match self {
            Self::Link { download, .. } => *download,
            Self::Button { .. } => true,
        }
    }
}

#[derive(Clone)]
pub struct Toast {
    pub id: u64,
    pub key: String,
    pub tone: Tone,
    pub text: String,
    pub actions: Vec<ToastAction>,
    pub kind: &'static str,
    /// The events a grouped toast stands for.
    members: group::Members,
    /// `None`: stays until dismissed.
    pub closes_after_ms: Option<u32>,
}

/// How a toast joins one of its kind that is still up.
pub struct Grouping {
    /// The event's own key ("ready:<job>"): counted once, shown once per tab.
    pub item: String,
    /// The text for several ("3 videos are ready.").
    pub many: fn(usize) -> String,
    /// The actions for several (the single toast's "Watch" would not say which).
    pub many_actions: Vec<ToastAction>,
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
    /// Set: joins a toast with the same key that is still up.
    pub group: Option<Grouping>,
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
            group: None,
        }
    }

    pub fn with(mut self, action: ToastAction) -> Self {
        self.actions.push(action);
        self
    }

    pub fn grouped(mut self, grouping: Grouping) -> Self {
        self.group = Some(grouping);
        self
    }
}

/// More than this and the oldest go: a pile of toasts helps nobody.
const MAX_TOASTS: usize = 3;

/// Why toasts are not closing by themselves right now.
#[derive(Debug, Default, Clone, Copy)]
struct Held {
    pointer: bool,
    focus: bool,
}

impl Held {
    #[cfg_attr(not(feature = "hydrate"), allow(dead_code))]
    fn any(&self) -> bool {
        self.pointer || self.focus
    }
}

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
    /// The pointer is over the toasts, or focus is in them: none closes by itself meanwhile.
    held: StoredValue<Held>,
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
            held: StoredValue::new(Held::default()),
            session,
            owners: events::Owners::default(),
        };
        provide_context(notices);
        notices
    }

    pub fn get() -> Self {
        expect_context::<Self>()
    }

    /// Shows a toast, replacing one with the same key, or joining it when grouped.
    pub fn push(self, notice: Notice) {
        let Notice {
            key,
            kind,
            tone,
            mut text,
            mut actions,
            group,
        } = notice;
        let mut members = group::Members::default();
        if let Some(grouping) = group {
            if self.was_shown(&grouping.item) {
                return;
            }
            self.mark_shown(&grouping.item);
            if let Some(up) = self.toasts.with_untracked(|list| {
                list.iter()
                    .find(|t| t.key == key)
                    .map(|t| t.members.clone())
            }) {
                members = up;
            }
            members.add(&grouping.item);
            if members.len() > 1 {
                text = (grouping.many)(members.len());
                actions = grouping.many_actions;
            }
        }
        self.mark_shown(&key);
        let id = self.next_id.get_value();
        self.next_id.set_value(id + 1);
        let closes_after_ms =
            group::closes_after_ms(tone, actions.iter().any(ToastAction::must_stay));
        let toast = Toast {
            id,
            key,
            tone,
            text,
            actions,
            kind,
            members,
            closes_after_ms,
        };
        self.toasts.update(|list| {
            list.retain(|t| t.key != toast.key);
            list.push(toast);
            let extra = list.len().saturating_sub(MAX_TOASTS);
            list.drain(..extra);
        });
        if let Some(after) = closes_after_ms {
            self.close_later(id, after);
        }
    }

    fn mark_shown(self, key: &str) {
        self.shown.update_value(|shown| {
            shown.insert(key.to_owned());
        });
    }

    /// Dismisses toast `id` once it has been up for `after_ms` while not held.
    #[cfg(feature = "hydrate")]
    fn close_later(self, id: u64, after_ms: u32) {
        const TICK_MS: u32 = 250;
        leptos::task::spawn_local(async move {
            let mut up = 0;
            while up < after_ms {
                crate::browser::sleep_ms(TICK_MS).await;
                let present = self
                    .toasts
                    .try_with_untracked(|list| list.iter().any(|t| t.id == id));
                if present != Some(true) {
                    return;
                }
                if !self.held.try_with_value(Held::any).unwrap_or(false) {
                    up += TICK_MS;
                }
            }
            self.dismiss(id);
        });
    }

    #[cfg(not(feature = "hydrate"))]
    fn close_later(self, _id: u64, _after_ms: u32) {}

    /// The toasts' region reports the pointer or focus entering (`true`) or leaving it.
    pub fn hold(self, by_pointer: bool, on: bool) {
        self.held.update_value(|held| {
            if by_pointer {
                held.pointer = on;
            } else {
                held.focus = on;
            }
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
        if self.toasts.with_untracked(Vec::is_empty) {
            // Nothing left under the pointer: the region may vanish without a pointerleave.
            self.release();
        }
    }

    /// Forgets that the toasts were held (their region went away).
    pub fn release(self) {
        self.held.try_update_value(|held| *held = Held::default());
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
