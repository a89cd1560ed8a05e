"""Parsing one CSV cell, with the limits the API applies to the same field.

Each parser takes the stripped cell text and returns the value, or raises ValueError with a
message meant for the person who wrote the file.
"""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation
from typing import Any

from sqlalchemy import String

# Same limits as the API (quantities, min_stock) and the columns (Numeric(18, 4), int32 ids).
MAX_QUANTITY = 1_000_000_000
MAX_LOCATION_ID = 2**31 - 1
MONEY_PLACES = 4
MONEY_INTEGER_DIGITS = 18 - MONEY_PLACES

_INTEGER = re.compile(r"[+-]?\d{1,19}")
_DECIMAL = re.compile(r"\d+(\.\d*)?|\.\d+")
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


def parse_money(value: str) -> Decimal:
    """A decimal ≥ 0 with at most 4 decimal places (trailing zeros do not count)."""
    if not _DECIMAL.fullmatch(value):
        raise ValueError(f"must be a decimal number ≥ 0 such as 12.50, not {value!r}")
    try:
        amount = Decimal(value)
    except InvalidOperation:  # pragma: no cover - the pattern admits only valid decimals
        raise ValueError(f"must be a decimal number, not {value!r}") from None
    exponent = amount.normalize().as_tuple().exponent
    if isinstance(exponent, int) and exponent < -MONEY_PLACES:
        raise ValueError(f"has more than {MONEY_PLACES} decimal places: {value}")
    if amount >= Decimal(10) ** MONEY_INTEGER_DIGITS:
        raise ValueError(f"is too large (at most {MONEY_INTEGER_DIGITS} digits before the point)")
    return amount
