#!/usr/bin/env bash
# Loopback benchmark of server-side decrypted downloads beside the machine's plain AES-256-GCM
# speed: the release `cloister serve` on 127.0.0.1 with a temp data dir, D videos of S MiB;
# prints one-at-a-time and D-at-once throughput (medians) and the server's peak RSS.
# Usage: scripts/bench-download.sh [--size-mib 512] [--downloads 2] [--runs 5]
set -euo pipefail
cd "$(dirname "$0")/.."
target="${CARGO_TARGET_DIR:-target}"
cargo build --release -p cloister --bin cloister --example download_bench
echo "load: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "== openssl speed -evp aes-256-gcm (16 KiB blocks, one thread) =="
openssl speed -evp aes-256-gcm -bytes 16384 -seconds 3 2>/dev/null | tail -n 1
echo "== Cloister =="
"$target/release/examples/download_bench" --binary "$target/release/cloister" "$@"
echo "load: $(cut -d' ' -f1-3 /proc/loadavg)"
