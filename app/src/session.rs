//! Who is signed in, and whether this tab holds the library key. Provided once by `App` as context.
//! The server looks the session cookie up before it renders a page and writes the answer into the
//! page (`<meta name="cloister-session">`), so the server's render and the browser's first render
//! start from the same `Auth` (hydration matches) and the page is the right one before the
//! WebAssembly arrives. The library's state is filled in by an effect that runs only in the
//! browser (docs/decisions.md, "The first visit").

use cloister_shared::api::keys::{LibraryMode, LibraryStatus};
use cloister_shared::api::Me;
use cloister_shared::crypto::member::MemberSecretKey;
use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use crate::api;
use crate::keyring::Unlocked;

/// The name of the `<meta>` element that carries the server's `ServerSession` to the browser.
pub const SESSION_META: &str = "cloister-session";

/// Who was signed in when the server rendered the page (`None`: nobody, or the server could not
/// tell). The server leaves it in the request's extensions; only what `/api/auth/me` tells the
/// same person is in it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ServerSession {
    pub user: Option<Me>,
}

impl ServerSession {
    /// On the server: the answer for the request being rendered.
    #[cfg(feature = "ssr")]
    pub fn current() -> Option<Self> {
        use_context::<http::request::Parts>()
            .and_then(|parts| parts.extensions.get::<Self>().cloned())
    }

    /// In the browser: the answer the server wrote into the page.
    #[cfg(feature = "hydrate")]
    pub fn current() -> Option<Self> {
        let content = web_sys::window()?
            .document()?
            .query_selector(&format!("meta[name={SESSION_META}]"))
            .ok()??
            .get_attribute("content")?;
        serde_json::from_str(&content).ok()
    }

    #[cfg(not(any(feature = "ssr", feature = "hydrate")))]
    pub fn current() -> Option<Self> {
        None
    }

