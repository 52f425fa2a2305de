#!/usr/bin/env bash
# Sealing/opening throughput of 4 MiB chunks in headless Chromium (the wasm build the browser runs,
# at the wasm-release profile's crypto optimisation), next to the native criterion figure.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$HOME/.cargo/bin:$PATH"
cd shared
CHROMEDRIVER=/usr/bin/chromedriver \
CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUNNER=wasm-bindgen-test-runner \
  cargo test -p cloister-shared --target wasm32-unknown-unknown --release --test browser_seal_bench -- --nocapture 2>&1 |
  grep -E 'BENCH|test result|panicked' || true
