#!/usr/bin/env bash
# deid's redact against Presidio on the same Korean customer-service notes,
# side by side in one run: precision, recall and speed for both, and the
# ratio.
#
#   benches/redact_vs_presidio.sh [NOTES] [PRESIDIO_NOTES]   (default 100000 and 2000)
#
# The notes come from `deid gen --memo --memo-truth` (identifiers planted at
# known spans, decoys around them). deid: benches/redact.rs, one thread, the
# detectors and the whole transform with pseudonyms, plus `deid apply` end to
# end on every core. Presidio: benches/redact_presidio.py (analyzer +
# anonymizer, pattern recognizers without a downloaded language model; see
# its docstring), on the first PRESIDIO_NOTES notes since it is slow.
set -euo pipefail
cd "$(dirname "$0")/.."
notes=${1:-100000}
presidio_notes=${2:-2000}
venv=${PRESIDIO_VENV:-bench-data/presidio-venv}

if ! "$venv/bin/python" -c "import presidio_analyzer, presidio_anonymizer" 2>/dev/null; then
    python3 -m venv "$venv"
    "$venv/bin/pip" install -q presidio-analyzer presidio-anonymizer
fi
cargo build --release --quiet --bin deid
deid=target/release/deid
mkdir -p bench-data
memo=bench-data/memo_${notes}.csv
truth=bench-data/memo_${notes}.truth.jsonl
if [ ! -s "$memo" ] || [ ! -s "$truth" ]; then
    $deid gen --rows "$notes" --seed 1 --memo --memo-truth "$truth" -o "$memo"
fi
REDACT_MEMO=$memo REDACT_DETECTIONS=bench-data/memo_detections.jsonl \
    cargo bench --quiet --bench redact > bench-data/redact_figures.json
# Presidio logs that it cannot fetch the public suffix list offline; kept out of the table.
"$venv/bin/python" benches/redact_presidio.py "$memo" "$truth" \
    bench-data/memo_detections.jsonl bench-data/redact_figures.json "$presidio_notes" \
    2> bench-data/presidio.log

# End to end: deid apply on every core, the memo column redacted.
[ -f bench-data/keys.json ] || $deid keygen -o bench-data/keys.json 2>/dev/null
cat > bench-data/redact_policy.toml <<'TOML'
version = 1
[fields.memo]
transform = "redact"
TOML
$deid apply "$memo" --policy bench-data/redact_policy.toml --keys bench-data/keys.json \
    -o bench-data/memo_redacted.csv 2>&1 | head -1
echo "(deid apply: whole CSV parsed and written, every core; values/s = rows / seconds)"
