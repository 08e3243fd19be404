"""A Parquet file `deid apply` writes reads in every engine a data engineer
would open it with. Pseudonyms, tokens and FF1 values are written
DELTA_LENGTH_BYTE_ARRAY without statistics (docs/FORMAT.md, "Parquet"):
pyarrow, pandas, Polars, DuckDB and Spark each read the same values as the
CLI's CSV output of the same rows."""

from __future__ import annotations

import pyarrow.parquet as pq
import pytest

from conftest import assert_same, cli_apply

# Columns the shared policy pseudonymizes, encrypts or runs through FF1.
DISTINCT = ["phone", "email", "rrn", "customer_id"]


@pytest.fixture(scope="module")
def written(workdir, small_csv, policy_path, keyset_path):
    return cli_apply(workdir, small_csv, policy_path, keyset_path, suffix=".parquet")


def test_distinct_columns_are_delta_length_without_statistics(written):
    meta = pq.ParquetFile(written).metadata
    assert meta.num_rows > 0
    for rg in range(meta.num_row_groups):
        for i in range(meta.num_columns):
            c = meta.row_group(rg).column(i)
            if c.path_in_schema in DISTINCT:
                assert "DELTA_LENGTH_BYTE_ARRAY" in c.encodings, c.path_in_schema
                assert "RLE_DICTIONARY" not in c.encodings, c.path_in_schema
                assert not c.is_stats_set, c.path_in_schema
            elif c.path_in_schema == "city":
                assert c.is_stats_set


def test_pyarrow_and_pandas_read_it(written, reference):
    assert_same(pq.read_table(written).to_pydict(), reference)
    pd = pytest.importorskip("pandas")
    df = pd.read_parquet(written)
    assert_same({c: list(df[c]) for c in df.columns}, reference)


def test_polars_reads_it(written, reference):
    pl = pytest.importorskip("polars")
    df = pl.read_parquet(written)
    assert_same({c: df[c].to_list() for c in df.columns}, reference)


def test_duckdb_reads_it(written, reference):
    duckdb = pytest.importorskip("duckdb")
    rel = duckdb.connect().sql(f"SELECT * FROM read_parquet('{written}')")
    rows = rel.fetchall()
    assert_same({c: [r[i] for r in rows] for i, c in enumerate(rel.columns)}, reference)
    # A lookup by pseudonym, as a recipient would join on one.
    phone = reference["phone"][7]
    n = duckdb.connect().sql(
        f"SELECT count(*) FROM read_parquet('{written}') WHERE phone = '{phone}'"
    ).fetchall()[0][0]
    assert n == reference["phone"].count(phone)


def test_spark_reads_it(spark, written, reference):
    rows = spark.read.parquet(str(written)).toPandas()
    assert_same({c: list(rows[c]) for c in rows.columns}, reference)
