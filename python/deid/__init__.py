"""deid: keyed pseudonyms, reversible tokens, generalization and
anonymization audits for pyarrow, pandas, Polars and PySpark.

The same Rust core as the ``deid`` command-line tool: every value comes out
byte for byte as ``deid apply`` writes it.

    >>> import deid
    >>> keys = deid.Keyset.generate()
    >>> policy = deid.Policy.from_toml('''
    ... version = 1
    ... [fields.phone]
    ... normalize = ["phone:KR"]
    ... transform = "pseudonymize"
    ... ''')
    >>> safe = deid.apply(df, policy, keys)        # pyarrow, pandas or Polars

Errors are :class:`DeidError` subclasses naming source, row and column,
never a value. Work on data releases the GIL and uses every core.
"""

from __future__ import annotations

import json as _json
from typing import Any, Iterable, Optional, Sequence

from . import _native
from ._errors import AuditError, DeidError, InputError, KeysetError, PolicyError
from ._frames import array_of as _array_of
from ._frames import table_of as _table_of

Keyset = _native.Keyset
Policy = _native.Policy

__version__ = _native.version()

__all__ = [
    "Keyset",
    "Policy",
    "apply",
    "decrypt",
    "transform",
    "pseudonymize",
    "encrypt",
    "fpe",
    "reveal",
    "DeidError",
    "PolicyError",
    "KeysetError",
    "InputError",
    "AuditError",
    "audit",
]


def _check(policy: Any, keyset: Any) -> None:
    if not isinstance(policy, Policy):
        raise TypeError(f"policy: expected deid.Policy, got {type(policy).__name__}")
    if not isinstance(keyset, Keyset):
        raise TypeError(f"keyset: expected deid.Keyset, got {type(keyset).__name__}")


def apply(data: Any, policy: "Policy", keyset: "Keyset", *, threads: Optional[int] = None) -> Any:
    """Applies ``policy`` to ``data`` with ``keyset``, as ``deid apply`` does.

    ``data`` is a ``pyarrow.Table`` or ``RecordBatch``, a pandas or Polars
    ``DataFrame`` (or any object with ``__arrow_c_stream__``, returned as a
    pyarrow Table); the result is of the same kind. Kept columns keep their
    type; transformed columns become strings; nulls stay null; values that
    are not strings are transformed in their text form (integers in
    decimal, dates as ISO 8601).

    A value that cannot be transformed raises :class:`InputError` naming its
    row and column (never the value), unless the policy says
    ``on_error = "drop-record"``, which leaves its row out.
    """
    _check(policy, keyset)
    table, back = _table_of(data)
    out = _native.transform_table(table, policy, keyset, "apply", "<table>", 0, threads)
    return back(out)


def decrypt(data: Any, policy: "Policy", keyset: "Keyset", *, threads: Optional[int] = None) -> Any:
    """Reverses the reversible fields of ``policy`` (``encrypt``, ``fpe``) in
    ``data``, as ``deid decrypt`` does; other columns pass unchanged. Same
    kinds as :func:`apply`. A token that does not open raises
    :class:`InputError`."""
    _check(policy, keyset)
    table, back = _table_of(data)
    out = _native.transform_table(table, policy, keyset, "decrypt", "<table>", 0, threads)
    return back(out)


def transform(
    values: Any,
    spec: "dict[str, Any]",
    *,
    keyset: "Keyset",
    column: str = "value",
    reverse: bool = False,
) -> Any:
    """Transforms one column with one field's spec: the keys of a
    ``[fields.<name>]`` table of a policy, e.g. ``{"transform": "mask",
    "keep_last": 4}``. ``values`` is a list, a pyarrow Array or
    ChunkedArray, a pandas or Polars Series; the result is of the same kind.
    ``column`` is the context when the spec names none. With
    ``reverse=True``, opens ``encrypt`` / ``fpe`` output again."""
    if not isinstance(keyset, Keyset):
        raise TypeError(f"keyset: expected deid.Keyset, got {type(keyset).__name__}")
    arr, back = _array_of(values)
    out = _native.transform_array(
        arr, _json.dumps(spec), keyset, column, "decrypt" if reverse else "apply"
    )
    return back(out)


def _spec(transform: str, context: str, normalize: Sequence[str], **options: Any) -> "dict[str, Any]":
    if not isinstance(context, str) or not context:
        raise TypeError("context: give the key-derivation context (e.g. the column name), a non-empty string")
    spec: "dict[str, Any]" = {"transform": transform, "context": context}
    if normalize:
        spec["normalize"] = list(normalize)
    spec.update({k: v for k, v in options.items() if v is not None})
    return spec


def pseudonymize(
    values: Any,
    *,
    context: str,
    keyset: "Keyset",
    normalize: Sequence[str] = (),
    bytes: int = 16,
    encoding: str = "hex",
    empty: Optional[str] = None,
) -> Any:
    """Keyed pseudonyms (HMAC-SHA256 under the subkey of ``context``) of one
    column: the same as a ``transform = "pseudonymize"`` field with this
    context. Same context and keyset, same pseudonym, in every file and
    engine. ``normalize`` takes the policy's normalizers (``"trim"``,
    ``"lowercase"``, ``"digits"``, ``"email"``, ``"phone:KR"``, ...)."""
    return transform(
        values,
        _spec("pseudonymize", context, normalize, bytes=bytes, encoding=encoding, empty=empty),
        keyset=keyset,
        column=context,
    )


def encrypt(
    values: Any,
    *,
    context: str,
    keyset: "Keyset",
    mode: str = "deterministic",
    normalize: Sequence[str] = (),
    empty: Optional[str] = None,
) -> Any:
    """Reversible tokens of one column: AES-SIV (``mode="deterministic"``,
    equal values give equal tokens) or AES-256-GCM (``"randomized"``).
    Open them with :func:`reveal`."""
    return transform(
        values,
        _spec("encrypt", context, normalize, mode=mode, empty=empty),
        keyset=keyset,
        column=context,
    )


def fpe(
    values: Any,
    *,
    context: str,
    keyset: "Keyset",
    normalize: Sequence[str] = (),
    empty: Optional[str] = None,
) -> Any:
    """Format-preserving encryption (FF1) of the digits of each value; other
    characters stay in place. Domains under 10^6 are refused."""
    return transform(
        values, _spec("fpe", context, normalize, empty=empty), keyset=keyset, column=context
    )


def reveal(
    values: Any,
    *,
    context: str,
    keyset: "Keyset",
    transform_name: str = "encrypt",
    mode: str = "deterministic",
    empty: Optional[str] = None,
) -> Any:
    """Opens tokens made by :func:`encrypt` (``transform_name="encrypt"``,
    either mode) or :func:`fpe` (``transform_name="fpe"``) with the same
    context. A token that does not open raises :class:`InputError`."""
    opts: "dict[str, Any]" = {"empty": empty}
    if transform_name == "encrypt":
        opts["mode"] = mode
    return transform(
        values,
        _spec(transform_name, context, (), **opts),
        keyset=keyset,
        column=context,
        reverse=True,
    )


from . import audit  # noqa: E402  (needs the names above)
