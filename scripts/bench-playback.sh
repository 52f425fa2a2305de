#!/usr/bin/env bash
# Play-to-first-frame benchmark (docs/benchmarks.md, "Play to first frame"; issue #6): the release
# `cloister serve` on 127.0.0.1 with a temp data dir and a real 720p clip, Chromium opening the video
# view afresh N times with the HTTP cache off, Play → first frame (requestVideoFrameCallback), against
# a plain <video src=…mp4> and a plain MSE player of the same unencrypted media from a static server.
# Prints medians, p90, min, max, the ratios and Cloister's steps. Asserts nothing about time.
# Usage: scripts/bench-playback.sh [--no-build] [--runs 15] [--warmup 2] [--seconds 60] [--bitrate 4M] [--keep]
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$HOME/.cargo/bin:$PWD/end2end/node_modules/.bin:$PATH"
build=1
args=()
for arg in "$@"; do
  if [[ $arg == --no-build ]]; then build=0; else args+=("$arg"); fi
done
if (( build )) || [[ ! -x target/release/cloister || ! -d target/site/pkg ]]; then
  cargo leptos build --release
fi
echo "$(nproc) cores; uptime: $(uptime)"
node end2end/bench/first-frame.mjs "${args[@]}"
echo "uptime: $(uptime)"
