#!/usr/bin/env bash
# Runs every fuzz target for a short while (default 20 s each); fails on
# the first crash and leaves the crashing input in artifacts/<target>/.
#
# cargo-fuzz needs nightly-only compiler flags (-Zsanitizer=address, …).
# Where only a stable toolchain is installed, RUSTC_BOOTSTRAP=1 lets stable
# rustc accept them; with a nightly toolchain it is harmless.
#
# All targets are built in one `cargo fuzz build`, then run side by side,
# one per core (FUZZ_JOBS, default `nproc`): each target still gets a whole
# core for its time, and the wall time is divided by the number of cores.
#
#   cargo install cargo-fuzz
#   kiosk-hal/fuzz/run-briefly.sh                          # 20 s per target
#   SECONDS_PER_TARGET=300 kiosk-hal/fuzz/run-briefly.sh
#   FUZZ_JOBS=1 kiosk-hal/fuzz/run-briefly.sh              # one at a time
set -euo pipefail
cd "$(dirname "$0")"
export RUSTC_BOOTSTRAP=1
seconds="${SECONDS_PER_TARGET:-20}"
jobs="${FUZZ_JOBS:-$(nproc)}"
targets=(id003_decoder ssp_decoder ccnet_decoder cctalk_decoder escpos_commands escpos_status scanner_lines evdev_keys)

echo "== fuzz: building ${#targets[@]} targets"
cargo fuzz build -O
triple="$(rustc -vV | sed -n 's/^host: //p')"
bin_dir="${CARGO_TARGET_DIR:-target}/$triple/release"

logs="$(mktemp -d)"
trap 'rm -rf "$logs"' EXIT

# Runs one target as `cargo fuzz run` would (same corpus and artifact
# directories), its output in its own log.
run_target() {
    local target="$1"
    mkdir -p "corpus/$target" "artifacts/$target"
    "$bin_dir/$target" -artifact_prefix="artifacts/$target/" -max_total_time="$seconds" \
        -print_final_stats=1 "corpus/$target" >"$logs/$target.log" 2>&1
}

failed=""
pids=()
names=()
# Waits for the oldest running target and reports it.
reap() {
    local pid="${pids[0]}" target="${names[0]}"
    pids=("${pids[@]:1}")
    names=("${names[@]:1}")
    if wait "$pid"; then
        echo "== fuzz $target for ${seconds}s"
        grep -E '^Done|stat::number_of_executed_units|stat::peak_rss_mb' "$logs/$target.log" || true
    else
        tail -n 40 "$logs/$target.log"
        echo "== $target FAILED"
        failed="$failed $target"
    fi
}
for target in "${targets[@]}"; do
    if [ "${#pids[@]}" -ge "$jobs" ]; then reap; fi
    run_target "$target" &
    pids+=("$!")
    names+=("$target")
done
while [ "${#pids[@]}" -gt 0 ]; do reap; done

if [ -n "$failed" ]; then
    echo "== fuzz targets failed:$failed"
    exit 1
fi
echo "== all fuzz targets ran clean"
