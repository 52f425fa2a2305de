#!/usr/bin/env bash
# Gallery listing benchmark (docs/benchmarks.md, "Gallery listing"; issue #6): median and p99 of
# `GET /api/videos` through the real router, in process, with 100,000 videos in a temp library;
# and of `videos::list::page` alone. Prints the query plan, the machine's cores and load averages.
# Usage: scripts/bench-gallery.sh [--videos 100000] [--runs 1000] [--depth-runs 200]
#                                 [--depths 1,100,1000,1999] [--users 4] [--seed 6]
set -euo pipefail
cd "$(dirname "$0")/.."
target="${CARGO_TARGET_DIR:-target}"
cargo build --release -p cloister --example gallery_bench
exec "$target/release/examples/gallery_bench" "$@"
