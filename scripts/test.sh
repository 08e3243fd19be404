#!/usr/bin/env bash
# The test command of the README: the whole suite under the three feature sets
# that matter (full CLI, pure no_std core, core + alloc).
set -euo pipefail
cd "$(dirname "$0")/.."
echo "== cargo test (default features: std, ring, cli)"
cargo test --all-targets --quiet
cargo test --doc --quiet
echo "== cargo test --no-default-features (no_std core, no alloc)"
cargo test --no-default-features --lib --tests --quiet
echo "== cargo test --no-default-features --features alloc"
cargo test --no-default-features --features alloc --lib --tests --quiet
