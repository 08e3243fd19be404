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
# Host check: the dependency tree without the std feature has no crate that
# enables std on its own.
if cargo tree --no-default-features --features alloc -e normal,features --target thumbv7em-none-eabihf 2>/dev/null | grep -E '"std"' ; then
    echo "a dependency enables its std feature in the no_std build" >&2
    exit 1
fi
echo "no_std check: ok"
