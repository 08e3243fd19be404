"""The compiled half of deid (Rust, PyO3). Use the functions of ``deid``,
``deid.audit`` and ``deid.spark``; this module is their engine."""

import pathlib
from os import PathLike
from typing import Optional, Sequence, Tuple, Union

import pyarrow as pa

_Path = Union[str, PathLike]

class Keyset:
    """Master secrets (a ``deid keygen`` file). Never printed, never pickled."""

    @staticmethod
    def load(path: _Path) -> "Keyset":
        """Reads a keyset file; warns when group or others can read it.
        Raises KeysetError."""
    @staticmethod
    def generate() -> "Keyset":
        """A new keyset with one key (id 1) from the OS random source."""
    @staticmethod
    def from_json(text: str) -> "Keyset":
        """Reads a keyset from its JSON text. Raises KeysetError."""
    def to_json(self) -> bytes:
        """The keyset's JSON, secrets included: handle as a secret."""
    def save(self, path: _Path) -> None:
        """Writes the keyset with mode 0600, atomically."""
    @property
    def primary_id(self) -> int:
        """The key id new tokens use."""
    @property
    def ids(self) -> list[int]:
        """Every key id of the set."""

class Policy:
    """A policy (the TOML of ``deid apply --policy``), validated."""

    @staticmethod
    def from_toml(text: str, source: str = "<policy>", base_dir: Optional[_Path] = None) -> "Policy":
        """Parses TOML text; hierarchy files are read from ``base_dir``
        (default: the current folder). Raises PolicyError naming ``source``."""
    @staticmethod
    def load(path: _Path) -> "Policy":
        """Reads a policy file; hierarchy files are read from its folder.
        Raises PolicyError naming the file."""
    @property
    def base_dir(self) -> pathlib.Path:
        """The folder hierarchy files are read from."""
    @property
    def toml(self) -> str:
        """The TOML text as given."""
    @property
    def fields(self) -> dict[str, str]:
        """``{column: transform}`` for every field the policy names."""

def transform_table(
    data: pa.Table,
    policy: Policy,
    keyset: Keyset,
    direction: str = "apply",
    source: str = "<table>",
    first_row: int = 0,
    threads: Optional[int] = None,
) -> pa.Table: ...
def transform_array(
    values: pa.Array, spec_json: str, keyset: Keyset, column: str = "value", direction: str = "apply"
) -> pa.Array: ...
def risk(
    data: pa.Table,
    qi: Sequence[str],
    sensitive: Optional[str] = None,
    sampling_fraction: Optional[float] = None,
    population: Optional[int] = None,
    find_qi: Optional[int] = None,
    source: str = "<table>",
) -> str: ...
def risk_from_class_sizes(
    sizes: Sequence[int],
    qi: Sequence[str],
    sampling_fraction: Optional[float] = None,
    population: Optional[int] = None,
) -> str: ...
def hashes(
    data: pa.Table,
    columns: Sequence[str],
    algorithms: Sequence[str] = ...,
    spaces: Sequence[str] = ...,
    dictionary: Optional[Sequence[str]] = None,
    dictionary_name: str = "dict",
    dict_normalize: Sequence[str] = ...,
    salt: Optional[bytes] = None,
    salt_at: str = "prefix",
    hmac_key: Optional[bytes] = None,
    born: Tuple[int, int] = (1950, 2005),
    threads: Optional[int] = None,
    source: str = "<table>",
) -> str: ...
def hashes_from_counts(
    column: str,
    values: Sequence[Optional[str]],
    counts: Sequence[int],
    algorithms: Sequence[str] = ...,
    spaces: Sequence[str] = ...,
    dictionary: Optional[Sequence[str]] = None,
    dictionary_name: str = "dict",
    dict_normalize: Sequence[str] = ...,
    salt: Optional[bytes] = None,
    salt_at: str = "prefix",
    hmac_key: Optional[bytes] = None,
    born: Tuple[int, int] = (1950, 2005),
    threads: Optional[int] = None,
    source: str = "<table>",
) -> str: ...
def version() -> str: ...