    fn auth(self) -> Auth {
        match self.user {
            Some(me) => Auth::SignedIn(me),
            None => Auth::SignedOut,
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub enum Auth {
    Loading,
    SignedOut,
    SignedIn(Me),
    /// The server could not be asked; the message says so.
    Unknown(String),
}

/// What `GET /api/library` said, as this tab last heard it.
#[derive(Debug, Clone, PartialEq)]
pub enum Library {
    Loading,
    Known(LibraryStatus),
    Unknown(String),
}

/// What the member has to do before the library opens (docs/accounts.md, "Passphrases and
/// keys"). Pages match on this, not on the whole status, so a status that changes without
/// changing the step (an admin's waiting list, say) re-renders nothing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyStep {
    Loading,
    /// The server could not be asked (the message is in `Session::library`).
    Unknown,
    /// No library key yet: an admin sets the library up; a member waits for that.
    SetUp,
    /// A library from before members had their own passphrases: unlock with the shared one,
    /// then choose your own.
    Convert,
    /// No keys yet (added by an admin): choose your passphrase.
    ChooseKeys,
    /// Keys made, no grant for the current key yet: an admin needs to let the member in.
    Waiting,
    /// Keys and a grant: enter the passphrase.
    Unlock,
    /// This tab holds the library key.
    Open,
}

#[derive(Clone, Copy)]
pub struct Session {
    pub auth: RwSignal<Auth>,
    pub library: RwSignal<Library>,
    /// The library key (and the previous one during a key change), in this tab's memory only.
    pub key: RwSignal<Option<Unlocked>>,
    /// Where the member stands with the keys (see [`KeyStep`]).
    pub step: Memo<KeyStep>,
    /// The member's private key, in memory (and sessionStorage if the member opted in): a new
    /// grant (an admin let them in, or the library key changed) opens without the passphrase.
    secret: RwSignal<Option<MemberSecretKey>>,
    /// Whether the member asked to remember their key for this browser session.
    remember: StoredValue<bool>,
    /// A salted hash of the password typed at sign-in in this tab, so a passphrase equal to it
    /// can be refused without keeping the password (docs/decisions.md, "Keys for people").
    password_check: StoredValue<Option<([u8; 16], [u8; 32])>>,
}

impl Session {
    pub fn provide() -> Self {
        let known = ServerSession::current();
        let library = RwSignal::new(Library::Loading);
        let key = RwSignal::new(None::<Unlocked>);
        let session = Self {
            auth: RwSignal::new(known.map_or(Auth::Loading, ServerSession::auth)),
            library,
            key,
            step: Memo::new(move |_| key_step(key, library)),
            secret: RwSignal::new(None),
            remember: StoredValue::new(false),
            password_check: StoredValue::new(None),
        };
        provide_context(session);
        Effect::new(move |_| {
            if let Some(secret) = crate::keyring::remembered() {
                session.remember.set_value(true);
                session.secret.set(Some(secret));
            }
            session.refresh();
        });
        session
    }

    pub fn get() -> Self {
        expect_context::<Self>()
    }

    /// Asks the server who is signed in and what the library looks like.
    pub fn refresh(self) {
        leptos::task::spawn_local(async move {
            match api::me().await {
                Ok(Some(me)) => {
                    self.set_auth(Auth::SignedIn(me));
                    self.refresh_library().await;
                }
                Ok(None) => {
                    self.forget_key();
                    self.set_auth(Auth::SignedOut);
                }
                Err(err) => self.set_auth(Auth::Unknown(err.message)),
            }
        });
    }

    /// Only a change re-renders: the page the server rendered for a known session stays as it is
    /// when the browser's first answer agrees.
    fn set_auth(self, auth: Auth) {
        if self.auth.with_untracked(|current| *current != auth) {
            self.auth.set(auth);
        }
    }

    /// Fetches the library's status again (after sign-in, an access or key event, a key change
    /// of this member's), and opens the grant with the private key this tab holds, if any: a
    /// member who was let in, or whose library key changed, is not asked for the passphrase.
    pub async fn refresh_library(self) {
        match api::library().await {
            Ok(status) => {
                self.open_with_held_key(&status);
                if self
                    .library
                    .with_untracked(|now| *now != Library::Known(status.clone()))
                {
                    self.library.set(Library::Known(status));
                }
            }
            Err(err) => self.library.set(Library::Unknown(err.message)),
        }
    }

    fn open_with_held_key(self, status: &LibraryStatus) {
        let Some(secret) = self.secret.get_untracked() else {
            // Unlocked with the shared passphrase only (converting): nothing to reopen.
            return;
        };
        let held = self.key.with_untracked(|key| {
            key.as_ref()
                .map(|key| (key.generation, key.previous.is_some()))
        });
        let now = (status.generation, status.previous.is_some());
        if held == Some(now) {
            return;
        }
        match cloister_shared::keyring::open_library(&secret, status) {
            Ok(unlocked) => self.key.set(Some(unlocked)),
            // Not let in (yet, or any more): the page says what to do.
            Err(_) => {
                if held.is_some() {
                    self.key.set(None);
                }
            }
        }
    }

    pub fn unlocked(self) -> bool {
        self.key.with(Option::is_some)
    }

    /// The status as last fetched (untracked), for a form that needs it at submit.
    pub fn status_untracked(self) -> Option<LibraryStatus> {
        self.library.with_untracked(|library| match library {
            Library::Known(status) => Some(status.clone()),
            _ => None,
        })
    }

    /// Keeps what unlocking (or setting up, converting, recovering) gave: the library key, and
    /// the private key for the next grant.
    pub fn set_unlocked(self, unlocked: Unlocked, remember: bool) {
        if let Some(secret) = &unlocked.secret {
            self.hold_secret(secret.clone(), remember);
        }
        self.key.set(Some(unlocked));
    }

    /// Keeps a private key that has no grant yet (the member just made their keys, and waits).
    pub fn hold_secret(self, secret: MemberSecretKey, remember: bool) {
        let remember = remember || self.remember.get_value();
        if remember {
            crate::keyring::remember(&secret);
        }
        self.remember.set_value(remember);
        self.secret.set(Some(secret));
    }

    /// Forgets the keys in memory and in sessionStorage: the lock button.
    pub fn forget_key(self) {
        crate::keyring::forget();
        self.remember.set_value(false);
        self.secret.set(None);
        self.key.set(None);
    }

    /// Remembers (as a salted hash, in memory) the password just typed to sign in.
    pub fn note_password(self, password: &str) {
        let Ok(salt) = cloister_shared::crypto::random::array::<16>() else {
            return;
        };
        self.password_check
            .set_value(Some((salt, password_hash(&salt, password))));
    }

    /// Whether `candidate` is the password this member signed in with in this tab (`false` when
    /// the tab does not know it).
    pub fn is_password(self, candidate: &str) -> bool {
        self.password_check.with_value(|check| {
            check.is_some_and(|(salt, hash)| password_hash(&salt, candidate) == hash)
        })
    }

    pub fn signed_out(self) {
        self.forget_key();
        self.password_check.set_value(None);
        crate::pwa::forget_kept_pages();
        self.auth.set(Auth::SignedOut);
        self.library.set(Library::Loading);
    }
}

fn key_step(key: RwSignal<Option<Unlocked>>, library: RwSignal<Library>) -> KeyStep {
    if key.with(Option::is_some) {
        return KeyStep::Open;
    }
    library.with(|library| match library {
        Library::Loading => KeyStep::Loading,
        Library::Unknown(_) => KeyStep::Unknown,
        Library::Known(status) => match (status.mode, &status.me, &status.my_grant) {
            (LibraryMode::New, _, _) => KeyStep::SetUp,
            (LibraryMode::Shared, None, _) if status.shared.is_some() => KeyStep::Convert,
            (_, None, _) => KeyStep::ChooseKeys,
            (_, Some(_), None) => KeyStep::Waiting,
            (_, Some(_), Some(_)) => KeyStep::Unlock,
        },
    })
}

fn password_hash(salt: &[u8; 16], password: &str) -> [u8; 32] {
    use sha2::{Digest, Sha256};
    let mut hasher = Sha256::new();
    hasher.update(salt);
    hasher.update(password.as_bytes());
    hasher.finalize().into()
}
