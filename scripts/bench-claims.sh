#!/usr/bin/env bash
# Claim throughput benchmark (docs/benchmarks.md, "Claiming jobs"; issue 16): jobs per second that
# 1 and 4 worker processes take through the real claim → finish path with empty work, each on its
# own pool, each run on a fresh queue; the ratio 4/1, the p50/p99 of one claim, and checks that
# every job was done exactly once and every process claimed one. Prints cores and load averages.
# Usage: scripts/bench-claims.sh [--postgres] [--jobs 1000] [--processes 1,4] [--runs 5]
#                                [--members 4] [--batch 500]
# --postgres: each run's library in a fresh database of a throwaway PostgreSQL cluster
# (scripts/with-postgres), instead of SQLite in a temp data directory.
set -euo pipefail
cd "$(dirname "$0")/.."
target="${CARGO_TARGET_DIR:-target}"
cargo build --release -p cloister --example claim_bench
bench="$target/release/examples/claim_bench"
if [ "${1:-}" = "--postgres" ]; then
  shift
  # shellcheck disable=SC2016 # expanded by the inner shell, once the cluster runs
  exec scripts/with-postgres bash -c '
    set -euo pipefail
    export CLOISTER_BENCH_POSTGRES="$CLOISTER_TEST_POSTGRES"
    psql "$CLOISTER_BENCH_POSTGRES" -qAtc "SHOW server_version" | sed "s/^/PostgreSQL server_version: /"
    "$@"' bench "$bench" "$@"
fi
exec "$bench" "$@"
