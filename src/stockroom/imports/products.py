"""Importing products: a CSV of new catalogue items, inserted in bulk, all or none.

Columns: `sku,name,unit,min_stock,location_aware,cost_per_unit` (header required; `sku` and
`name` required, the others may be left out or empty: `unit`, 0, false, 0). A SKU may appear
once in the file and must not exist in the brand yet. The catalogue is not the ledger, so
the rows go in with Core `INSERT … executemany` in chunks, in the caller's transaction.
"""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any, cast

from sqlalchemy import Table, insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from stockroom.db.models import Product
from stockroom.db.models.base import new_id, utcnow
from stockroom.imports.fields import (
    MAX_QUANTITY,
    column_length,
    parse_bool,
    parse_integer,
    parse_money,
    parse_text,
)
from stockroom.imports.rows import (
    ErrorList,
    ImportRejected,
    Progress,
    RowError,
    TooManyErrors,
    read_records,
)
from stockroom.stock import shortfalls

COLUMNS = ("sku", "name", "unit", "min_stock", "location_aware", "cost_per_unit")
REQUIRED = ("sku", "name")
# Rows per INSERT / per SKU look-up: well under both databases' bound-parameter limits.
CHUNK = 2_000

products = cast(Table, Product.__table__)
_SKU_LENGTH = column_length(products.c.sku)
_NAME_LENGTH = column_length(products.c.name)
_UNIT_LENGTH = column_length(products.c.unit)

# (sku, name, unit, min_stock, location_aware, cost_per_unit)
ProductRow = tuple[str, str, str, int, bool, Decimal]

# Each column's parser; an empty optional cell takes the API's default.
_PARSERS: tuple[tuple[str, Callable[[str], Any]], ...] = (
    ("sku", lambda v: parse_text(v, max_length=_SKU_LENGTH)),
    ("name", lambda v: parse_text(v, max_length=_NAME_LENGTH)),
    ("unit", lambda v: parse_text(v, max_length=_UNIT_LENGTH) if v else "unit"),
    ("min_stock", lambda v: parse_integer(v, low=0, high=MAX_QUANTITY) if v else 0),
    ("location_aware", lambda v: parse_bool(v) if v else False),
    ("cost_per_unit", lambda v: parse_money(v) if v else Decimal("0")),
)


@dataclass
class ProductFile:
    """A read products file: its rows (kept only while it has no errors) and its problems."""

    path: Path
    rows: list[ProductRow] = field(default_factory=list)
    sku_lines: dict[str, int] = field(default_factory=dict)
    errors: ErrorList = field(default_factory=ErrorList)


def read_products(path: Path, progress: Progress | None = None) -> ProductFile:
    """Read and check every row of the file (no database needed)."""
    parsed = ProductFile(path)
    with contextlib.suppress(TooManyErrors):
        for line, cells in read_records(path, COLUMNS, REQUIRED, parsed.errors, progress):
            row = _product_row(line, cells, parsed)
            if row is not None and not parsed.errors:
                parsed.rows.append(row)
            elif parsed.rows:
                parsed.rows = []  # nothing will be written: stop holding rows
    return parsed


def _product_row(line: int, cells: dict[str, str], parsed: ProductFile) -> ProductRow | None:
    errors = parsed.errors
    count = len(errors)
    values: dict[str, Any] = {}
    for column, parse in _PARSERS:
        try:
            values[column] = parse(cells.get(column, ""))
        except ValueError as exc:
            errors.add(line, f"{column} {exc}")
    sku = values.get("sku")
    if sku is not None:
        first = parsed.sku_lines.setdefault(sku, line)
        if first != line:
            errors.add(line, f"sku {sku!r} is already on line {first}")
    if len(errors) > count:
        return None
    return (
        values["sku"],
        values["name"],
        values["unit"],
        values["min_stock"],
        values["location_aware"],
        values["cost_per_unit"],
    )


async def import_products(
    session: AsyncSession,
    brand_id: uuid.UUID,
    parsed: ProductFile,
    progress: Progress | None = None,
) -> int:
    """Insert the file's products into the brand (all or none); return how many.

    Raises ImportRejected with every error — the file's own and SKUs the brand already has.
    """
    errors = parsed.errors.copy()
    with contextlib.suppress(TooManyErrors):
        await _refuse_existing_skus(session, brand_id, parsed, errors, progress)
    if errors:
        raise ImportRejected(errors)
    total = len(parsed.rows)
    now = utcnow()
    try:
        for start in range(0, total, CHUNK):
            chunk = parsed.rows[start : start + CHUNK]
            ids = [new_id() for _ in chunk]
            await session.execute(
                insert(products),
                [
                    {
                        "id": product_id,
                        "brand_id": brand_id,
                        "sku": sku,
                        "name": name,
                        "unit": unit,
                        "min_stock": min_stock,
                        "location_aware": location_aware,
                        "cost_per_unit": cost,
                        "archived": False,
                        "created_at": now,
                        "updated_at": now,
                    }
                    for product_id, (sku, name, unit, min_stock, location_aware, cost) in zip(
                        ids, chunk, strict=True
                    )
                ],
            )
            # Those with a minimum are short at every site until stocked.
            minimums = [i for i, row in zip(ids, chunk, strict=True) if row[3] > 0]
            await shortfalls.add_products(session, brand_id, minimums, created=True)
            if progress is not None:
                progress("writing", start + len(chunk), total)
    except IntegrityError:
        # A SKU created by someone else since the check (PostgreSQL; SQLite's write lock
        # is held from the check on): the unique index refuses it, and nothing is kept.
        raise ImportRejected(
            [RowError(1, "a product with one of these SKUs was created meanwhile; run again")]
        ) from None
    return total


async def _refuse_existing_skus(
    session: AsyncSession,
    brand_id: uuid.UUID,
    parsed: ProductFile,
    errors: ErrorList,
    progress: Progress | None,
) -> None:
    skus = list(parsed.sku_lines)
    found: list[str] = []
    for start in range(0, len(skus), CHUNK):
        chunk = skus[start : start + CHUNK]
        found.extend(
            (
                await session.execute(
                    select(products.c.sku).where(
                        products.c.brand_id == brand_id, products.c.sku.in_(chunk)
                    )
                )
            ).scalars()
        )
        if progress is not None:
            progress("checking", start + len(chunk), len(skus))
    for sku in sorted(found, key=parsed.sku_lines.__getitem__):
        errors.add(parsed.sku_lines[sku], f"sku {sku!r} already exists in the brand")
