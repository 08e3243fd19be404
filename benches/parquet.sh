#!/usr/bin/env bash
# deid apply on Parquet against its floor, the CSV path and pyarrow + hmac,
# side by side in one run.
#
#   benches/parquet.sh [ROWS]      (default 8000000: about 1 GB as CSV)
#
# Every figure is the best of RUNS runs (default 3); the Parquet and CSV runs
# alternate, and their ratios are also printed pair by pair.
#
# (a) the all-keep floor on the same Parquet file (decode, encode);
# (b) the same rows as CSV through the same policy;
# (c) pyarrow + Python hmac/hashlib doing the same pseudonyms, run on a slice
#     (PY_ROWS, default 200000) and scaled;
# (d) the same policy with city and sex kept, to show what transforming
#     the dictionary columns costs;
# (e) the same rows as a snappy file (as pandas and Spark write) written as
#     zstd: the kept column is copied page by page into the other codec.
# The policy pseudonymizes phone and email (HMAC-SHA256), masks city and
# pseudonymizes sex (both dictionary-encoded: one transform per distinct
# value), takes birth_date (Date32) to its year and drops name. Prints MB/s,
# rows/s, peak RSS, CPU seconds (user + system) and the ratios, the Parquet
# to CSV one by wall time (the target), by CPU time and by user time. Data is cached
# under bench-data/.
set -euo pipefail
cd "$(dirname "$0")/.."
rows=${1:-8000000}
py_rows=${PY_ROWS:-200000}
python3 -c "import pyarrow" 2>/dev/null || python3 -m pip install -q pyarrow
cargo build --release --quiet --bin deid
deid=target/release/deid
mkdir -p bench-data
pq=bench-data/customers_${rows}.parquet
csv=bench-data/customers_${rows}.csv
[ -s "$pq" ] || $deid gen --rows "$rows" --seed 1 -o "$pq"
[ -s "$csv" ] || $deid gen --rows "$rows" --seed 1 -o "$csv"
keys=bench-data/keys.json
[ -s "$keys" ] || $deid keygen -o "$keys" >/dev/null
pol=bench-data/parquet_policy.toml
cat > "$pol" <<'TOML'
version = 1
[fields.phone]
transform = "pseudonymize"
[fields.email]
transform = "pseudonymize"
[fields.city]
transform = "mask"
keep_first = 1
keep_last = 0
[fields.sex]
transform = "pseudonymize"
[fields.birth_date]
transform = "generalize"
to = "year"
[fields.name]
transform = "drop"
TOML
keep=bench-data/keep_policy.toml
printf 'version = 1\n' > "$keep"
# The same policy with the dictionary columns (city, sex) kept: the
# difference is what transforming them costs.
nodict=bench-data/nodict_policy.toml
python3 - "$pol" "$nodict" <<'PY'
import re, sys
text = open(sys.argv[1]).read()
text = re.sub(r"\[fields\.(city|sex)\][^\[]*", "", text)
open(sys.argv[2], "w").write(text)
PY

# once NAME CMD...: runs CMD once, appending its wall seconds, CPU seconds
# (user + system), user seconds and peak RSS (KB) to bench-data/runs-NAME.txt;
# a failed run stops the bench with the command's own error (a failure must
# never read as a speed).
once() {
    local name=$1; shift
    local t0 t1 kb user sys
    t0=$(date +%s.%N)
    if ! /usr/bin/time -o bench-data/time.txt -f '%M %U %S' "$@" >/dev/null 2>bench-data/err.txt; then
        echo "benches/parquet.sh: $name failed:" >&2; cat bench-data/err.txt >&2; exit 1
    fi
    t1=$(date +%s.%N)
    read -r kb user sys < <(tail -1 bench-data/time.txt)
    python3 -c "print($t1 - $t0, $user + $sys, $user, ${kb:-0})" >> "bench-data/runs-$name.txt"
}
# best NAME: the best wall seconds of its runs, the peak RSS (MB) and the
# least CPU and user seconds of a run.
best() {
    python3 - "bench-data/runs-$1.txt" "$1" <<'PY'
import sys
runs = [list(map(float, l.split())) for l in open(sys.argv[1]) if l.strip()]
print(sys.argv[2], min(r[0] for r in runs), int(max(r[3] for r in runs) / 1024),
      min(r[1] for r in runs), min(r[2] for r in runs))
PY
}
# run NAME CMD...: RUNS runs (default 3, as benches/apply.sh: one run alone
# swings by a tenth on a shared machine), then `best`.
run() {
    local name=$1; shift
    rm -f "bench-data/runs-$name.txt"
    for _ in $(seq "${RUNS:-3}"); do once "$name" "$@"; done
    best "$name"
}
pq_bytes=$(stat -c %s "$pq"); csv_bytes=$(stat -c %s "$csv")
# The Parquet and CSV runs alternate, so that each pair meets the machine
# in the same state: on a shared VM its speed drifts by a third over
# minutes, and runs of one kind taken together compare their minute with
# the other's. The ratios are also given pair by pair.
rm -f bench-data/runs-parquet.txt bench-data/runs-csv.txt
for _ in $(seq "${RUNS:-3}"); do
    once parquet $deid apply -q -p "$pol" -k "$keys" -o bench-data/out.parquet "$pq"
    once csv $deid apply -q -p "$pol" -k "$keys" -o bench-data/out.csv "$csv"
