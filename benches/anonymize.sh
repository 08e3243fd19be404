#!/usr/bin/env bash
# deid anonymize: the exact lattice search, timed end to end (read + count +
# search) on two settings, one metric per run.
#
#   benches/anonymize.sh [ROWS]      (default 10,000,000 generated rows)
#
# 1. UCI Adult as ARX tests with it (scripts/arx-adult.sh; 30,162 rows), its
#    nine quasi-identifiers with ARX's example hierarchies
#    (tests/data/arx-adult), k = 5, 2% suppression: 12,960 nodes.
# 2. ROWS generated rows (deid gen) with six quasi-identifiers and built-in
#    hierarchies: birth_date=date, sex=mask, postal_code=prefix,
#    city=mask, signup_date=date, balance=interval:100000,1000000; k = 10,
#    1% suppression.
#
#    Measured (release, 2 cores, load ~5 from other builds): 1 M rows
#    precision 17.6 s (optimum 5,0,2,0,2,3, loss 0.4667, 0 suppressed);
#    10 M rows precision 186.6 s, 3.4 GB peak (optimum 2,0,3,0,2,3, loss
#    0.40257, 42,756 suppressed, 288 of 5,184 nodes evaluated).
#
# Prints, per run, the optimum (levels), its loss, the records suppressed,
# the nodes evaluated and pruned, and the seconds (wall clock, as reported by
# deid in its JSON, plus the process time measured here).
#
# ARX_BENCH=path/to/dir with a built ARX and benches/arx/ArxAdult.java
# compiled next to it (benches/arx/build.sh makes it; benches/arx/README.md)
# adds ARX's runtime on setting 1, same data, hierarchies, model,
# suppression limit and metric.
set -euo pipefail
cd "$(dirname "$0")/.."
rows=${1:-10000000}
cargo build --release --quiet --bin deid
deid=target/release/deid
adult=$(scripts/arx-adult.sh)
h=tests/data/arx-adult/adult_hierarchy
qi=sex,age,race,marital-status,education,native-country,workclass,occupation,salary-class
hargs=()
for c in ${qi//,/ }; do hargs+=(--hierarchy "$c=${h}_$c.csv"); done
mkdir -p bench-data

row() {
    # $1 label, $2 json file, $3 seconds measured here
    python3 - "$1" "$2" "$3" <<'PY'
import json, sys
label, path, wall = sys.argv[1], sys.argv[2], float(sys.argv[3])
d = json.load(open(path))
n = d["nodes"][0] if d["nodes"] else None
lv = ",".join(map(str, n["levels"])) if n else "-"
loss = f"{n['loss']:.6g}" if n else "-"
sup = n["suppressed"] if n else "-"
print(f"{label:<34}{lv:<20}{loss:>14}{sup:>8}{d['evaluated_nodes']:>7}/{d['lattice_nodes']:<7}{d['seconds']:>9.3f}{wall:>9.3f}")
PY
}

echo "load before: $(uptime | sed 's/.*load average/load average/')"
printf '%-34s%-20s%14s%8s%15s%9s%9s\n' run optimum loss supp evaluated deid_s proc_s
for metric in precision discernibility loss entropy; do
    t0=$(date +%s.%N)
    $deid anonymize "$adult" --qi "$qi" "${hargs[@]}" --model k=5 --suppress 0.02 \
        --metric "$metric" --json -q > "bench-data/anon_adult_$metric.json"
    t1=$(date +%s.%N)
    row "adult k=5 2% $metric" "bench-data/anon_adult_$metric.json" "$(echo "$t1 - $t0" | bc)"
done

if [ -n "${ARX_BENCH:-}" ]; then
    # ArxAdult: a cold run in a fresh JVM, then ARX_WARMUP (3) warm-up runs and
    # the best / median of ARX_RUNS (5) runs, each read + encode + search;
    # search_s is ARX's own anonymize() time (median).
    printf '%-34s%-20s%14s%8s%16s%9s%9s%9s%9s\n' run optimum loss supp checked cold_s best_s median_s search_s
    for metric in precision discernibility loss entropy; do
        java -cp "$ARX_BENCH/classes:$ARX_BENCH/lib/*" ArxAdult "$adult" "$h" "$metric"
    done
fi

data=bench-data/anon_${rows}.csv
[ -s "$data" ] || $deid gen --rows "$rows" --seed 5 -o "$data"
gqi=birth_date,sex,postal_code,city,signup_date,balance
for metric in precision loss; do
    t0=$(date +%s.%N)
    $deid anonymize "$data" --qi "$gqi" --hierarchy birth_date=date --hierarchy sex=mask \
        --hierarchy postal_code=prefix --hierarchy city=mask --hierarchy signup_date=date \
        --hierarchy balance=interval:100000,1000000 --model k=10 --suppress 0.01 \
        --metric "$metric" --json -q > "bench-data/anon_gen_$metric.json"
    t1=$(date +%s.%N)
    row "gen ${rows} k=10 1% $metric" "bench-data/anon_gen_$metric.json" "$(echo "$t1 - $t0" | bc)"
done
echo "($(nproc) cores; load after: $(uptime | sed 's/.*load average: //'))"
if [ -z "${ARX_BENCH:-}" ]; then
    echo "ARX not run: set ARX_BENCH to a directory built by benches/arx/build.sh to time ARX's Flash"
    echo "on the Adult setting side by side (benches/arx/README.md has the figures measured so far)."
fi
