//! The Processing speed section: seconds per GB of recent finished jobs as a small inline SVG
//! chart (no chart library), with the median the estimates use drawn across it.

use cloister_shared::api::admin::{SpeedHistory, SpeedPoint};
use leptos::prelude::*;

use super::format::{bytes, span};
use crate::api;
use crate::components::ErrorLine;

const WIDTH: f64 = 320.0;
const HEIGHT: f64 = 90.0;
const PAD: f64 = 6.0;
const REFRESH_MS: u32 = 30_000;

#[component]
pub fn SpeedPanel() -> impl IntoView {
    let history = RwSignal::new(None::<SpeedHistory>);
    let error = RwSignal::new(None::<String>);
    super::repeat(REFRESH_MS, move || async move {
        match api::speed_history().await {
            Ok(now) => {
                history.try_set(Some(now));
            }
            Err(err) => {
                error.try_set(Some(err.message));
            }
        }
    });
    view! {
        <section class="card" data-testid="admin-speed">
            <h2>"Processing speed"</h2>
            <ErrorLine error/>
            {move || history.get().map(|h| view! { <Chart history=h/> })}
        </section>
    }
}

/// Where each point sits in the chart: x by order, y by seconds per GB (0 at the bottom).
fn layout(points: &[SpeedPoint], top: f64) -> Vec<(f64, f64)> {
    let n = points.len();
    points
        .iter()
        .enumerate()
        .map(|(i, p)| {
            let x = if n > 1 {
                PAD + (WIDTH - 2.0 * PAD) * i as f64 / (n - 1) as f64
            } else {
                WIDTH / 2.0
            };
            (x, y_of(p.seconds_per_gb, top))
        })
        .collect()
}

fn y_of(value: f64, top: f64) -> f64 {
    let share = if top > 0.0 { value / top } else { 0.0 };
    HEIGHT - PAD - (HEIGHT - 2.0 * PAD) * share.clamp(0.0, 1.0)
}

#[component]
fn Chart(history: SpeedHistory) -> impl IntoView {
    let summary = match history.median_seconds_per_gb {
        Some(median) => format!(
            "Median {median:.0} s per GB over the last {} finished jobs: estimates use it.",
            history.window
        ),
        None => format!(
            "No job has finished yet: estimates assume {:.0} s per GB.",
            history.default_seconds_per_gb
        ),
    };
    if history.points.is_empty() {
        return view! { <p class="muted" data-testid="speed-summary">{summary}</p> }.into_any();
    }
    let top = history
        .points
        .iter()
        .map(|p| p.seconds_per_gb)
        .chain(history.median_seconds_per_gb)
        .fold(1.0_f64, f64::max)
        * 1.1;
    let spots = layout(&history.points, top);
    let line = spots
        .iter()
        .map(|(x, y)| format!("{x:.1},{y:.1}"))
        .collect::<Vec<_>>()
        .join(" ");
    let median = history.median_seconds_per_gb.map(|m| {
        let y = y_of(m, top);
        view! { <line class="speed-median" x1="0" x2=WIDTH.to_string() y1=format!("{y:.1}") y2=format!("{y:.1}")/> }
    });
    let dots = history
        .points
        .iter()
        .zip(spots.iter())
        .map(|(p, (x, y))| {
            let title = format!(
                "{:.0} s per GB: {} in {}",
                p.seconds_per_gb,
                bytes(p.size_bytes),
                span(p.seconds.round() as u64)
            );
            view! { <circle class="speed-dot" cx=format!("{x:.1}") cy=format!("{y:.1}") r="3"><title>{title}</title></circle> }
        })
        .collect_view();
    view! {
        <svg class="speed-chart" data-testid="speed-chart" viewBox=format!("0 0 {WIDTH} {HEIGHT}")
            role="img" aria-label=format!("Seconds per GB of the last {} jobs", history.points.len())>
            {median}
            <polyline class="speed-line" points=line/>
            {dots}
        </svg>
        <p class="muted" data-testid="speed-summary">
            {summary}" Highest shown: "{format!("{:.0}", top / 1.1)}" s per GB."
        </p>
    }
    .into_any()
}
