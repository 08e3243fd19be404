"""Conversions between the data kinds deid accepts and pyarrow, columnar
(through the Arrow C data interface), never value by value."""

from __future__ import annotations

import sys
from typing import Any, Callable, Tuple

import pyarrow as pa


def _is_pandas_frame(obj: Any) -> bool:
    pd = sys.modules.get("pandas")
    return pd is not None and isinstance(obj, pd.DataFrame)


def _is_pandas_series(obj: Any) -> bool:
    pd = sys.modules.get("pandas")
    return pd is not None and isinstance(obj, pd.Series)


def _is_polars_frame(obj: Any) -> bool:
    pl = sys.modules.get("polars")
    return pl is not None and isinstance(obj, pl.DataFrame)


def _is_polars_series(obj: Any) -> bool:
    pl = sys.modules.get("polars")
    return pl is not None and isinstance(obj, pl.Series)


def table_of(data: Any) -> Tuple[pa.Table, Callable[[pa.Table], Any]]:
    """``data`` as a pyarrow Table, and the function that turns a result
    table back into the same kind as ``data``."""
    if isinstance(data, pa.Table):
        return data, lambda t: t
    if isinstance(data, pa.RecordBatch):
        return pa.Table.from_batches([data]), _to_batch
    if _is_pandas_frame(data):
        index = data.index
        table = pa.Table.from_pandas(data, preserve_index=False)

        def back(t: pa.Table) -> Any:
            out = t.to_pandas()
            if len(out) == len(index):  # no record dropped: keep the index
                out.index = index
            return out

        return table, back
    if _is_polars_frame(data):
        import polars as pl

        return data.to_arrow(), lambda t: pl.from_arrow(t)
    if hasattr(data, "__arrow_c_stream__"):
        return pa.table(data), lambda t: t
    raise TypeError(
        "expected a pyarrow Table or RecordBatch, a pandas or Polars DataFrame, "
        f"or an object with __arrow_c_stream__; got {type(data).__name__}"
    )


def _to_batch(t: pa.Table) -> pa.RecordBatch:
    t = t.combine_chunks()
    batches = t.to_batches()
    if batches:
        return batches[0]
    return pa.RecordBatch.from_arrays(
        [pa.array([], type=f.type) for f in t.schema], schema=t.schema
    )


def array_of(values: Any) -> Tuple[pa.Array, Callable[[pa.Array], Any]]:
    """One column as a pyarrow Array, and the function that turns a result
    array back into the same kind as ``values``."""
    if isinstance(values, pa.Array):
        return values, lambda a: a
    if isinstance(values, pa.ChunkedArray):
        return values.combine_chunks(), lambda a: pa.chunked_array([a])
    if _is_pandas_series(values):
        index, name = values.index, values.name
        arr = pa.Array.from_pandas(values)

        def back(a: pa.Array) -> Any:
            out = a.to_pandas()
            out.index = index
            out.name = name
            return out

        return arr, back
    if _is_polars_series(values):
        import polars as pl

        name = values.name
        return values.to_arrow(), lambda a: pl.Series(name, a)
    if isinstance(values, (str, bytes)):
        raise TypeError("expected a column of values (a list, an Array, a Series), not one string")
    if isinstance(values, (list, tuple)):
        return pa.array(list(values)), lambda a: a.to_pylist()
    if hasattr(values, "__arrow_c_array__"):
        return pa.array(values), lambda a: a
    try:
        arr = pa.array(values)
    except (TypeError, pa.ArrowInvalid) as e:
        raise TypeError(f"cannot read {type(values).__name__} as a column: {e}") from None
    return arr, lambda a: a.to_pylist()
