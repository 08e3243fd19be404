"""deid.spark on the real engine in local mode (local[2]): a million
generated rows in several partitions equal `deid apply`; risk equals
`deid audit risk --json`; decrypt round trip; an executor's bad value fails
the job with its partition, row and column and no value."""

from __future__ import annotations

import json
import os

import pyarrow as pa
import pytest

import deid
import deid.spark
from conftest import cli_apply, gen_csv, run_cli

ROWS = int(os.environ.get("DEID_SPARK_ROWS", "1000000"))


@pytest.fixture(scope="module")
def keys(keyset_path):
    return deid.Keyset.load(keyset_path)


@pytest.fixture(scope="module")
def policy(policy_path):
    return deid.Policy.load(policy_path)


def read(spark, path):
    # About four partitions whatever the size: several tasks on two cores.
    spark.conf.set("spark.sql.files.maxPartitionBytes", str(max(os.path.getsize(path) // 4 + 1, 1 << 16)))
    # Every column a string (Spark reads an empty field as null: compared as empty).
    return spark.read.csv(str(path), header=True, inferSchema=False)


def test_million_rows_equal_the_cli(spark, workdir, policy, keys, policy_path, keyset_path):
    data = gen_csv(workdir, ROWS, seed=11)
    df = read(spark, data)
    assert df.rdd.getNumPartitions() >= 3, "several partitions"
    out = deid.spark.apply(df, policy, keys)
    # Sort both by the row id: the generator's customer_id is unique and
    # its pseudonym is too; the CLI keeps the input order.
    got = out.toArrow() if hasattr(out, "toArrow") else pa.Table.from_pandas(out.toPandas())
    ref_path = cli_apply(workdir, data, policy_path, keyset_path)
    import pyarrow.csv as pacsv

    ref = pacsv.read_csv(ref_path, convert_options=pacsv.ConvertOptions(
        column_types={c: pa.string() for c in got.column_names}, strings_can_be_null=False))
    assert got.num_rows == ref.num_rows == ROWS
    assert got.column_names == ref.column_names
    got = got.sort_by("customer_id")
    ref = ref.sort_by("customer_id")
    for c in ref.column_names:
        g = got.column(c).cast(pa.string()).fill_null("")
        assert g.equals(ref.column(c)), f"column {c} differs from deid apply"


def test_risk_equals_the_cli(spark, workdir):
    data = gen_csv(workdir, ROWS, seed=11)
    qi = ["birth_date", "sex", "postal_code"]
    r = run_cli("audit", "risk", str(data), "--qi", ",".join(qi), "--sampling-fraction", "0.1", "--json")
    ref = json.loads(r.stdout)
    got = deid.spark.risk(read(spark, data), qi, sampling_fraction=0.1)
    from test_audit import figures

    assert figures(got) == figures(ref)


def test_decrypt_round_trip(spark, workdir, policy, keys):
    data = gen_csv(workdir, 20000, seed=12)
    df = read(spark, data).repartition(3)
    back = deid.spark.decrypt(deid.spark.apply(df, policy, keys), policy, keys)
    got = back.select("customer_id", "email", "rrn").toPandas()
    orig = df.select("email", "rrn").toPandas()
    assert sorted(got["rrn"]) == sorted(orig["rrn"])
    assert sorted(got["email"]) == sorted(e.strip().lower() for e in orig["email"])


def test_bad_value_on_an_executor_fails_the_job(spark, keys):
    secret = "010-SECRET-1"
    p = deid.Policy.from_toml('version = 1\n[fields.phone]\nnormalize = ["phone:KR"]\ntransform = "pseudonymize"\n')
    rows = [(i, "010-1234-%04d" % i) for i in range(1000)]
    rows[700] = (700, secret)
    df = spark.createDataFrame(rows, "id long, phone string").repartition(2, "id")
    with pytest.raises(Exception) as e:
        deid.spark.apply(df, p, keys).collect()
    msg = str(e.value)
    assert "column 'phone'" in msg and "spark partition" in msg and "row " in msg, msg[-2000:]
    assert "SECRET" not in msg


def test_audit_hashes_equals_the_local_audit(spark, workdir):
    data = gen_csv(workdir, 300, seed=5, naive=True)
    dictionary = workdir / "phones-spark.txt"
    import csv

    with open(data, newline="", encoding="utf-8") as f:
        phones = [r["phone"] for r in csv.DictReader(f)]
    dictionary.write_text("\n".join(phones[::3]) + "\n")
    got = deid.spark.audit_hashes(read(spark, data), "phone_sha256", space=["010-0000-?d?d?d?d"], dictionary=dictionary)
    ref = json.loads(run_cli("audit", "hashes", str(data), "-c", "phone_sha256", "--dict", str(dictionary),
                             "--space", "010-0000-?d?d?d?d", "--json", check=False).stdout)
    from test_audit import strip_timing

    assert strip_timing(got) == strip_timing(ref)
