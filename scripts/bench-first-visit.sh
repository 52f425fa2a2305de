#!/usr/bin/env bash
# The first visit (docs/benchmarks.md, "First visit"): builds a baseline commit (default 45a8ecc,
# main before the first-visit work) in a temporary directory and this tree, serves each, and
# measures a first visit to /login in Chromium, median of RUNS: bytes on the wire, bytes of
# WebAssembly on the wire, and time to interactive at 1.6 Mbit/s with 150 ms latency.
#   scripts/bench-first-visit.sh [BASELINE_COMMIT]
# BENCH_DIR (default /tmp/cloister-bench-first-visit) keeps the baseline build between runs;
# PORT_BASE (default 3131) and PORT_BASE+1 are the two servers' ports; BUILT=1 measures the site
# already built in target/ (after `cargo leptos build --release --split` and `compress-site`).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
export PATH="$HOME/.cargo/bin:$root/end2end/node_modules/.bin:$PATH"
baseline=${1:-45a8ecc}
runs=${RUNS:-5}
work=${BENCH_DIR:-/tmp/cloister-bench-first-visit}
port=${PORT_BASE:-3131}
mkdir -p "$work"
base_tree="$work/baseline-$(git rev-parse --short "$baseline")"

if [ ! -x "$base_tree/target/release/cloister" ] || [ ! -d "$base_tree/target/site/pkg" ]; then
  echo "==> building the baseline $baseline in $base_tree (long: a full release build)"
  rm -rf "$base_tree" && mkdir -p "$base_tree"
  git archive "$baseline" | tar -x -C "$base_tree"
  # Start from this tree's compiled dependencies: only the workspace crates build again.
  [ -d target ] && cp -a target "$base_tree/target" && rm -rf "$base_tree/target/site"
  ln -s "$root/end2end/node_modules" "$base_tree/end2end/node_modules"
  (cd "$base_tree" && cargo leptos build --release)
fi

if [ "${BUILT:-0}" != 1 ]; then
  echo "==> building this tree"
  cargo leptos build --release --split
  target/release/cloister compress-site --site-root target/site
fi

pids=()
cleanup() { for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done; }
trap cleanup EXIT
serve() { # tree port
  local data="$work/data-$2"
  rm -rf "$data" && mkdir -p "$data"
  "$1/target/release/cloister" serve --data-dir "$data" --site-root "$1/target/site" \
    --addr "127.0.0.1:$2" --workers 0 >"$work/server-$2.log" 2>&1 &
  pids+=($!)
  for _ in $(seq 100); do
    curl -fs "http://127.0.0.1:$2/api/health" >/dev/null && return
    sleep 0.2
  done
  echo "the server on port $2 did not start: $work/server-$2.log" >&2
  exit 1
}
serve "$base_tree" "$port"
serve "$root" "$((port + 1))"

echo "==> measuring ($runs runs each, baseline first)"
before=$(cd end2end && node bench/first-visit.mjs "http://127.0.0.1:$port" "baseline $baseline" "$runs")
after=$(cd end2end && node bench/first-visit.mjs "http://127.0.0.1:$((port + 1))" "this tree $(git rev-parse --short HEAD)" "$runs")
echo "$before"
echo "$after"
node -e '
const [a, b] = process.argv.slice(1).map(JSON.parse);
const kb = (n) => (n / 1000).toFixed(0) + " KB";
const s = (n) => (n / 1000).toFixed(2) + " s";
const row = (name, f, x, y) => console.log(`| ${name} | ${f(x)} | ${f(y)} | ${(y / x).toFixed(2)} |`);
console.log(`| First visit to /login (median of ${a.runs}) | ${a.label} | ${b.label} | ratio |`);
console.log("|---|---|---|---|");
row("Bytes on the wire", kb, a.wireBytes, b.wireBytes);
row("WebAssembly on the wire", kb, a.wasmBytes, b.wasmBytes);
row("Interactive at 1.6 Mbit/s, 150 ms", s, a.interactiveMsSlow, b.interactiveMsSlow);
row("Interactive on loopback, no emulation", s, a.interactiveMsLocal, b.interactiveMsLocal);
' "$before" "$after"
uptime