done
read -r _ t_pq rss_pq cpu_pq user_pq < <(best parquet)
read -r _ t_csv rss_csv cpu_csv user_csv < <(best csv)
read -r _ t_floor rss_floor cpu_floor _ < <(run floor $deid apply -q -p "$keep" -k "$keys" -o bench-data/out_keep.parquet "$pq")
read -r _ t_nodict _ _ _ < <(run nodict $deid apply -q -p "$nodict" -k "$keys" -o bench-data/out_nodict.parquet "$pq")
snappy=bench-data/customers_${rows}_snappy.parquet
[ -s "$snappy" ] || $deid apply -q -p "$keep" -k "$keys" --compression snappy -o "$snappy" "$pq"
read -r _ t_cross _ _ _ < <(run cross $deid apply -q -p "$pol" -k "$keys" --compression zstd -o bench-data/out_cross.parquet "$snappy")
cat > bench-data/pyarrow_hmac.py <<'PY'
import sys, hmac, hashlib, json, base64
import pyarrow as pa, pyarrow.parquet as pq, pyarrow.compute as pc
src, n = sys.argv[1], int(sys.argv[2])
key = hashlib.sha256(b"bench").digest()
t = pq.ParquetFile(src).read_row_groups([0]).slice(0, n)
while t.num_rows < n:
    t = pa.concat_tables([t, t]).slice(0, n)
def ps(col):
    return pa.array([None if v is None else hmac.new(key, v.encode(), hashlib.sha256).hexdigest()[:32] for v in col.to_pylist()])
out = {
    "customer_id": t["customer_id"],
    "phone": ps(t["phone"]), "email": ps(t["email"]),
    "city": pa.array([None if v is None else v[:1] + "*" * (len(v) - 1) for v in t["city"].to_pylist()]),
    "sex": ps(t["sex"]),
    "birth_date": pc.cast(pc.year(t["birth_date"]), pa.string()),
}
pq.write_table(pa.table(out), sys.argv[3])
PY
read -r _ t_py rss_py cpu_py _ < <(run python python3 bench-data/pyarrow_hmac.py "$pq" "$py_rows" bench-data/out_py.parquet)
python3 - "$rows" "$py_rows" "$pq_bytes" "$csv_bytes" "$t_pq" "$rss_pq" "$t_floor" "$rss_floor" "$t_csv" "$rss_csv" "$t_py" "$rss_py" "$t_nodict" \
    "$cpu_pq" "$cpu_floor" "$cpu_csv" "$cpu_py" "$user_pq" "$user_csv" "$t_cross" <<'PY'
import sys
rows, py_rows, pqb, csvb = map(int, sys.argv[1:5])
t_pq, r_pq, t_fl, r_fl, t_csv, r_csv, t_py, r_py, t_nd = map(float, sys.argv[5:14])
c_pq, c_fl, c_csv, c_py, u_pq, u_csv, t_cross = map(float, sys.argv[14:21])
rs = lambda n, t: n / t
print(f"{rows} rows; Parquet {pqb/1e6:.0f} MB, CSV {csvb/1e6:.0f} MB")
print(f"{'run':<28}{'s':>8}{'MB/s (file)':>13}{'rows/s':>13}{'peak RSS MB':>13}{'CPU s':>8}")
for name, t, b, n, r, c in [("deid parquet (policy)", t_pq, pqb, rows, r_pq, c_pq), ("deid parquet (all keep)", t_fl, pqb, rows, r_fl, c_fl),
                            ("deid csv (policy)", t_csv, csvb, rows, r_csv, c_csv), (f"pyarrow+hmac ({py_rows} rows)", t_py, pqb*py_rows/rows, py_rows, r_py, c_py)]:
    print(f"{name:<28}{t:>8.2f}{b/1e6/t:>13.1f}{rs(n,t):>13.0f}{r:>13.0f}{c:>8.2f}")
print(f"parquet rows/s / csv rows/s      = {rs(rows,t_pq)/rs(rows,t_csv):.2f}x (target >= 2x)")
# Wall time moves with the machine (the CSV run writes three times the
# bytes, and its system time swings with the page cache's write pressure);
# CPU time (user + system, least of the runs) is deid's own work, and user
# time alone leaves out the kernel's copy of the output into the page cache,
# whose cost on a virtual machine swings by a factor of three or four with
# the pages it is given.
print(f"  by CPU time: csv / parquet     = {c_csv/c_pq:.2f}x")
print(f"  by user time: csv / parquet    = {u_csv/u_pq:.2f}x ({u_pq:.2f} s against {u_csv:.2f} s)")
print(f"parquet policy / all-keep floor  = {t_pq/t_fl:.2f}x time")
print(f"dictionary columns (city, sex)   = {t_pq-t_nd:.2f} s of {t_pq:.2f} s ({100*(t_pq-t_nd)/t_pq:.0f}%; "
      f"{1e9*(t_pq-t_nd)/(2*rows):.1f} ns per value; the policy without them: {t_nd:.2f} s)")
print(f"parquet rows/s / pyarrow+hmac    = {rs(rows,t_pq)/rs(py_rows,t_py):.1f}x (target >= 30x)")
print(f"snappy in, zstd out              = {t_cross:.2f} s ({t_cross/t_pq:.2f}x the zstd file's time)")
runs = lambda n: [list(map(float, l.split())) for l in open(f"bench-data/runs-{n}.txt") if l.strip()]
pairs = list(zip(runs("parquet"), runs("csv")))
for what, k in [("wall", 0), ("CPU", 1), ("user", 2)]:
    r = sorted(c[k] / p[k] for p, c in pairs)
    print(f"  pair by pair ({what}): csv / parquet = " + ", ".join(f"{x:.2f}" for x in r)
          + f" (median {r[len(r) // 2]:.2f})")
PY
