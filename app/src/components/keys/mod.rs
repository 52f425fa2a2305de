//! The screens between signing in and an open library (docs/accounts.md, "Passphrases and keys"):
//! setting the library up, converting from the shared passphrase, choosing your passphrase,
//! waiting to be let in, unlocking, and "Forgot your passphrase?". Key logic lives in
//! `cloister_shared::keyring`; these are the forms around it.

mod choose;
mod convert;
mod fields;
mod forgot;
mod set_up;
mod unlock;
mod waiting;

use cloister_shared::api::Role;
use leptos::prelude::*;

use crate::session::{Auth, KeyStep, Library, Session};

pub use fields::{ErrorLine, NewPassphrase, Working};

/// The right screen for where the member stands, until the library is open (then nothing).
#[component]
pub fn KeysGate() -> impl IntoView {
    let session = Session::get();
    let is_admin =
        move || matches!(session.auth.get(), Auth::SignedIn(me) if me.role == Role::Admin);
    move || match session.step.get() {
        KeyStep::Open => ().into_any(),
        KeyStep::Loading => view! { <p class="muted">"Loading the library…"</p> }.into_any(),
        KeyStep::Unknown => {
            let message = session.library.with_untracked(|library| match library {
                Library::Unknown(message) => message.clone(),
                _ => String::new(),
            });
            view! { <p class="error" role="alert">{message}</p> }.into_any()
        }
        KeyStep::SetUp if is_admin() => view! { <set_up::SetUpLibrary/> }.into_any(),
        KeyStep::SetUp => view! {
            <section class="card narrow">
                <h1>"The library is not set up yet"</h1>
                <p>"An admin has to set the library up first. Ask them, then reload this page."</p>
            </section>
        }
        .into_any(),
        KeyStep::Convert => view! { <convert::ConvertFromShared/> }.into_any(),
        KeyStep::ChooseKeys => view! { <choose::ChooseYourPassphrase/> }.into_any(),
        KeyStep::Waiting => view! { <waiting::WaitingForAccess/> }.into_any(),
        KeyStep::Unlock => view! { <unlock::UnlockLibrary/> }.into_any(),
    }
}
