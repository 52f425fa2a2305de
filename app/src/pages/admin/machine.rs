//! The Machine section: RAM, swap, load and disk against the gate's limits, refreshed every few
//! seconds, with the gate's verdict and its reasons in words.

use cloister_shared::api::admin::MachineStatus;
use leptos::prelude::*;

use super::format::bytes;
use crate::api;
use crate::components::ErrorLine;

const REFRESH_MS: u32 = 3000;

#[component]
pub fn MachinePanel() -> impl IntoView {
    let status = RwSignal::new(None::<MachineStatus>);
    let error = RwSignal::new(None::<String>);
    super::repeat(REFRESH_MS, move || async move {
        match api::machine().await {
            Ok(now) => {
                status.try_set(Some(now));
                error.try_set(None);
            }
            Err(err) => {
                error.try_set(Some(err.message));
            }
        }
    });
    view! {
        <section class="card" data-testid="admin-machine">
            <h2>"Machine"</h2>
            <ErrorLine error/>
            {move || status.get().map(|s| view! { <Gauges status=s/> })}
        </section>
    }
}

/// One bar: `fill` and `limit` are fractions of the bar (0–1); over the limit it turns red. No
/// `fill`: the reading has no scale (free disk), only words.
#[component]
fn Gauge(
    name: &'static str,
    fill: Option<f64>,
    limit: f64,
    over: bool,
    text: String,
) -> impl IntoView {
    let percent = |f: f64| format!("{:.1}%", (f * 100.0).clamp(0.0, 100.0));
    let bar = fill.map(|fill| {
        view! {
            <div class="gauge" class:over=over role="meter" aria-label=name
                aria-valuemin="0" aria-valuemax="100"
                aria-valuenow=format!("{:.0}", (fill * 100.0).clamp(0.0, 100.0))>
                <div class="gauge-fill" style=format!("width: {}", percent(fill))></div>
                <div class="gauge-limit" style=format!("left: {}", percent(limit))></div>
            </div>
        }
    });
    view! {
        <div class="gauge-row" class:over=over data-testid=format!("gauge-{}", name.to_lowercase())>
            <span class="gauge-name">{name}</span>
            {bar}
            <span class="gauge-text">{text}</span>
        </div>
    }
}

#[component]
fn Gauges(status: MachineStatus) -> impl IntoView {
    let (r, l) = (&status.load.readings, &status.limits);
    let ram_over =
        r.ram_percent >= l.max_ram_percent || r.available_ram_bytes <= l.min_available_ram_bytes;
    let ram = format!(
        "{:.0} % used, {} available of {} (limit {:.0} %, more than {} available)",
        r.ram_percent,
        bytes(r.available_ram_bytes),
        bytes(r.total_ram_bytes),
        l.max_ram_percent,
        bytes(l.min_available_ram_bytes)
    );
    // Swap and load have no natural maximum: the bar is twice the limit, the limit in the middle.
    let half = |value: f64, limit: f64| {
        if limit > 0.0 {
            value / (2.0 * limit)
        } else {
            1.0
        }
    };
    let swap = format!(
        "{} used (limit {})",
        bytes(r.swap_used_bytes),
        bytes(l.max_swap_used_bytes)
    );
    let load = format!(
        "{:.2} over the last minute on {} cores (limit {:.1})",
        r.load_1m, r.cores, l.max_load
    );
    let swap_over = r.swap_used_bytes >= l.max_swap_used_bytes;
    let load_over = r.load_1m >= l.max_load;
    let disk_over = r.disk_free_bytes <= l.disk_reserve_bytes;
    let disk = format!(
        "{} free (a job needs twice its size plus {})",
        bytes(r.disk_free_bytes),
        bytes(l.disk_reserve_bytes)
    );
    let verdict = if status.load.gate_open {
        "Gate open: a job of ordinary size may start now.".to_owned()
    } else {
        "Gate closed: new jobs wait until resources free up.".to_owned()
    };
    let reasons = status.load.reasons.clone();
    let queue = format!(
        "{} job(s) queued or running, {} running on {} worker(s).",
        status.load.queue_length, status.load.running_jobs, status.load.workers
    );
    view! {
        <Gauge name="RAM" fill=Some(r.ram_percent / 100.0) limit=l.max_ram_percent / 100.0
            over=ram_over text=ram/>
        <Gauge name="Swap" fill=Some(half(r.swap_used_bytes as f64, l.max_swap_used_bytes as f64))
            limit=0.5 over=swap_over text=swap/>
        <Gauge name="Load" fill=Some(half(r.load_1m, l.max_load)) limit=0.5
            over=load_over text=load/>
        <Gauge name="Disk" fill=None limit=0.0 over=disk_over text=disk/>
        <p class="gate-verdict" class:error=!status.load.gate_open data-testid="gate-verdict"
            data-open=status.load.gate_open.to_string()>{verdict}</p>
        <ul class="gate-reasons" data-testid="gate-reasons">
            {reasons.into_iter().map(|reason| view! { <li>{reason}</li> }).collect_view()}
        </ul>
        <p class="muted">{queue}</p>
    }
}
