#!/usr/bin/env bash
# Sealed-stream throughput (criterion, 4 MiB chunks) next to
# `openssl speed -evp aes-256-gcm` on this machine. Timings are noisy:
# we report criterion's median and never assert on speed.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
target="${CARGO_TARGET_DIR:-$root/target}"
chunk=$((4 * 1024 * 1024))

cargo bench -p cloister-shared --bench stream

# Median time per 4 MiB chunk (ns) from criterion's saved estimates.
median_ns() {
    jq -r '.median.point_estimate' "$target/criterion/stream/$1/new/estimates.json"
}
seal_ns="$(median_ns seal_4MiB)"
open_ns="$(median_ns open_4MiB)"

# Result line looks like "AES-256-GCM  4211246.55k" (units of 1000 bytes/s).
openssl_out="$(openssl speed -evp aes-256-gcm -seconds 3 -bytes 16384 2>/dev/null)"
openssl_k="$(printf '%s\n' "$openssl_out" |
    awk 'tolower($1) == "aes-256-gcm" && $NF ~ /k$/ { v = $NF } END { sub(/k$/, "", v); print v }')"
for v in "$seal_ns" "$open_ns" "$openssl_k"; do
    [[ "$v" =~ ^[0-9.e+-]+$ ]] || { echo "could not parse a benchmark figure: '$v'" >&2; exit 1; }
done

awk -v c="$chunk" -v s="$seal_ns" -v o="$open_ns" -v k="$openssl_k" 'BEGIN {
    seal = c / s * 1000; open = c / o * 1000; ossl = k / 1000   # MB/s (10^6 B/s)
    printf "cloister seal (4 MiB chunk, median): %8.1f MB/s\n", seal
    printf "cloister open (4 MiB chunk, median): %8.1f MB/s\n", open
    printf "openssl aes-256-gcm (16 KiB blocks): %8.1f MB/s\n", ossl
    printf "ratio cloister seal / openssl:       %8.2f\n", seal / ossl
    printf "ratio cloister open / openssl:       %8.2f\n", open / ossl
}'
