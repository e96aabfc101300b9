#!/usr/bin/env bash
# Runs every fuzz target for a short while (default 20 s each); fails on
# the first crash and leaves the crashing input in artifacts/<target>/.
#
# cargo-fuzz needs nightly-only compiler flags (-Zsanitizer=address, …).
# Where only a stable toolchain is installed, RUSTC_BOOTSTRAP=1 lets stable
# rustc accept them; with a nightly toolchain it is harmless.
#
#   cargo install cargo-fuzz
#   kiosk-hal/fuzz/run-briefly.sh                          # 20 s per target
#   SECONDS_PER_TARGET=300 kiosk-hal/fuzz/run-briefly.sh
set -euo pipefail
cd "$(dirname "$0")"
export RUSTC_BOOTSTRAP=1
seconds="${SECONDS_PER_TARGET:-20}"
log="$(mktemp)"
trap 'rm -f "$log"' EXIT
for target in id003_decoder ssp_decoder ccnet_decoder cctalk_decoder escpos_commands escpos_status scanner_lines evdev_keys; do
    echo "== fuzz $target for ${seconds}s"
    if ! cargo fuzz run -O "$target" -- -max_total_time="$seconds" -print_final_stats=1 >"$log" 2>&1; then
        tail -n 40 "$log"
        echo "== $target FAILED"
        exit 1
    fi
    grep -E '^Done|stat::number_of_executed_units|stat::peak_rss_mb' "$log" || true
done
echo "== all fuzz targets ran clean"
