"""Python and Spark throughput of deid, each beside its peer in one run.

1. deid.apply on a pyarrow table of N rows (pseudonymize phone:KR) vs a
   plain Python loop computing the same pseudonyms with hmac/hashlib
   (checked equal on the first 10,000 rows).
2. Spark local[2]: deid.spark.apply vs Spark's own sha2(phone, 256) (the
   unsalted hash deid replaces) on the same cached DataFrame, and the CLI
   (`deid apply`) on the same rows.

Run by benches/python.sh (which builds the wheel and the CLI). Prints rows/s
and the ratios.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import re
import subprocess
import sys
import tempfile
import time

import pyarrow as pa
import pyarrow.csv as pacsv

import deid

ROWS = int(os.environ.get("DEID_BENCH_ROWS", "1000000"))
DEID = os.environ["DEID_BIN"]
POLICY = """version = 1
[fields.phone]
normalize = ["phone:KR"]
transform = "pseudonymize"
context = "customer-phone"
"""


def best(f, runs=3):
    times = []
    out = None
    for _ in range(runs):
        t = time.perf_counter()
        out = f()
        times.append(time.perf_counter() - t)
    return min(times), out


def subkey(secret: bytes, purpose: str, context: str, n: int) -> bytes:
    # HKDF-SHA256, salt none, info "deid/v1/<purpose>/<context>" (docs/FORMAT.md).
    prk = hmac.new(b"\0" * 32, secret, hashlib.sha256).digest()
    info = f"deid/v1/{purpose}/{context}".encode()
    out, block, i = b"", b"", 1
    while len(out) < n:
        block = hmac.new(prk, block + info + bytes([i]), hashlib.sha256).digest()
        out += block
        i += 1
    return out[:n]


def python_loop(phones, key):
    out = []
    digits = re.compile(r"\D")
    for p in phones:
        d = digits.sub("", p)
        e164 = "+82" + d[1:] if d.startswith("0") else "+" + d
        out.append(hmac.new(key, e164.encode(), hashlib.sha256).hexdigest()[:32])
    return out


def main() -> None:
    tmp = tempfile.mkdtemp(prefix="deid-bench-")
    data = os.path.join(tmp, "data.csv")
    subprocess.run([DEID, "gen", "--rows", str(ROWS), "--seed", "5", "-o", data], check=True)
    keyfile = os.path.join(tmp, "keys.json")
    subprocess.run([DEID, "keygen", "-o", keyfile], check=True)
    polfile = os.path.join(tmp, "policy.toml")
    with open(polfile, "w") as f:
        f.write(POLICY)
    keys = deid.Keyset.load(keyfile)
    policy = deid.Policy.from_toml(POLICY)
    table = pacsv.read_csv(data, convert_options=pacsv.ConvertOptions(column_types={"phone": pa.string()}))
    phones_table = table.select(["phone"])
    phones = phones_table.column("phone").to_pylist()

    rows = []
    # 1. deid.apply vs a Python hmac loop.
    t_deid, out = best(lambda: deid.apply(phones_table, policy, keys))
    secret = base64.b64decode(json.load(open(keyfile))["keys"][0]["secret"])
    key = subkey(secret, "pseudonym", "customer-phone", 32)
    t_py, py_out = best(lambda: python_loop(phones, key), runs=1)
    assert out.column("phone").to_pylist()[:10000] == py_out[:10000], "the loop computes the same pseudonyms"
    rows.append(("deid.apply (pyarrow, pseudonymize phone:KR)", ROWS / t_deid))
    rows.append(("Python loop (re + hmac + hashlib), same output", ROWS / t_py))
    # Without normalization: values already in E.164, HMAC alone on both sides.
    e164 = ["+82" + re.sub(r"\D", "", p)[1:] for p in phones]
    plain = deid.Policy.from_toml(POLICY.replace('normalize = ["phone:KR"]\n', ""))
    e164_table = pa.table({"phone": e164})
    t_deid2, out2 = best(lambda: deid.apply(e164_table, plain, keys))
    t_py2, py_out2 = best(lambda: [hmac.new(key, v.encode(), hashlib.sha256).hexdigest()[:32] for v in e164], runs=1)
    assert out2.column("phone").to_pylist()[:10000] == py_out2[:10000]
    extra = [("deid.apply, no normalizer (E.164 input)", ROWS / t_deid2),
             ("Python hmac loop alone, same output", ROWS / t_py2)]

    # CLI on the same rows (one column, CSV in and out).
    one = os.path.join(tmp, "phones.csv")
    pacsv.write_csv(phones_table, one, pacsv.WriteOptions(quoting_style="none"))
    outp = os.path.join(tmp, "out.csv")
    t_cli, _ = best(lambda: subprocess.run([DEID, "apply", "-p", polfile, "-k", keyfile, "-o", outp, "--quiet", one], check=True))
    rows.append(("deid apply CLI (CSV file, same column)", ROWS / t_cli))

    # 2. Spark local[2].
    spark_rows = []
    try:
        from pyspark.sql import SparkSession
        from pyspark.sql import functions as F

        from deid import spark as deid_spark

        spark = (SparkSession.builder.master("local[2]").appName("deid-bench")
                 .config("spark.ui.enabled", "false").config("spark.driver.memory", "2g")
                 .config("spark.sql.shuffle.partitions", "4").getOrCreate())
        spark.sparkContext.setLogLevel("ERROR")
        df = spark.read.csv(one, header=True).repartition(4).cache()
        df.count()

        def sink(d):
            d.write.format("noop").mode("overwrite").save()

        sink(deid_spark.apply(df, policy, keys))  # warm the Python workers
        t_sha, _ = best(lambda: sink(df.select(F.sha2(F.col("phone"), 256).alias("phone"))))
        t_sd, _ = best(lambda: sink(deid_spark.apply(df, policy, keys)))
        spark_rows.append(("Spark sha2(phone, 256) (unsalted baseline)", ROWS / t_sha))
        spark_rows.append(("deid.spark.apply (mapInArrow, pseudonymize phone:KR)", ROWS / t_sd))
        spark.stop()
    except Exception as e:  # noqa: BLE001 - report and go on
        print(f"!!!! Spark part skipped: {type(e).__name__}: {str(e)[:300]}", file=sys.stderr)

    print(f"\n{ROWS:,} rows, {os.cpu_count()} cores\n")
    print(f"| {'case':<56} | {'rows/s':>14} |")
    print(f"|{'-' * 58}|{'-' * 16}:|")
    for name, r in rows + extra + spark_rows:
        print(f"| {name:<56} | {r:>14,.0f} |")
    print()
    print(f"deid.apply / Python hmac loop:          {rows[0][1] / rows[1][1]:8.1f}x  (target >= 50x)")
    print(f"  same, HMAC alone (no normalizer):     {extra[0][1] / extra[1][1]:8.1f}x")
    print(f"deid.apply / deid apply CLI:            {rows[0][1] / rows[2][1]:8.2f}x")
    if spark_rows:
        print(f"deid.spark.apply / Spark sha2:          {spark_rows[1][1] / spark_rows[0][1]:8.2f}x  (target >= 0.5)")
        print(f"deid.spark.apply / deid apply CLI:      {spark_rows[1][1] / rows[2][1]:8.2f}x")


if __name__ == "__main__":
    main()
