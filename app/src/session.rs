//! Who is signed in, and whether this tab holds the library key. Provided once by `App` as context;
//! everything starts as `Loading` on the server and in the first browser render (so hydration
//! matches), and is filled in by an effect that runs only in the browser.

use cloister_shared::api::{LibraryStatus, Me};
use cloister_shared::crypto::keys::LibraryKey;
use leptos::prelude::*;

use crate::api;

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
        let session = Self {
            auth: RwSignal::new(Auth::Loading),
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
                    self.auth.set(Auth::SignedIn(me));
                    self.refresh_library().await;
                }
                Ok(None) => {
                    self.forget_key();
                    self.auth.set(Auth::SignedOut);
                }
                Err(err) => self.auth.set(Auth::Unknown(err.message)),
            }
        });
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
        self.auth.set(Auth::SignedOut);
        self.library.set(Library::Loading);
    }
}
