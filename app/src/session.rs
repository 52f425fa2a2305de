//! Who is signed in, and whether this tab holds the library key. Provided once by `App` as context.
//! The server looks the session cookie up before it renders a page and writes the answer into the
//! page (`<meta name="cloister-session">`), so the server's render and the browser's first render
//! start from the same `Auth` (hydration matches) and the page is the right one before the
//! WebAssembly arrives. The library's state is filled in by an effect that runs only in the
//! browser (docs/decisions.md, "The first visit").

use cloister_shared::api::{LibraryStatus, Me};
use cloister_shared::crypto::keys::LibraryKey;
use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use crate::api;

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

#[derive(Debug, Clone, PartialEq)]
pub enum Library {
    Loading,
    /// No passphrase has been chosen yet.
    Uninitialized,
    Locked(LibraryStatus),
    Unknown(String),
}

#[derive(Clone, Copy)]
pub struct Session {
    pub auth: RwSignal<Auth>,
    pub library: RwSignal<Library>,
    /// The library key, in this tab's memory only (and sessionStorage if the member opted in).
    pub key: RwSignal<Option<LibraryKey>>,
}

impl Session {
    pub fn provide() -> Self {
        let known = ServerSession::current();
        let session = Self {
            auth: RwSignal::new(known.map_or(Auth::Loading, ServerSession::auth)),
            library: RwSignal::new(Library::Loading),
            key: RwSignal::new(None),
        };
        provide_context(session);
        Effect::new(move |_| {
            session.key.set(crate::keyring::remembered());
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

    pub async fn refresh_library(self) {
        self.library.set(match api::library().await {
            Ok(status) if status.initialized => Library::Locked(status),
            Ok(_) => Library::Uninitialized,
            Err(err) => Library::Unknown(err.message),
        });
    }

    pub fn unlocked(self) -> bool {
        self.key.with(Option::is_some)
    }

    pub fn set_key(self, key: LibraryKey, remember: bool) {
        if remember {
            crate::keyring::remember(&key);
        }
        self.key.set(Some(key));
    }

    /// Forgets the library key in memory and in sessionStorage: the lock button.
    pub fn forget_key(self) {
        crate::keyring::forget();
        self.key.set(None);
    }

    pub fn signed_out(self) {
        self.forget_key();
        crate::pwa::forget_kept_pages();
        self.auth.set(Auth::SignedOut);
        self.library.set(Library::Loading);
    }
}
