#!/usr/bin/env bash
# Cross-builds deid for 64-bit ARM, runs the checks that matter on a device
# under qemu-user, and compares every deterministic output with the x86-64
# build's byte for byte. Emulated timings are not performance figures.
#
#   scripts/arm64.sh [TARGET...]
#
# TARGETs: aarch64-unknown-linux-gnu and aarch64-unknown-linux-musl (the
# static file the README ships to boards); both when none is named. CI names
# the musl one only: each cross-build costs minutes, and the two share every
# line of Rust.
set -euo pipefail
cd "$(dirname "$0")/.."

for tool in qemu-aarch64 aarch64-linux-gnu-gcc; do
    command -v "$tool" >/dev/null || { echo "arm64: $tool is missing (apt-get install qemu-user gcc-aarch64-linux-gnu)" >&2; exit 1; }
done
if [ "$#" -gt 0 ]; then
    targets=("$@")
else
    targets=(aarch64-unknown-linux-gnu aarch64-unknown-linux-musl)
fi
for t in "${targets[@]}"; do
    case "$t" in
        aarch64-unknown-linux-gnu|aarch64-unknown-linux-musl) ;;
        *) echo "arm64: unknown target '$t' (aarch64-unknown-linux-gnu or aarch64-unknown-linux-musl)" >&2; exit 2 ;;
    esac
done
rustup target add "${targets[@]}" >/dev/null 2>&1 || true

# This script checks behaviour, not speed, and the outputs do not depend on
# the optimizer. The x86-64 reference is the `quick-release` build of
# scripts/test.sh; the aarch64 builds use `cross-check` (Cargo.toml: the
# same, at opt-level 1, which compiles the crate graph in about three
# quarters of the time).
# Each binary is built with a test target, so that its dependencies have the
# dev-dependencies' features: the unit tests below then reuse them instead of
# compiling the crate graph a second time. On aarch64 that target is the
# small `batch_floor` bench (a bench, like an integration test, makes cargo
# build the binary), not the whole integration suite, which runs on x86-64.
echo "== building x86-64 (quick-release) and ${targets[*]} (cross-check) binaries"
cargo test --profile quick-release --no-run --quiet --test it
for t in "${targets[@]}"; do
    cargo test --profile cross-check --no-run --quiet --target "$t" --lib --bench batch_floor
done
host=target/quick-release/deid
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
install -m 600 tests/fixtures/keys.json "$work/keys.json"
policy=tests/fixtures/policy.toml

# Reference outputs from the x86-64 build.
"$host" gen --rows 20000 --seed 9 --naive-hash -o "$work/x86_gen.csv"
"$host" apply -q -p "$policy" -k "$work/keys.json" -o "$work/x86_apply.csv" "$work/x86_gen.csv"
"$host" decrypt -q -p "$policy" -k "$work/keys.json" -o "$work/x86_decrypt.csv" "$work/x86_apply.csv"

check() { if cmp -s "$1" "$2"; then echo "  ok    $3"; else echo "  FAIL  $3 ($1 differs from $2)"; return 1; fi; }

for t in "${targets[@]}"; do
    bin=target/$t/cross-check/deid
    # DEID_EMULATED=1: deid bench says its timings are not performance figures
    # even if this qemu fakes an ARM /proc/cpuinfo.
    run() { DEID_EMULATED=1 qemu-aarch64 -L /usr/aarch64-linux-gnu "$bin" "$@"; }
    echo "== $t under qemu-aarch64: $(file -b "$bin" | cut -d, -f1-2,5)"
    run --version
    run keygen -o "$work/arm_keys_$t.json" 2>/dev/null
    mode=$(stat -c %a "$work/arm_keys_$t.json")
    [ "$mode" = 600 ] && echo "  ok    keygen writes mode 0600" || { echo "  FAIL  keygen mode $mode"; exit 1; }
    run gen --rows 20000 --seed 9 --naive-hash -o "$work/arm_gen.csv"
    check "$work/arm_gen.csv" "$work/x86_gen.csv" "gen: 20,000 rows identical to x86-64"
    run apply -q -p "$policy" -k "$work/keys.json" -o "$work/arm_fixture.csv" tests/fixtures/customers.csv
    check "$work/arm_fixture.csv" tests/fixtures/expected.csv "apply on the fixture: pseudonyms, AES-SIV, FF1, dateshift identical to x86-64 and Python"
    run apply -q -p "$policy" -k "$work/keys.json" -o "$work/arm_apply.csv" "$work/arm_gen.csv"
    check "$work/arm_apply.csv" "$work/x86_apply.csv" "apply on 20,000 generated rows identical to x86-64"
    run decrypt -q -p "$policy" -k "$work/keys.json" -o "$work/arm_decrypt.csv" "$work/arm_apply.csv"
    check "$work/arm_decrypt.csv" "$work/x86_decrypt.csv" "decrypt round trip identical to x86-64"
    if run bench --help >/dev/null 2>&1 && run bench --quick >"$work/bench.txt" 2>&1; then
        echo "  ok    bench --quick ran (emulated: the timings below are not performance figures)"
        head -n 40 "$work/bench.txt" | sed 's/^/        /'
    else
        echo "  --    bench --quick not available in this build"
    fi
    # The interleaved SHA-256 kernel (src/backend/armsha2.rs) and every
    # path that uses it, against the scalar code and the digest crates.
    echo "== $t: unit tests of the SHA-256 kernels and the HMAC batch path under qemu-aarch64"
    runner="CARGO_TARGET_$(echo "$t" | tr 'a-z-' 'A-Z_')_RUNNER"
    if env "$runner=qemu-aarch64 -L /usr/aarch64-linux-gnu" \
        cargo test --profile cross-check --quiet --target "$t" --lib -- backend:: audit::hashes \
        >"$work/unit.txt" 2>&1; then
        echo "  ok    $(grep -E '^test result' "$work/unit.txt" | head -n 1)"
    else
        echo "  FAIL  unit tests under qemu-aarch64:"
        tail -n 40 "$work/unit.txt" | sed 's/^/        /'
        exit 1
    fi
done
echo "arm64: all checks passed"
