from typing import Any, Optional, Sequence, TypeVar

from . import audit as audit
from ._errors import AuditError as AuditError
from ._errors import DeidError as DeidError
from ._errors import InputError as InputError
from ._errors import KeysetError as KeysetError
from ._errors import PolicyError as PolicyError
from ._native import Keyset as Keyset
from ._native import Policy as Policy

__version__: str

D = TypeVar("D")  # pyarrow.Table | pyarrow.RecordBatch | pandas.DataFrame | polars.DataFrame
C = TypeVar("C")  # list | pyarrow.Array | pyarrow.ChunkedArray | pandas.Series | polars.Series

def apply(data: D, policy: Policy, keyset: Keyset, *, threads: Optional[int] = None) -> D:
    """Applies the policy; returns the same kind of data. Raises InputError
    naming row and column (never the value)."""

def decrypt(data: D, policy: Policy, keyset: Keyset, *, threads: Optional[int] = None) -> D:
    """Reverses the policy's encrypt and fpe fields."""

def transform(values: C, spec: dict[str, Any], *, keyset: Keyset, column: str = "value", reverse: bool = False) -> C:
    """One column through one field spec (a ``[fields.<name>]`` table)."""

def pseudonymize(
    values: C,
    *,
    context: str,
    keyset: Keyset,
    normalize: Sequence[str] = (),
    bytes: int = 16,
    encoding: str = "hex",
    empty: Optional[str] = None,
) -> C:
    """Keyed HMAC-SHA256 pseudonyms under ``context``."""

def encrypt(
    values: C,
    *,
    context: str,
    keyset: Keyset,
    mode: str = "deterministic",
    normalize: Sequence[str] = (),
    empty: Optional[str] = None,
) -> C:
    """AES-SIV (deterministic) or AES-256-GCM (randomized) tokens."""

def fpe(values: C, *, context: str, keyset: Keyset, normalize: Sequence[str] = (), empty: Optional[str] = None) -> C:
    """FF1 format-preserving encryption of the digits."""

def reveal(
    values: C,
    *,
    context: str,
    keyset: Keyset,
    transform_name: str = "encrypt",
    mode: str = "deterministic",
    empty: Optional[str] = None,
) -> C:
    """Opens encrypt / fpe output made with the same context."""
