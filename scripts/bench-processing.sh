#!/usr/bin/env bash
# Processing benchmark (docs/benchmarks.md, "Processing"): on a 1080p H.264 clip (remuxed) and a
# 1080p MPEG-4 clip (transcoded), the pipeline's wall time against plain ffmpeg doing the same
# segmenting, and the peak RSS of server plus ffmpeg. Medians over alternating runs.
# Usage: scripts/bench-processing.sh [--seconds 60] [--runs 3] [--inputs DIR] [--only remux|transcode]
set -euo pipefail
cd "$(dirname "$0")/.."
target="${CARGO_TARGET_DIR:-target}"
cargo build --release -p cloister --example process_bench
exec "$target/release/examples/process_bench" "$@"
