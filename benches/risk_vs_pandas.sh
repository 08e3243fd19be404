#!/usr/bin/env bash
# deid audit risk against a pandas groupby and a Polars group_by computing
# the same equivalence classes, side by side on the same file.
#
#   benches/risk_vs_pandas.sh [ROWS]     (default 10,000,000)
#
# 8 quasi-identifiers of the kr-customers profile; all three report classes,
# k and unique records, and must agree. pandas and Polars are installed with
# pip if missing; Polars runs on every core, as deid does.
set -euo pipefail
cd "$(dirname "$0")/.."
rows=${1:-10000000}
python3 -c 'import pandas' 2>/dev/null || pip install -q pandas
python3 -c 'import polars' 2>/dev/null || pip install -q polars
cargo build --release --quiet --bin deid
deid=target/release/deid
mkdir -p bench-data
data=bench-data/risk_${rows}.csv
[ -s "$data" ] || $deid gen --rows "$rows" --seed 3 -o "$data"
qi=name,birth_date,sex,postal_code,city,signup_date,balance,email
echo "input: $data ($(( $(stat -c %s "$data") / 1000000 )) MB, $rows rows), $(nproc) cores, QIs: $qi"

t0=$(date +%s.%N)
$deid audit risk "$data" --qi "$qi" --json > bench-data/risk_deid.json
t1=$(date +%s.%N)

python3 - "$data" "$qi" "$t0" "$t1" <<'PY'
import json, sys, time
import pandas as pd
data, qi, t0, t1 = sys.argv[1], sys.argv[2].split(","), float(sys.argv[3]), float(sys.argv[4])
deid_s = t1 - t0
d = json.load(open("bench-data/risk_deid.json"))
a = time.perf_counter()
df = pd.read_csv(data, usecols=qi, dtype=str, keep_default_na=False)
b = time.perf_counter()
sizes = df.groupby(qi, sort=False).size()
c = time.perf_counter()
classes, k, uniques = len(sizes), int(sizes.min()), int((sizes == 1).sum())
print(f"{'run':<40}{'seconds':>10}{'classes':>12}{'k':>4}{'uniques':>12}")
print(f"{'deid audit risk (read + classes + risk)':<40}{deid_s:>10.2f}{d['classes']:>12}{d['k']:>4}{d['records_in_small_classes']['size_1']:>12}")
print(f"{'pandas read_csv + groupby':<40}{c - a:>10.2f}{classes:>12}{k:>4}{uniques:>12}")
print(f"{'  of which groupby alone':<40}{c - b:>10.2f}")
# Polars: every column read as a string (as pandas' dtype=str), then one
# group_by. Polars reads an empty field as null; nulls group together as
# the empty strings do in pandas, so the classes are the same.
import polars as pl
e = time.perf_counter()
pf = pl.read_csv(data, columns=qi, infer_schema=False)
f = time.perf_counter()
lens = pf.group_by(qi).len()["len"]
g = time.perf_counter()
pl_classes, pl_k, pl_uniques = len(lens), int(lens.min()), int((lens == 1).sum())
print(f"{'polars read_csv + group_by().len()':<40}{g - e:>10.2f}{pl_classes:>12}{pl_k:>4}{pl_uniques:>12}")
print(f"{'  of which group_by alone':<40}{g - f:>10.2f}")
same = (classes, k, uniques) == (d["classes"], d["k"], d["records_in_small_classes"]["size_1"])
pl_same = (pl_classes, pl_k, pl_uniques) == (d["classes"], d["k"], d["records_in_small_classes"]["size_1"])
print(f"\nclasses agree: pandas {'yes' if same else 'NO'}, polars {'yes' if pl_same else 'NO'}")
print(f"deid / pandas (same work, file to classes): {(c - a) / deid_s:.1f}x   (target >= 10x)")
print(f"deid / polars (same work, file to classes): {(g - e) / deid_s:.2f}x   (target >= 1x)")
print(f"deid time: {deid_s:.2f} s   (target < 5 s for 10M rows)")
PY
