#!/usr/bin/env bash
# Gallery listing benchmark (docs/benchmarks.md, "Gallery listing"; issue #6): median and p99 of
# `GET /api/videos` through the real router, in process, with 100,000 videos in a temp library;
# and of `videos::list::page` alone. Prints the query plan, the machine's cores and load averages.
# Usage: scripts/bench-gallery.sh [--postgres] [--videos 100000] [--runs 1000] [--depth-runs 200]
#                                 [--depths 1,100,1000,1999] [--users 4] [--seed 6]
# --postgres: the library in a fresh database of a throwaway PostgreSQL cluster
# (scripts/with-postgres), instead of SQLite in the temp data directory.
set -euo pipefail
cd "$(dirname "$0")/.."
target="${CARGO_TARGET_DIR:-target}"
cargo build --release -p cloister --example gallery_bench
bench="$target/release/examples/gallery_bench"
if [ "${1:-}" = "--postgres" ]; then
  shift
  # shellcheck disable=SC2016 # expanded by the inner shell, once the cluster runs
  exec scripts/with-postgres bash -c '
    set -euo pipefail
    psql "$CLOISTER_TEST_POSTGRES" -q -v ON_ERROR_STOP=1 -c "CREATE DATABASE gallery_bench"
    export CLOISTER_DATABASE_URL="${CLOISTER_TEST_POSTGRES%/*}/gallery_bench"
    psql "$CLOISTER_DATABASE_URL" -qAtc "SHOW server_version" | sed "s/^/PostgreSQL server_version: /"
    "$@"' bench "$bench" "$@"
fi
exec "$bench" "$@"
