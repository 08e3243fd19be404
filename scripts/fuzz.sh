#!/usr/bin/env bash
# Builds every cargo-fuzz target in fuzz/ and runs each for a while.
#
#   scripts/fuzz.sh [SECONDS] [TARGET...]
#
# SECONDS per target (default 60); all targets unless some are named.
# Seeds: fuzz/corpus/<target> (committed) and fuzz/regressions/<target>
# (inputs that once crashed: they run first, so a regression fails at once).
# New inputs go to fuzz/target/corpus-work/<target>, crashes to
# fuzz/artifacts/<target>/. Targets run one per core at a time (FUZZ_JOBS
# sets how many). Prints the executions run per target and exits non-zero
# if any target crashed.
# Leak detection is off: the pipeline targets start worker threads, and
# LeakSanitizer reports the thread-local state crossbeam-channel keeps per
# thread as leaked when those threads exit. libFuzzer's -detect_leaks=0 only
# stops its checks between inputs; the check at exit is AddressSanitizer's,
# off through ASAN_OPTIONS (a worker still running its thread-local
# destructors as the process exits was reported there, and the run counted
# as a crash with an empty input). Memory is bounded by -rss_limit_mb
# instead.
set -uo pipefail
cd "$(dirname "$0")/.."

seconds="${1:-60}"
shift || true
case "$seconds" in
    ''|*[!0-9]*) echo "fuzz: SECONDS must be a number, got '$seconds'" >&2; exit 2 ;;
esac

command -v cargo-fuzz >/dev/null || cargo install cargo-fuzz --locked || exit 1
rustup run nightly rustc --version >/dev/null 2>&1 \
    || rustup toolchain install nightly --profile minimal || exit 1

cd fuzz
echo "== building fuzz targets (nightly, debug assertions on)"
cargo +nightly fuzz build --debug-assertions || exit 1

if [ "$#" -gt 0 ]; then
    targets=("$@")
else
    mapfile -t targets < <(cargo +nightly fuzz list)
fi

# Targets run side by side, one per core (FUZZ_JOBS overrides): each is a
# single libFuzzer process, so a 2-core machine halves the wall time.
jobs="${FUZZ_JOBS:-$(nproc 2>/dev/null || echo 1)}"
case "$jobs" in
    ''|*[!0-9]*|0) echo "fuzz: FUZZ_JOBS must be a positive number, got '$jobs'" >&2; exit 2 ;;
esac

# Runs one target; its exit status goes to target/fuzz-<target>.status.
run_target() {
    local t=$1 work="target/corpus-work/$1" log="target/fuzz-$1.log"
    local seeds=("corpus/$t")
    [ -d "regressions/$t" ] && seeds+=("regressions/$t")
    mkdir -p "$work" "artifacts/$t"
    ASAN_OPTIONS="detect_leaks=0${ASAN_OPTIONS:+:$ASAN_OPTIONS}" \
        cargo +nightly fuzz run --debug-assertions "$t" "$work" "${seeds[@]}" -- \
        -max_total_time="$seconds" -print_final_stats=1 -timeout=20 -rss_limit_mb=2560 \
        -detect_leaks=0 \
        -artifact_prefix="artifacts/$t/" >"$log" 2>&1
    echo "$?" >"target/fuzz-$t.status"
}

echo "== ${#targets[@]} targets, ${seconds}s each, $jobs at a time"
for t in "${targets[@]}"; do
    while [ "$(jobs -rp | wc -l)" -ge "$jobs" ]; do wait -n; done
    echo "== $t: ${seconds}s"
    rm -f "target/fuzz-$t.status"
    run_target "$t" &
done
wait

failed=()
summary=()
for t in "${targets[@]}"; do
    log="target/fuzz-$t.log"
    status=$(cat "target/fuzz-$t.status" 2>/dev/null || echo 1)
    execs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$' | tail -n1)
    if [ -z "$execs" ]; then
        execs=$(grep -o '^#[0-9]*' "$log" | tail -n1 | tr -d '#')
    fi
    if [ "$status" -ne 0 ]; then
        failed+=("$t")
        summary+=("$(printf '%-16s %12s executions  CRASH (see fuzz/%s, fuzz/artifacts/%s/)' "$t" "${execs:-?}" "$log" "$t")")
        grep -m1 -E 'panicked at|ERROR: libFuzzer|SUMMARY' "$log" >&2 || tail -n 20 "$log" >&2
    else
        summary+=("$(printf '%-16s %12s executions  ok' "$t" "${execs:-?}")")
    fi
done

echo "== fuzz summary (${seconds}s per target)"
printf '%s\n' "${summary[@]}"
if [ "${#failed[@]}" -gt 0 ]; then
    echo "fuzz: crashes in: ${failed[*]}" >&2
    exit 1
fi
