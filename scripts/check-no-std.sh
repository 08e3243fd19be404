#!/usr/bin/env bash
# Proves the core does not link std without the feature: build the library for
# a target that has no std at all. If anything in the dependency graph pulled
# std in, this fails with "can't find crate for `std`".
set -euo pipefail
cd "$(dirname "$0")/.."
for features in "" "alloc"; do
    echo "no_std check: --no-default-features ${features:+--features $features}"
    cargo check --lib --no-default-features ${features:+--features "$features"} --target thumbv7em-none-eabihf --quiet
done
# The smaller cores: Cortex-M0+ (no atomic read-modify-write, no DSP
# instructions) and RV32IMAC. examples/firmware runs the core on both.
for target in thumbv6m-none-eabi riscv32imac-unknown-none-elf; do
    if rustup target list --installed 2>/dev/null | grep -qx "$target" || rustup target add "$target" >/dev/null 2>&1; then
        echo "no_std check: --no-default-features --target $target"
        cargo check --lib --no-default-features --target "$target" --quiet
    else
        echo "!!!! no_std check for $target SKIPPED: rustup could not add the target" >&2
    fi
done
# Host check: the dependency tree without the std feature has no crate that
# enables std on its own.
if cargo tree --no-default-features --features alloc -e normal,features --target thumbv7em-none-eabihf 2>/dev/null | grep -E '"std"' ; then
    echo "a dependency enables its std feature in the no_std build" >&2
    exit 1
fi
echo "no_std check: ok"
