//! `/api/admin/machine` (gauges: the load status members see, with the gate's limits) and
//! `/api/admin/speed` (the seconds-per-GB history estimates are made from).

use axum::extract::State;
use cloister_shared::api::admin::{GateLimits, MachineStatus, SpeedHistory, SpeedPoint};

use crate::accounts::{AdminUser, CurrentUser};
use crate::error::AppResult;
use crate::http::json::ApiJson;
use crate::jobs::eta;
use crate::state::AppState;

const MIB: u64 = 1024 * 1024;
/// How many finished jobs the chart shows.
const HISTORY: i64 = 50;

pub(super) async fn machine(
    State(state): State<AppState>,
    AdminUser(user): AdminUser,
) -> AppResult<ApiJson<MachineStatus>> {
    // The very answer of `GET /api/status/load`, so gauges and members never disagree.
    let ApiJson(load) =
        crate::jobs::routes::load_status(State(state.clone()), CurrentUser(user)).await?;
    let gate = &state.config.gate;
    let cores = usize::try_from(load.readings.cores).unwrap_or(1);
    let limits = GateLimits {
        min_available_ram_bytes: gate.min_available_ram_mb.saturating_mul(MIB),
        max_ram_percent: gate.max_ram_percent,
        max_swap_used_bytes: gate.max_swap_used_mb.saturating_mul(MIB),
        max_load: gate.load_ceiling(cores),
        disk_reserve_bytes: gate.disk_reserve_bytes,
    };
    Ok(ApiJson(MachineStatus { load, limits }))
}

pub(super) async fn speed(State(state): State<AppState>) -> AppResult<ApiJson<SpeedHistory>> {
    let rows = super::store::speed_points(&state.db, HISTORY).await?;
    let points = rows
        .into_iter()
        .rev()
        .map(
            |(job_id, finished_at, size, seconds, seconds_per_gb)| SpeedPoint {
                job_id,
                finished_at,
                size_bytes: u64::try_from(size).unwrap_or(0),
                seconds,
                seconds_per_gb,
            },
        )
        .collect();
    Ok(ApiJson(SpeedHistory {
        points,
        median_seconds_per_gb: eta::seconds_per_gb(&state.db).await?,
        window: u32::try_from(eta::WINDOW).unwrap_or(0),
        default_seconds_per_gb: eta::DEFAULT_SECONDS_PER_GB,
    }))
}
