"""Audits: re-identification risk over quasi-identifiers and reversal of
hashed identifier columns, with the figures (and JSON keys) of ``deid audit
risk --json`` and ``deid audit hashes --json``."""

from __future__ import annotations

import json
import os
from typing import Any, Iterable, Mapping, Optional, Sequence, Union

import pyarrow as pa

from . import _native
from ._frames import array_of, table_of

__all__ = ["risk", "risk_from_class_sizes", "hashes"]


def risk(
    data: Any,
    qi: Sequence[str] = (),
    *,
    sensitive: Optional[str] = None,
    sampling_fraction: Optional[float] = None,
    population: Optional[int] = None,
    find_qi: Optional[int] = None,
) -> "dict[str, Any]":
    """Quasi-identifier risk of ``data`` (pyarrow, pandas or Polars): the
    document ``deid audit risk --qi ... --json`` prints for the same rows
    (equivalence classes, k, prosecutor and marketer risk, sample
    uniqueness; population uniqueness with ``sampling_fraction`` or
    ``population``; l-diversity and t-closeness with ``sensitive``; the
    combinations that single people out with ``find_qi=N``). Columns are
    read as ``deid audit`` reads the table written as Parquet: a struct's
    field by its dotted path (``"address.zip"``), a list as its JSON text,
    typed values as text, nulls (and values under a null struct) as empty
    values."""
    table, _ = table_of(data)
    text = _native.risk(
        table, list(qi), sensitive, sampling_fraction, population, find_qi, "<table>"
    )
    return _versioned(
        json.loads(text),
        qi=list(qi),
        sensitive=sensitive,
        sampling_fraction=sampling_fraction,
        population=population,
        find_qi=find_qi,
    )


def risk_from_class_sizes(
    sizes: Union[Iterable[int], Mapping[int, int]],
    *,
    qi: Sequence[str] = (),
    sampling_fraction: Optional[float] = None,
    population: Optional[int] = None,
) -> "dict[str, Any]":
    """The risk report from equivalence-class sizes an engine counted itself
    (SQL ``GROUP BY qi``, Spark ``groupBy``): either one size per class, or
    a mapping ``{class size: number of classes}`` (frequency of
    frequencies). The figures equal ``deid audit risk --json`` on the rows
    the classes came from."""
    if isinstance(sizes, Mapping):
        flat = [int(s) for s, n in sizes.items() for _ in range(int(n))]
    else:
        flat = [int(s) for s in sizes]
    return _versioned(
        json.loads(_native.risk_from_class_sizes(flat, list(qi), sampling_fraction, population)),
        qi=list(qi),
        sampling_fraction=sampling_fraction,
        population=population,
    )


def _versioned(doc: "dict[str, Any]", **parameters: Any) -> "dict[str, Any]":
    """Adds what the CLI's ``--json`` adds: ``deid_version`` and the
    ``parameters`` of the call, so that two audits can be compared (never a
    value of the data, a salt or a key)."""
    doc["deid_version"] = _native.version()
    doc["parameters"] = {k: v for k, v in parameters.items() if v is not None}
    return doc


def _dictionary(dictionary: Any) -> "tuple[Optional[list[str]], str]":
    if dictionary is None:
        return None, "dict"
    if isinstance(dictionary, (str, os.PathLike)):
        path = os.fspath(dictionary)
        with open(path, "rb") as f:
            lines = [l.rstrip(b"\r").decode("utf-8", "replace") for l in f.read().split(b"\n")]
        return lines, f"dict:{path}"
    return [str(w) for w in dictionary], "dict"


def hashes(
    data: Any,
    columns: Optional[Sequence[str]] = None,
    *,
    spaces: Sequence[str] = (),
    algorithms: Sequence[str] = (),
    dictionary: Any = None,
    dict_normalize: Sequence[str] = (),
    salt: Optional[Union[str, bytes]] = None,
    salt_at: str = "prefix",
    hmac_key: Optional[bytes] = None,
    born: "tuple[int, int]" = (1950, 2005),
    threads: Optional[int] = None,
) -> "dict[str, Any]":
    """Tries to reverse hashed identifier columns the way a recipient would
    (``deid audit hashes --json``): ``data`` is a table or frame with
    ``columns`` named, or one column (list, Array, Series). Returns
    ``{"input", "reversed_any", "columns": [...]}``; recovered identifiers
    are never returned, only counts and masked samples. A struct's field is
    named by its dotted path (``"contact.phone_sha256"``), as in ``risk``.

    ``spaces`` as the CLI's ``--space`` (``kr-mobile``, ``e164:KR``,
    ``kr-rrn``, ``card:<BIN>``, hashcat masks), chosen from the column name
    when empty; ``dictionary`` a path or an iterable of candidates."""
    if columns is None:
        if isinstance(data, pa.Table) or hasattr(data, "columns"):
            raise TypeError("columns: name the hashed columns of the table")
        arr, _ = array_of(data)
        name = getattr(data, "name", None) or "value"
        table = pa.table({str(name): arr})
        columns = [str(name)]
    else:
        if isinstance(columns, str):
            columns = [columns]
        table, _ = table_of(data)
    options, parameters = _hash_options(
        spaces=spaces,
        algorithms=algorithms,
        dictionary=dictionary,
        dict_normalize=dict_normalize,
        salt=salt,
        salt_at=salt_at,
        hmac_key=hmac_key,
        born=born,
        threads=threads,
    )
    text = _native.hashes(table, list(columns), options, "<table>")
    return _versioned(json.loads(text), columns=list(columns), **parameters)


def _hash_options(
    *,
    spaces: Sequence[str],
    algorithms: Sequence[str],
    dictionary: Any,
    dict_normalize: Sequence[str],
    salt: Optional[Union[str, bytes]],
    salt_at: str,
    hmac_key: Optional[bytes],
    born: "tuple[int, int]",
    threads: Optional[int],
) -> "tuple[dict[str, Any], dict[str, Any]]":
    """The options of a hash audit as ``_native.hashes`` and
    ``_native.hashes_from_counts`` take them (one dict, the dictionary
    read), and the ``parameters`` its document reports (never a salt, a key
    or a dictionary's words)."""
    words, dname = _dictionary(dictionary)
    if isinstance(salt, str):
        salt = salt.encode()
    options = {
        "algorithms": list(algorithms),
        "spaces": list(spaces),
        "dictionary": words,
        "dictionary_name": dname,
        "dict_normalize": list(dict_normalize),
        "salt": salt,
        "salt_at": salt_at,
        "hmac_key": hmac_key,
        "born": tuple(born),
        "threads": threads,
    }
    parameters = {
        "algorithms": list(algorithms),
        "spaces": list(spaces),
        "dictionary": dname if words is not None else None,
        "salted": salt is not None,
        "keyed": hmac_key is not None,
    }
    return options, parameters
