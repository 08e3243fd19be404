#!/usr/bin/env bash
# Python and Spark benchmarks of deid, each beside its peer (see
# benches/python_bench.py): builds the CLI and the wheel into the virtual
# environment of scripts/test-python.sh, then runs. DEID_BENCH_ROWS sets the
# rows (default 1,000,000); DEID_WHEEL_PROFILE the wheel's cargo profile
# (default release; test-wheel reuses the build of scripts/test-python.sh,
# without LTO, and its figures say so).
set -euo pipefail
cd "$(dirname "$0")/.."
venv=${DEID_PY_VENV:-$PWD/target/py-venv}
[ -x "$venv/bin/python" ] || python3 -m venv "$venv"
"$venv/bin/python" -m pip install -q maturin pyarrow pandas pyspark
cargo build --release --bin deid --quiet
export DEID_BIN="$PWD/target/release/deid"
export PYSPARK_PYTHON="$venv/bin/python"
rm -rf target/wheels-py
(cd python && CARGO_TARGET_DIR=../target/python "$venv/bin/maturin" build --profile "${DEID_WHEEL_PROFILE:-release}" --quiet --out ../target/wheels-py)
echo "wheel profile: ${DEID_WHEEL_PROFILE:-release}"
"$venv/bin/python" -m pip install -q --force-reinstall --no-deps target/wheels-py/deid-*.whl
exec "$venv/bin/python" benches/python_bench.py
