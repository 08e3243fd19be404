#!/usr/bin/env bash
# deid audit hashes against hashcat's mask attack on the same CPU, side by
# side on the same hashes, and the full kr-mobile space in its four formats.
#
#   benches/hashes_vs_hashcat.sh [N_TARGETS]     (default 1,000,000)
#
# Needs Debian's hashcat and pocl-opencl-icd (hashcat's OpenCL CPU device);
# installs them when it can, and says so loudly when it cannot.
set -euo pipefail
cd "$(dirname "$0")/.."
n=${1:-1000000}

if ! command -v hashcat >/dev/null || ! [ -e /etc/OpenCL/vendors/pocl.icd ]; then
    (apt-get install -y -qq hashcat pocl-opencl-icd >/dev/null 2>&1) || true
fi
cargo build --release --quiet --bin deid
deid=target/release/deid
work=bench-data/hashes
mkdir -p "$work"

# N random 010 numbers, SHA-256 in the 01012345678 form (hashcat's mask
# attack enumerates one format), and the same numbers in all four formats.
python3 - "$n" "$work" <<'PY'
import hashlib, random, sys
n, work = int(sys.argv[1]), sys.argv[2]
rng = random.Random(7)
nums = [rng.randrange(10**8) for _ in range(n)]
with open(f"{work}/plain.csv", "w") as f, open(f"{work}/hashcat.txt", "w") as h:
    f.write("phone_sha256\n")
    for x in nums:
        d = hashlib.sha256(f"010{x:08d}".encode()).hexdigest()
        f.write(d + "\n"); h.write(d + "\n")
forms = [lambda x: f"010{x:08d}", lambda x: f"010-{x//10**4:04d}-{x%10**4:04d}", lambda x: f"+8210{x:08d}", lambda x: f"8210{x:08d}"]
with open(f"{work}/four.csv", "w") as f:
    f.write("phone_sha256\n")
    for i, x in enumerate(nums):
        f.write(hashlib.sha256(forms[i % 4](x).encode()).hexdigest() + "\n")
for algo in ("md5", "sha1"):
    with open(f"{work}/{algo}.csv", "w") as f:
        f.write("h\n")
        for x in nums[:100000]:
            f.write(hashlib.new(algo, f"010{x:08d}".encode()).hexdigest() + "\n")
PY

json_rate() { python3 -c 'import json,sys; d=json.load(sys.stdin); c=d["columns"][0]; print(c["candidates"], c["seconds"], c["reversed_distinct"], c["distinct"])'; }

echo "== deid audit hashes: one format (010?d?d?d?d?d?d?d?d), SHA-256, $n targets, $(nproc) cores"
t0=$(date +%s.%N)
read -r dc ds drev ddist < <($deid audit hashes "$work/plain.csv" -c phone_sha256 --algo sha256 --space '010?d?d?d?d?d?d?d?d' --json | json_rate) || true
t1=$(date +%s.%N)
dwall=$(python3 -c "print($t1-$t0)")

echo "== hashcat -m 1400 -a 3 '010?d?d?d?d?d?d?d?d' (OpenCL CPU device), same hashes"
hc_wall=""
if command -v hashcat >/dev/null; then
    rm -f "$work/hashcat.out"
    t0=$(date +%s.%N)
    if timeout 1800 hashcat -m 1400 -a 3 -O -w 3 --potfile-disable --quiet --outfile "$work/hashcat.out" "$work/hashcat.txt" '010?d?d?d?d?d?d?d?d' >/dev/null 2>"$work/hashcat.err"; then :; fi
    t1=$(date +%s.%N)
    hc_wall=$(python3 -c "print($t1-$t0)")
    hc_found=$(wc -l < "$work/hashcat.out" 2>/dev/null || echo 0)
else
    printf '\n!!!! SKIPPED: hashcat is not installed\n\n' >&2
fi

echo "== deid audit hashes: the full kr-mobile space, four formats, SHA-256"
t0=$(date +%s.%N)
read -r fc fs frev fdist < <($deid audit hashes "$work/four.csv" -c phone_sha256 --algo sha256 --space kr-mobile --json | json_rate) || true
t1=$(date +%s.%N)
fwall=$(python3 -c "print($t1-$t0)")

for algo in md5 sha1; do
    read -r c s r d < <($deid audit hashes "$work/$algo.csv" -c h --algo "$algo" --space '010?d?d?d?d?d?d?d?d' --json | json_rate) || true
    eval "${algo}_c=$c ${algo}_s=$s"
done

python3 - <<PY
cores = $(nproc)
dc, ds, dwall = $dc, $ds, $dwall
print()
print(f"{'run':<58}{'candidates/s':>14}{'per core':>12}{'wall s':>9}")
print(f"{'deid sha256, 1 format, 10^8 candidates':<58}{dc/ds:>14.3e}{dc/ds/cores:>12.3e}{dwall:>9.2f}   reversed $drev/$ddist")
hc = "$hc_wall"
if hc:
    hw = float(hc)
    print(f"{'hashcat sha256 mask attack, same hashes (wall incl. start-up)':<58}{1e8/hw:>14.3e}{1e8/hw/cores:>12.3e}{hw:>9.2f}   cracked ${hc_found:-0}")
    print(f"\ndeid / hashcat (wall time, same work): {hw/dwall:.2f}x")
print(f"{'deid sha256, kr-mobile, 4 formats, 4x10^8 candidates':<58}{$fc/$fs:>14.3e}{$fc/$fs/cores:>12.3e}{$fwall:>9.2f}   reversed $frev/$fdist")
print(f"{'deid md5, 1 format':<58}{$md5_c/$md5_s:>14.3e}{$md5_c/$md5_s/cores:>12.3e}")
print(f"{'deid sha1, 1 format':<58}{$sha1_c/$sha1_s:>14.3e}{$sha1_c/$sha1_s/cores:>12.3e}")
print("\ntargets: >= 2.5e7 SHA-256 candidates/s per core; full kr-mobile (4 formats) < 5 s; faster than hashcat on the same CPU")
PY
