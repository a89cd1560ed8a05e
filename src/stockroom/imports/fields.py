"""Parsing one CSV cell, with the limits the API applies to the same field.

Each parser takes the stripped cell text and returns the value, or raises ValueError with a
message meant for the person who wrote the file.
"""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy import String

from stockroom.fields import MAX_LOCATION_ID, MAX_QUANTITY, parse_money, unstorable_reason

# The API's own limits and syntax (stockroom.fields), re-exported for the importers.
__all__ = [
    "MAX_LOCATION_ID",
    "MAX_QUANTITY",
    "column_length",
    "parse_bool",
    "parse_integer",
    "parse_money",
    "parse_text",
]

_INTEGER = re.compile(r"[+-]?\d{1,19}")
_TRUE = frozenset({"true", "yes", "y", "1"})
_FALSE = frozenset({"false", "no", "n", "0"})


def column_length(column: Any) -> int:
    """The length of a String column, the limit of the text that goes in it."""
    column_type = column.type
    assert isinstance(column_type, String) and column_type.length is not None
    return column_type.length


def parse_text(value: str, *, max_length: int) -> str:
    if not value:
        raise ValueError("is required")
    if len(value) > max_length:
        raise ValueError(f"is {len(value)} characters long; at most {max_length} are allowed")
    reason = unstorable_reason(value)
    if reason is not None:
        raise ValueError(reason)
    return value


def parse_integer(value: str, *, low: int, high: int) -> int:
    if not _INTEGER.fullmatch(value):
        raise ValueError(f"must be a whole number, not {value!r}")
    number = int(value)
    if not low <= number <= high:
        raise ValueError(f"must be between {low} and {high}, not {number}")
    return number


def parse_bool(value: str) -> bool:
    lowered = value.lower()
    if lowered in _TRUE:
        return True
    if lowered in _FALSE:
        return False
    raise ValueError(f"must be true or false (also yes/no, 1/0), not {value!r}")
