//! The server-busy banner at the top of the app, the one place that says the server is busy
//! (docs/architecture.md, "Messages members see"): one plain sentence with the server's honest
//! estimate, and the reasons in plain words on demand; the figures are on the admin page only.
//! It reads `GET /api/status/load` every 15 s while someone is signed in, and at once when a job
//! was deferred (the event says the gate just said no).

use leptos::prelude::*;

use cloister_shared::api::Role;

use super::{words, Notices};
use crate::session::{Auth, Session};

/// What the banner shows while the gate is closed.
#[derive(Debug, Clone, PartialEq)]
struct Busy {
    plain_reasons: Vec<String>,
    estimate_seconds: Option<u64>,
}

#[cfg(feature = "hydrate")]
/// How often the load is read while nothing else asks.
const POLL_MS: u32 = 15_000;
#[cfg(feature = "hydrate")]
/// At least this long between two reads, however often jobs are deferred.
const MIN_GAP_MS: u32 = 2_000;
#[cfg(feature = "hydrate")]
/// The loop's tick: how soon a sign-out or a poke is noticed.
const TICK_MS: u32 = 250;

#[component]
pub fn ServerBusyBanner() -> impl IntoView {
    let session = Session::get();
    let notices = Notices::get();
    // `Some` while the gate is closed.
    let busy = RwSignal::new(None::<Busy>);
    let is_admin =
        move || matches!(session.auth.get(), Auth::SignedIn(me) if me.role == Role::Admin);
    // Each sign-in starts a new polling loop; an older loop sees the number change and ends.
    let generation = StoredValue::new(0u64);
    Effect::new(move |_| {
        let signed_in = matches!(session.auth.get(), Auth::SignedIn(_));
        generation.update_value(|g| *g += 1);
        busy.set(None);
        if signed_in {
            poll(generation, busy, notices);
        }
    });
    move || {
        busy.get().map(|busy| {
            let reasons = busy.plain_reasons.join(" ");
            view! {
                <div class="server-busy" role="status" data-testid="server-busy">
                    <p class="server-busy-text">{words::server_busy(busy.estimate_seconds)}</p>
                    <details class="server-busy-details">
                        <summary>"Details"</summary>
                        <p data-testid="server-busy-reasons">{reasons}</p>
                        <p>{words::SERVER_BUSY_STILL_WORKS}</p>
                        <Show when=is_admin>
                            <p>"Admins: the readings and limits are on the " <a href="/admin">"admin page"</a>"."</p>
                        </Show>
                    </details>
                </div>
            }
        })
    }
}

#[cfg(feature = "hydrate")]
fn poll(generation: StoredValue<u64>, busy: RwSignal<Option<Busy>>, notices: Notices) {
    let mine = generation.get_value();
    leptos::task::spawn_local(async move {
        let current = move || generation.try_get_value() == Some(mine);
        while current() {
            let poked = notices.load_poke.get_untracked();
            if let Ok(status) = crate::api::load_status().await {
                if !current() {
                    break;
                }
                busy.try_set((!status.gate_open).then_some(Busy {
                    plain_reasons: status.plain_reasons,
                    estimate_seconds: status.busy_estimate_seconds,
                }));
            }
            // An unreadable answer (503: the machine could not be read) leaves the banner as is.
            let mut waited = 0;
            while waited < POLL_MS
                && current()
                && (waited < MIN_GAP_MS || notices.load_poke.get_untracked() == poked)
            {
                crate::browser::sleep_ms(TICK_MS).await;
                waited += TICK_MS;
            }
        }
    });
}

#[cfg(not(feature = "hydrate"))]
fn poll(_generation: StoredValue<u64>, _busy: RwSignal<Option<Busy>>, _notices: Notices) {}
