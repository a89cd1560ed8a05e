"""The field types every request, answer and CSV file of Stockroom shares: one rule per value.

Quantities, money, storable text, location ids, timestamps and integer query parameters are
defined here once; request schemas, the CSV import and the CSV writers use these and never
restate a limit. `docs/api-notes.md` ("Field types") says what each accepts.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from datetime import datetime
from decimal import ROUND_HALF_UP, Context, Decimal, InvalidOperation
from typing import Annotated, Any

from pydantic import (
    AfterValidator,
    AwareDatetime,
    BeforeValidator,
    Field,
    PlainSerializer,
    WithJsonSchema,
)

# --- quantities ------------------------------------------------------------------------------

MAX_QUANTITY = 1_000_000_000
"""The largest quantity one line of any write may move (and the largest `min_stock`)."""

# Plain JSON integers only (no "5", no 5.0, no true).
Quantity = Annotated[int, Field(strict=True, ge=-MAX_QUANTITY, le=MAX_QUANTITY)]
PositiveQuantity = Annotated[int, Field(strict=True, gt=0, le=MAX_QUANTITY)]
NonNegativeQuantity = Annotated[int, Field(strict=True, ge=0, le=MAX_QUANTITY)]

# --- ids -------------------------------------------------------------------------------------

MAX_LOCATION_ID = 2**31 - 1
"""Location ids are 32-bit integer columns on both databases."""

LocationId = Annotated[
    int, Field(strict=True, ge=1, le=MAX_LOCATION_ID, description="A bin location of the site.")
]

# --- text ------------------------------------------------------------------------------------


def unstorable_reason(value: str) -> str | None:
    """Why no database text column can hold `value` (None when it can).

    PostgreSQL text cannot hold U+0000, and neither database takes an unpaired surrogate;
    SQLite would store NUL but then compare and search it differently from PostgreSQL.
    """
    if "\x00" in value:
        return "must not contain the NUL character"
    try:
        value.encode()
    except UnicodeEncodeError:
        return "must be valid Unicode text (no unpaired surrogates)"
    return None


def storable(value: str) -> str:
    """Pydantic validator: refuse text a database cannot store, as a 422 naming the field."""
    reason = unstorable_reason(value)
    if reason is not None:
        raise ValueError(reason)
    return value


Text = Annotated[str, AfterValidator(storable)]
"""Free text from a caller: anything but NUL and unpaired surrogates."""

# --- money -----------------------------------------------------------------------------------

MONEY_DIGITS, MONEY_PLACES = 18, 4
MONEY_INTEGER_DIGITS = MONEY_DIGITS - MONEY_PLACES
MONEY_STEP = Decimal(1).scaleb(-MONEY_PLACES)
MAX_MONEY = Decimal(10) ** MONEY_INTEGER_DIGITS - MONEY_STEP
"""The largest amount any money field holds: 99999999999999.9999."""

MONEY_CONTEXT = Context(prec=80, rounding=ROUND_HALF_UP)
"""Arithmetic on money: room for any quantity × price sum exactly (the default holds 28
digits); rounding half away from zero, like PostgreSQL's round()."""

# What a money string may look like, sent (a sign only so "-1" meets "must be ≥ 0") and
# answered (plain digits, at most 4 places; never "-0", "1E+2", "1_000" or " 5 ").
_MONEY_IN = re.compile(r"-?[0-9]+(\.[0-9]+)?")
MONEY_IN_PATTERN = r"^-?[0-9]+(\.[0-9]+)?$"
MONEY_OUT_PATTERN = r"^[0-9]{1,14}(\.[0-9]{1,4})?$"


def money_text(value: Decimal) -> str:
    """An amount as the API answers it: `12.5`, `100`, `0`; never `1E+2` or `-0`."""
    rounded = value.quantize(MONEY_STEP, context=MONEY_CONTEXT).normalize(MONEY_CONTEXT)
    return format(rounded + 0, "f")


def parse_money(value: str) -> Decimal:
    """A money string (the API's and the CSV import's one syntax) as a Decimal ≥ 0.

    Raises ValueError with a message for the person who wrote it.
    """
    if not _MONEY_IN.fullmatch(value):
        raise ValueError(
            f"must be a decimal number such as 12.50 (digits and an optional point; no "
            f"spaces, underscores, + or exponent), not {value!r}"
        )
    try:
        amount = Decimal(value) + 0  # -0 is 0
    except InvalidOperation:  # pragma: no cover - the pattern admits only valid decimals
        raise ValueError(f"must be a decimal number, not {value!r}") from None
    if amount < 0:
        raise ValueError("must be greater than or equal to 0")
    exponent = amount.normalize().as_tuple().exponent
    if isinstance(exponent, int) and exponent < -MONEY_PLACES:
        raise ValueError(f"has more than {MONEY_PLACES} decimal places: {value}")
    if amount > MAX_MONEY:
        raise ValueError(f"is too large (at most {MONEY_INTEGER_DIGITS} digits before the point)")
    return amount


