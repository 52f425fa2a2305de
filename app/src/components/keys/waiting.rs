use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use leptos::prelude::*;

use crate::session::Session;

/// How often the page asks again, in case the live socket was down when the grant came.
const RECHECK_MS: u32 = 20_000;

/// Keys made, no grant yet. The live socket's `AccessGranted` fetches the status again, and the
/// private key this tab holds opens the new grant (session.rs): nothing to do here but wait.
#[component]
pub fn WaitingForAccess() -> impl IntoView {
    let session = Session::get();
    let alive = Arc::new(AtomicBool::new(true));
    let stop = alive.clone();
    on_cleanup(move || stop.store(false, Ordering::Relaxed));
    // An effect runs only in the browser (natively `sleep_ms` would not wait).
    Effect::new(move |started: Option<()>| {
        if started.is_some() {
            return;
        }
        let alive = alive.clone();
        leptos::task::spawn_local(async move {
            loop {
                crate::browser::sleep_ms(RECHECK_MS).await;
                if !alive.load(Ordering::Relaxed) {
                    break;
                }
                session.refresh_library().await;
            }
        });
    });
    view! {
        <section class="card narrow" data-testid="waiting-for-access">
            <h1>"Waiting for access"</h1>
            <p>"An admin needs to let you in. You will be let in automatically when they do."</p>
            <p class="muted">"You can keep this page open, or come back later and unlock with your passphrase."</p>
        </section>
    }
}
