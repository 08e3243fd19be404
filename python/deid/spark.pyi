from os import PathLike
from typing import Any, Iterable, Optional, Sequence, Union

from ._native import Keyset, Policy

def apply(df: Any, policy: Policy, keyset: Keyset) -> Any:
    """mapInArrow of the policy over a Spark DataFrame (lazy)."""

def decrypt(df: Any, policy: Policy, keyset: Keyset) -> Any:
    """mapInArrow reversing the policy's encrypt and fpe fields (lazy)."""

def risk(
    df: Any, qi: Sequence[str], sampling_fraction: Optional[float] = None, *, population: Optional[int] = None
) -> dict[str, Any]:
    """``deid audit risk --json`` from Spark's groupBy class counts."""

def audit_hashes(
    df: Any,
    column: str,
    *,
    space: Optional[Union[str, Sequence[str]]] = None,
    algorithms: Sequence[str] = (),
    dictionary: Union[None, str, PathLike, Iterable[str]] = None,
    dict_normalize: Sequence[str] = (),
    salt: Optional[Union[str, bytes]] = None,
    salt_at: str = "prefix",
    hmac_key: Optional[bytes] = None,
    born: tuple[int, int] = (1950, 2005),
    threads: Optional[int] = None,
) -> dict[str, Any]:
    """``deid audit hashes --json`` of one column, digests collected on the driver."""
