//! The admin page (docs/admin.md): members and invites, the processing jobs with their controls,
//! the machine's gauges and the gate's verdict, processing speed, storage and housekeeping. The
//! server enforces the admin role on every call; this page only hides itself from members.

mod access;
mod format;
mod jobs;
mod machine;
mod members;
mod shares;
mod speed;
mod storage;

use std::future::Future;
use std::rc::Rc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use cloister_shared::api::Role;
use leptos::prelude::*;
use leptos::task::spawn_local;

use crate::session::{Auth, Session};

#[component]
pub fn AdminPage() -> impl IntoView {
    let session = Session::get();
    move || match session.auth.get() {
        Auth::SignedIn(me) if me.role == Role::Admin => view! {
            <div class="admin-page">
                <h1>"Admin"</h1>
                <jobs::JobsPanel/>
                <div class="admin-columns">
                    <machine::MachinePanel/>
                    <speed::SpeedPanel/>
                </div>
                <storage::StoragePanel/>
                <access::AccessPanel/>
                <members::Users/>
                <shares::SharesPanel/>
            </div>
        }
        .into_any(),
        Auth::Loading => view! { <p class="muted">"Loading…"</p> }.into_any(),
        _ => view! { <p class="error" role="alert">"Only an admin can see this page."</p> }
            .into_any(),
    }
}

/// Runs `tick` now and then every `ms` milliseconds, in the browser only, until the section
/// leaves the page.
fn repeat<F, Fut>(ms: u32, tick: F)
where
    F: Fn() -> Fut + 'static,
    Fut: Future<Output = ()> + 'static,
{
    let alive = Arc::new(AtomicBool::new(true));
    let stop = alive.clone();
    on_cleanup(move || stop.store(false, Ordering::Relaxed));
    let tick = Rc::new(tick);
    // An effect runs only in the browser (natively `sleep_ms` would not wait).
    Effect::new(move |started: Option<()>| {
        if started.is_some() {
            return;
        }
        let (alive, tick) = (alive.clone(), tick.clone());
        spawn_local(async move {
            while alive.load(Ordering::Relaxed) {
                tick().await;
                crate::browser::sleep_ms(ms).await;
            }
        });
    });
}
