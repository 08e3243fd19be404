"""Exceptions of deid. Messages name the source, row, column and rule of a
failure and never carry a value of the data."""

from __future__ import annotations

from typing import Optional

__all__ = ["DeidError", "PolicyError", "KeysetError", "InputError", "AuditError"]


class DeidError(Exception):
    """Base class of every deid error.

    Attributes:
        source: the file or data the error is about (a path, ``"<table>"``,
            ``"spark partition 3"``), or None.
        row: the row number (counted from 1) or None.
        column: the column (or dotted path) or None.
    """

    def __init__(
        self,
        message: str,
        source: Optional[str] = None,
        row: Optional[int] = None,
        column: Optional[str] = None,
    ) -> None:
        super().__init__(message)
        self.source = source
        self.row = row
        self.column = column

    def __reduce__(self):  # survives pickling (Spark ships executor errors)
        return (type(self), (str(self), self.source, self.row, self.column))


class PolicyError(DeidError, ValueError):
    """The policy is malformed, or does not fit the data's columns."""


class KeysetError(DeidError, ValueError):
    """The keyset cannot be read or is malformed."""


class InputError(DeidError, ValueError):
    """The data cannot be read or a value cannot be transformed (its row and
    column are named, never its content)."""


class AuditError(DeidError, ValueError):
    """An audit cannot be answered as asked."""
