#!/usr/bin/env bash
# The Python package's tests: builds the CLI (the reference), builds the
# abi3 wheel with maturin into a virtual environment, installs it with
# pyarrow, pandas, Polars, DuckDB, PySpark and pytest, and runs
# python/tests. Spark needs a Java runtime (.ci/run installs one).
#
# Locally a missing piece (no pip, no Java) is a loud skip; under CI=true
# it fails. DEID_PY_VENV picks the environment (default target/py-venv);
# DEID_SPARK_ROWS the rows of the Spark test (default 1,000,000).
set -euo pipefail
cd "$(dirname "$0")/.."
loud_skip() {
    printf '\n!!!! SKIPPED: %s\n!!!! %s\n\n' "$1" "$2" >&2
    [ "${CI:-}" = true ] && exit 1
    exit 0
}

py=$(command -v python3 || true)
[ -n "$py" ] || loud_skip "Python tests" "python3 is not installed"
venv=${DEID_PY_VENV:-$PWD/target/py-venv}
if [ ! -x "$venv/bin/python" ]; then
    "$py" -m venv "$venv" || loud_skip "Python tests" "python3 -m venv failed (install python3-venv)"
fi
"$venv/bin/python" -m pip install -q --upgrade pip >/dev/null 2>&1 || true
"$venv/bin/python" -m pip install -q maturin pyarrow pandas polars duckdb pyspark pytest ||
    loud_skip "Python tests" "pip could not install maturin, pyarrow, pandas, polars, duckdb, pyspark, pytest"

# Built with a test target, as scripts/test.sh builds it: the dependencies
# then have the dev-dependencies' features and are not compiled a second time.
echo "== deid, profile quick-release (the reference the tests compare with)"
cargo test --profile quick-release --no-run --quiet --test it
export DEID_BIN="$PWD/target/quick-release/deid"
export PYSPARK_PYTHON="$venv/bin/python"

echo "== maturin build (abi3 wheel) and install"
rm -rf target/wheels-py
(cd python && CARGO_TARGET_DIR=../target/python "$venv/bin/maturin" build --profile test-wheel --features fault-injection --quiet --out ../target/wheels-py)
"$venv/bin/python" -m pip install -q --force-reinstall --no-deps target/wheels-py/deid-*.whl

if ! command -v java >/dev/null && [ -z "${JAVA_HOME:-}" ]; then
    printf '\n!!!! no Java runtime: the Spark tests will skip (they fail under CI=true)\n\n' >&2
fi
echo "== pytest python/tests"
cd python/tests
"$venv/bin/python" -m pytest -q -p no:cacheprovider "$@"
