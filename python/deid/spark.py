"""deid on Spark: the same bytes as ``deid apply``, on every executor.

- :func:`apply` / :func:`decrypt`: a ``mapInArrow`` over the DataFrame; each
  executor transforms its Arrow batches with the Rust core (no per-value
  Python call, the GIL released).
- :func:`risk`: equivalence classes by Spark's own ``groupBy`` (frequency of
  frequencies), then deid's risk models on the driver; the figures equal
  ``deid audit risk --json`` on the same rows.
- :func:`audit_hashes`: distinct digests with their counts collected on the
  driver, the search run on the driver's cores.

Deterministic transforms need no coordination: a value's output depends on
the value, the keyset and the context only, so every partition, executor
and job gives the same pseudonym for the same value.

Security note (keyset on executors)
-----------------------------------
:func:`apply` serializes the keyset's JSON into the task closure: it travels
with the task over Spark's RPC and lives in executor memory only while the
task runs; deid never writes it to an executor's disk. Spark itself keeps
serialized task closures in its block manager, which may spill to local disk
under memory pressure, and sends them over the network: on a shared cluster
set ``spark.authenticate=true``, ``spark.network.crypto.enabled=true`` and
``spark.io.encryption.enabled=true`` (spilled blocks encrypted), and give
the job's executors to no one else. Python ``bytes`` cannot be zeroized: the
secret stays in worker memory until the worker exits. The keyset is never
broadcast (broadcast variables are stored at ``MEMORY_AND_DISK``) and never
logged.
"""

from __future__ import annotations

import json

from typing import Any, Iterator, Optional, Sequence

import pyarrow as pa

from . import Keyset, Policy, _native
from . import audit as _audit

__all__ = ["apply", "decrypt", "risk", "audit_hashes"]


def _spark_types():
    from pyspark.sql.pandas.types import from_arrow_schema, to_arrow_schema

    return from_arrow_schema, to_arrow_schema


def _output_schema(df: Any, policy: Policy, keyset: Keyset, direction: str):
    """The Spark schema of the result: the policy bound to an empty batch of
    the DataFrame's Arrow schema (the binding errors surface here, on the
    driver, before any task runs)."""
    from_arrow_schema, to_arrow_schema = _spark_types()
    arrow_schema = to_arrow_schema(df.schema)
    empty = arrow_schema.empty_table()
    out = _native.transform_table(empty, policy, keyset, direction, "<spark dataframe>", 0, 1)
    return from_arrow_schema(out.schema)


def _map(df: Any, policy: Policy, keyset: Keyset, direction: str) -> Any:
    if not isinstance(policy, Policy):
        raise TypeError(f"policy: expected deid.Policy, got {type(policy).__name__}")
    if not isinstance(keyset, Keyset):
        raise TypeError(f"keyset: expected deid.Keyset, got {type(keyset).__name__}")
    schema = _output_schema(df, policy, keyset, direction)
    # What the closure carries to the executors: the policy text and the
    # keyset's JSON, in memory (see the security note above).
    policy_text = policy.toml
    base_dir = str(policy.base_dir)
    secret = keyset.to_json()

    def run(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        from pyspark import TaskContext

        import deid as _deid

        ctx = TaskContext.get()
        source = f"spark partition {ctx.partitionId()}" if ctx else "spark partition"
        p = _deid.Policy.from_toml(policy_text, "<policy>", base_dir)
        k = _deid.Keyset.from_json(secret.decode())
        first = 0
        for batch in batches:
            table = pa.Table.from_batches([batch])
            out = _deid._native.transform_table(table, p, k, direction, source, first, 1)
            first += batch.num_rows
            for b in out.to_batches():
                yield b

    return df.mapInArrow(run, schema)


def apply(df: Any, policy: Policy, keyset: Keyset) -> Any:
    """Applies ``policy`` to a Spark DataFrame: the result has the values
    ``deid apply`` writes for the same rows (transformed columns become
    strings, kept columns keep their type, dropped columns vanish). Lazy,
    as any Spark transformation: a value that cannot be transformed fails
    the job when it runs, with an error naming the partition, the row in
    it and the column, never the value (``on_error = "drop-record"`` leaves
    the row out instead)."""
    return _map(df, policy, keyset, "apply")


def decrypt(df: Any, policy: Policy, keyset: Keyset) -> Any:
    """Reverses the reversible fields of ``policy`` (``encrypt``, ``fpe``) on
    a Spark DataFrame, as ``deid decrypt`` does."""
    return _map(df, policy, keyset, "decrypt")


def _as_text(df: Any, columns: Sequence[str]) -> Any:
    from pyspark.sql import functions as F

    # As the CLI reads a CSV: every value as text, a missing value empty.
    return [F.coalesce(F.col(f"`{c}`").cast("string"), F.lit("")).alias(c) for c in columns]


def risk(
    df: Any,
    qi: Sequence[str],
    sampling_fraction: Optional[float] = None,
    *,
    population: Optional[int] = None,
) -> "dict[str, Any]":
    """Quasi-identifier risk of a Spark DataFrame: class sizes by Spark's
    ``groupBy(qi).count()``, then the frequency of those sizes by a second
    ``groupBy`` (a few hundred rows at most reach the driver), then deid's
    risk models on the driver. The figures equal ``deid audit risk --qi ...
    --json`` on the same rows (values compared as text, nulls as empty)."""
    qi = list(qi)
    if not qi:
        raise ValueError("qi: name the quasi-identifier columns")
    classes = df.select(*_as_text(df, qi)).groupBy(*qi).count()
    fof = classes.groupBy("count").count().collect()
    sizes = {int(r[0]): int(r[1]) for r in fof}
    return _audit.risk_from_class_sizes(
        sizes, qi=qi, sampling_fraction=sampling_fraction, population=population
    )


def audit_hashes(
    df: Any,
    column: str,
    *,
    space: Optional[Sequence[str]] = None,
    algorithms: Sequence[str] = (),
    dictionary: Any = None,
    dict_normalize: Sequence[str] = (),
    salt: Optional[Any] = None,
    salt_at: str = "prefix",
    hmac_key: Optional[bytes] = None,
    born: "tuple[int, int]" = (1950, 2005),
    threads: Optional[int] = None,
) -> "dict[str, Any]":
    """Hash-reversal audit of one column of a Spark DataFrame: the distinct
    digests and their row counts are collected on the driver (``groupBy``),
    and the search runs on the driver's cores. Returns the document of
    ``deid audit hashes --json``.

    Limit: every distinct digest reaches the driver (about 100 bytes each:
    10 million distinct digests need about 1 GB of driver memory); the
    search itself is bounded by the spaces tried, not the rows. The
    encoding is guessed from the first 1,000 distinct digests rather than
    the first 1,000 rows (the same unless the column mixes encodings)."""
    if isinstance(space, str):
        space = [space]
    counts = df.select(*_as_text(df, [column])).groupBy(column).count().collect()
    values = [r[0] for r in counts]
    ns = [int(r[1]) for r in counts]
    options, parameters = _audit._hash_options(
        spaces=list(space or ()),
        algorithms=algorithms,
        dictionary=dictionary,
        dict_normalize=dict_normalize,
        salt=salt,
        salt_at=salt_at,
        hmac_key=hmac_key,
        born=born,
        threads=threads,
    )
    text = _native.hashes_from_counts(column, values, ns, options, "<spark dataframe>")
    return _audit._versioned(json.loads(text), columns=[column], **parameters)
