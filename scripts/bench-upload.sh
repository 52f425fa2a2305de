#!/usr/bin/env bash
# Loopback upload benchmark: the release `cloister serve` on 127.0.0.1 with a temp data dir,
# N clients × S MiB over the upload protocol; prints ingest MB/s and the server's peak RSS.
# Usage: scripts/bench-upload.sh [--clients 4] [--size-mib 1024] [--parallel 3] [--seal]
set -euo pipefail
cd "$(dirname "$0")/.."
target="${CARGO_TARGET_DIR:-target}"
cargo build --release -p cloister --bin cloister --example upload_bench
exec "$target/release/examples/upload_bench" --binary "$target/release/cloister" "$@"
