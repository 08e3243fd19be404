from os import PathLike
from typing import Any, Iterable, Mapping, Optional, Sequence, Union

def risk(
    data: Any,
    qi: Sequence[str] = (),
    *,
    sensitive: Optional[str] = None,
    sampling_fraction: Optional[float] = None,
    population: Optional[int] = None,
    find_qi: Optional[int] = None,
) -> dict[str, Any]:
    """``deid audit risk --json`` of a table or frame."""

def risk_from_class_sizes(
    sizes: Union[Iterable[int], Mapping[int, int]],
    *,
    qi: Sequence[str] = (),
    sampling_fraction: Optional[float] = None,
    population: Optional[int] = None,
) -> dict[str, Any]:
    """The risk report from class sizes (or ``{size: classes}``)."""

def hashes(
    data: Any,
    columns: Optional[Sequence[str]] = None,
    *,
    spaces: Sequence[str] = (),
    algorithms: Sequence[str] = (),
    dictionary: Union[None, str, PathLike, Iterable[str]] = None,
    dict_normalize: Sequence[str] = (),
    salt: Optional[Union[str, bytes]] = None,
    salt_at: str = "prefix",
    hmac_key: Optional[bytes] = None,
    born: tuple[int, int] = (1950, 2005),
    threads: Optional[int] = None,
) -> dict[str, Any]:
    """``deid audit hashes --json`` of hashed columns."""