def _money_syntax(value: Any) -> Any:
    # Only the spelling of strings is checked here; the bounds are Field constraints below.
    if isinstance(value, str) and not _MONEY_IN.fullmatch(value):
        raise ValueError(
            "must be a decimal number such as 12.50 (digits and an optional point; no spaces, "
            "underscores, + or exponent)"
        )
    return value


def _no_negative_zero(value: Decimal) -> Decimal:
    return value + 0


Money = Annotated[
    Decimal,
    BeforeValidator(_money_syntax),
    Field(ge=0, max_digits=MONEY_DIGITS, decimal_places=MONEY_PLACES),
    AfterValidator(_no_negative_zero),
    PlainSerializer(money_text, return_type=str),
    WithJsonSchema(
        {
            "anyOf": [
                {"type": "number", "minimum": 0, "exclusiveMaximum": 10**MONEY_INTEGER_DIGITS},
                {"type": "string", "pattern": MONEY_IN_PATTERN},
            ],
            "description": "A decimal ≥ 0 with at most 14 digits before the point and 4 "
            'after, as a JSON number or a string ("12.50").',
            "examples": ["12.50"],
        },
        mode="validation",
    ),
    WithJsonSchema(
        {"type": "string", "pattern": MONEY_OUT_PATTERN, "examples": ["12.5"]},
        mode="serialization",
    ),
]
"""Money sent by a caller (≥ 0, 4 places) and answered as a decimal string."""

MoneyOut = Annotated[
    Decimal,
    PlainSerializer(money_text, return_type=str),
    WithJsonSchema(
        {"type": "string", "pattern": MONEY_OUT_PATTERN, "examples": ["12.5"]},
        mode="serialization",
    ),
]
"""Money the API answers with (read from the database), as a decimal string."""

# --- timestamps ------------------------------------------------------------------------------


def rfc3339_utc(value: datetime) -> str:
    return value.isoformat().replace("+00:00", "Z")


Timestamp = Annotated[
    datetime,
    PlainSerializer(rfc3339_utc, return_type=str),
    WithJsonSchema({"type": "string", "format": "date-time"}, mode="serialization"),
]

OccurredAt = Annotated[
    AwareDatetime | None,
    Field(
        description="When the movements happened in the world (RFC 3339 with an offset); "
        "default now. At most STOCKROOM_BACKDATE_DAYS (default 7) days in the past and 5 "
        "minutes ahead; otherwise 422.",
        examples=["2026-11-28T17:30:00Z"],
    ),
]
"""A write's `occurred_at` (the window is the ledger writer's rule: `ledger/timeline.py`)."""

# --- integer query parameters ----------------------------------------------------------------

MAX_PER_PAGE = 100
DEFAULT_PER_PAGE = 25
MAX_PAGE = 1_000_000_000
"""Far beyond any real list; keeps OFFSET (page × per_page) inside 64-bit integers."""

# Every integer a query string carries is bounded here, so a huge number is a 422 naming the
# parameter, never an overflow in the database (a 500 on SQLite, a bare 422 on PostgreSQL).
# (Plain pydantic constraints: FastAPI reads a scalar parameter annotated with them as a
# query parameter, and this module stays free of the web framework.)
PageQuery = Annotated[int, Field(ge=1, le=MAX_PAGE, description="Page number, from 1.")]
PerPageQuery = Annotated[
    int, Field(ge=1, le=MAX_PER_PAGE, description="Items per page, 1–100 (default 25).")
]
LimitQuery = Annotated[
    int, Field(ge=1, le=MAX_PER_PAGE, description="Keyset paging: rows per page, 1–100.")
]
LocationIdQuery = Annotated[int, Field(ge=1, le=MAX_LOCATION_ID, description="A bin location.")]

# --- text query parameters -------------------------------------------------------------------


QueryText = Annotated[str, AfterValidator(storable)]
"""A text query parameter (`q`, `sku`...): refused (422) with NUL or unpaired surrogates."""

# --- CSV -------------------------------------------------------------------------------------

FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
"""First characters that make a spreadsheet read a cell as a formula (OWASP's list)."""


def csv_text_cell(value: str | None) -> str:
    """A cell of caller-written text, safe to open in a spreadsheet.

    As OWASP recommends, text starting with a formula character gets a leading `'`, which
    spreadsheets show as text and do not evaluate. Only caller-written text goes through
    here: numbers Stockroom writes (a quantity of -3) stay numbers.
    """
    if value is None:
        return ""
    return "'" + value if value.startswith(FORMULA_PREFIXES) else value


def csv_row(
    row: Mapping[str, Any], columns: Iterable[str], text_columns: Iterable[str]
) -> list[Any]:
    """The cells of one CSV row: empty for None, caller text escaped, the rest as is."""
    text = frozenset(text_columns)
    return [
        csv_text_cell(row[c]) if c in text else ("" if row[c] is None else row[c]) for c in columns
    ]
