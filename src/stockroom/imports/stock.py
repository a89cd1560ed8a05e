"""Importing stock at one site: initial stock or adjustments, through the ledger, all or none.

Columns: `sku,quantity[,location_id][,cost_per_unit]` (header required).

- `initial`: the opening count of products whose stock is not tracked at the site yet —
  `quantity` ≥ 0, optional `cost_per_unit` (it moves the product's average cost, as
  `POST /inventory/initial-stock` does). The API's rules apply, through the API's own
  functions: a product that already has any movement at the site is refused
  (`already_initialized`); a location-aware product may have one line per location.
- `adjust`: `quantity` is the signed change (non-zero), as in `POST /inventory/adjustments`,
  with a reason (`recount` by default). A change that would take a level below zero at a
  site that forbids it is refused (`insufficient_stock`) — for every short line at once.

A level (sku + location) may appear once per file. Every line is checked against the brand
(SKU known; then the API's line-target check: location required/refused/of this site)
before anything is written; then `post_movements` writes every movement (in chunks) in the
caller's transaction.
"""

from __future__ import annotations

import contextlib
import uuid
from dataclasses import dataclass, field
from decimal import Decimal
from enum import StrEnum
from pathlib import Path
from typing import cast

from sqlalchemy import Table
from sqlalchemy.ext.asyncio import AsyncSession

from stockroom.adjustments.schemas import BatchReason
from stockroom.auth.scope import brand_scoped, brand_scoped_columns
from stockroom.db.models import Product, Site
from stockroom.db.models.base import utcnow
from stockroom.errors import InsufficientStock, NotFound
from stockroom.imports.fields import (
    MAX_LOCATION_ID,
    MAX_QUANTITY,
    column_length,
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
from stockroom.initial_stock.service import average_opening_costs, initialized_products
from stockroom.ledger import MovementDraft, post_movements
from stockroom.ledger.lines import line_target_problems, targets_of
from stockroom.ledger.rules import level_key

COLUMNS = ("sku", "quantity", "location_id", "cost_per_unit")
REQUIRED = ("sku", "quantity")
# Ids per look-up query, lines per ledger write: well under both databases' bound-parameter
# limits (about 32,000).
CHUNK = 2_000
WRITE_CHUNK = 1_000

products = cast(Table, Product.__table__)
_SKU_LENGTH = column_length(products.c.sku)


class StockMode(StrEnum):
    initial = "initial"
    adjust = "adjust"


@dataclass(frozen=True, slots=True)
class StockLine:
    line: int
    sku: str
    quantity: int
    location_id: int | None
    cost_per_unit: Decimal | None


@dataclass
class StockFile:
    """A read stock file: its well-formed lines and every problem found in it."""

    path: Path
    mode: StockMode
    lines: list[StockLine] = field(default_factory=list)
    errors: ErrorList = field(default_factory=ErrorList)


def read_stock(path: Path, mode: StockMode, progress: Progress | None = None) -> StockFile:
    """Read and check every row of the file (no database needed)."""
    parsed = StockFile(path, mode)
    first_line: dict[tuple[str, int | None], int] = {}
    with contextlib.suppress(TooManyErrors):
        for line, cells in read_records(path, COLUMNS, REQUIRED, parsed.errors, progress):
            stock_line = _stock_line(line, cells, mode, parsed.errors)
            if stock_line is None:
                continue
            key = (stock_line.sku, stock_line.location_id)
            first = first_line.setdefault(key, line)
            if first != line:
                where = "" if key[1] is None else f" at location {key[1]}"
                parsed.errors.add(line, f"sku {key[0]!r}{where} is already on line {first}")
                continue
            parsed.lines.append(stock_line)
    return parsed


def _stock_line(
    line: int, cells: dict[str, str], mode: StockMode, errors: ErrorList
) -> StockLine | None:
    count = len(errors)
    sku = quantity = location_id = cost = None
    try:
        sku = parse_text(cells.get("sku", ""), max_length=_SKU_LENGTH)
    except ValueError as exc:
        errors.add(line, f"sku {exc}")
    try:
        low = 0 if mode is StockMode.initial else -MAX_QUANTITY
        quantity = parse_integer(cells.get("quantity", ""), low=low, high=MAX_QUANTITY)
        if quantity == 0 and mode is StockMode.adjust:
            raise ValueError("must not be 0 (it is the change to the stock)")
    except ValueError as exc:
        errors.add(line, f"quantity {exc}")
    if raw_location := cells.get("location_id", ""):
        try:
            location_id = parse_integer(raw_location, low=1, high=MAX_LOCATION_ID)
        except ValueError as exc:
            errors.add(line, f"location_id {exc}")
    if raw_cost := cells.get("cost_per_unit", ""):
        try:
            if mode is not StockMode.initial:
                raise ValueError("applies to --mode initial only; leave it empty")
            cost = parse_money(raw_cost)
        except ValueError as exc:
            errors.add(line, f"cost_per_unit {exc}")
    if len(errors) > count or sku is None or quantity is None:
        return None
    return StockLine(line, sku, quantity, location_id, cost)


async def import_stock(
    session: AsyncSession,
    brand_id: uuid.UUID,
    site_id: uuid.UUID,
    parsed: StockFile,
    *,
    reason: BatchReason = BatchReason.recount,
    reference: str | None = None,
    progress: Progress | None = None,
) -> int:
    """Write the file's movements at the site (all or none); return how many.

    Raises ImportRejected with every problem found, by line; NotFound for a site that is
    not the brand's.
    """
    site = (await session.execute(brand_scoped(Site, brand_id).where(Site.id == site_id))).scalar()
    if site is None:
        raise NotFound(f"No site {site_id} in brand {brand_id}.")
    errors = parsed.errors.copy()
    targets: dict[str, uuid.UUID] = {}
    with contextlib.suppress(TooManyErrors):
        targets = await _find_skus(session, brand_id, parsed, errors, progress)
    initial = parsed.mode is StockMode.initial
    drafts = [
        MovementDraft(
            type="initial_stock" if initial else "adjustment",
            product_id=targets[line.sku],
            site_id=site_id,
            quantity=line.quantity,
            location_id=line.location_id,
            unit_cost=line.cost_per_unit,
            reason_code=None if initial else reason.value,
            reference=reference,
            field=str(line.line),  # where errors point: the file's line
        )
        for line in parsed.lines
        if line.sku in targets
    ]
    with contextlib.suppress(TooManyErrors):
        await _check_targets(session, brand_id, drafts, errors)
        if initial:
            await _refuse_initialized(session, brand_id, site_id, drafts, errors)
    if errors:
        raise ImportRejected(errors)
    if initial:
        await average_opening_costs(session, brand_id, drafts, now=utcnow())
    # In chunks, so no statement outgrows the databases' bound-parameter limits; in level
    # order across chunks (each level is on one line only), so the locks are still taken in
    # one global order. All chunks are in the caller's transaction: all or nothing still.
    drafts.sort(key=level_key)
    short: list[RowError] = []
    for start in range(0, len(drafts), WRITE_CHUNK):
        try:
            await post_movements(
                session, brand_id, drafts[start : start + WRITE_CHUNK], user_id=None
            )
        except InsufficientStock as exc:
            # Nothing will be kept; go on only to find every short line of the file.
            short.extend(_short_lines(exc, parsed.lines, targets))
        if progress is not None:
            progress("writing", min(start + WRITE_CHUNK, len(drafts)), len(drafts))
    if short:
        raise ImportRejected(short)
    return len(drafts)


async def _find_skus(
    session: AsyncSession,
    brand_id: uuid.UUID,
    parsed: StockFile,
    errors: ErrorList,
    progress: Progress | None,
) -> dict[str, uuid.UUID]:
    """The products named by SKU; an unknown SKU is an error of its line."""
    skus = sorted({line.sku for line in parsed.lines})
    targets: dict[str, uuid.UUID] = {}
    for start in range(0, len(skus), CHUNK):
        rows = await session.execute(
            brand_scoped_columns(Product, brand_id, products.c.sku, products.c.id).where(
                products.c.sku.in_(skus[start : start + CHUNK])
            )
        )
        targets.update({sku: product_id for sku, product_id in rows})
        if progress is not None:
            progress("checking", start + CHUNK, len(skus))
    for line in parsed.lines:
        if line.sku not in targets:
            errors.add(line.line, f"sku {line.sku!r} is not a product of the brand")
    return targets


async def _check_targets(
    session: AsyncSession, brand_id: uuid.UUID, drafts: list[MovementDraft], errors: ErrorList
) -> None:
    """The API's line-target check (location required, refused, or of this site), by line."""
    _, problems = await line_target_problems(
        session,
        brand_id,
        targets_of(drafts),
    )
    for problem in problems:
        errors.add(int(problem.target.field), f"{problem.field}: {problem.message}")


async def _refuse_initialized(
    session: AsyncSession,
    brand_id: uuid.UUID,
    site_id: uuid.UUID,
    drafts: list[MovementDraft],
    errors: ErrorList,
) -> None:
    """`already_initialized`, as the API decides it: any movement of the product at the site."""
    started = await initialized_products(session, brand_id, site_id, [d.product_id for d in drafts])
    for draft in drafts:
        if draft.product_id in started:
            errors.add(
                int(draft.field),
                "the product already has stock movements at this site "
                "(already_initialized); count it with --mode adjust",
            )


def _short_lines(
    exc: InsufficientStock, lines: list[StockLine], targets: dict[str, uuid.UUID]
) -> list[RowError]:
    by_level = {(str(targets[line.sku]), line.location_id): line for line in lines}
    short = []
    for detail in exc.details:
        line = by_level.get((str(detail.get("product_id")), detail.get("location_id")))
        message = (
            f"on hand is {detail.get('on_hand')}; a change of {detail.get('requested')} "
            "would go below zero (insufficient_stock)"
        )
        if line is None:  # pragma: no cover - every level comes from one line of the file
            short.append(RowError(1, message))
        else:
            short.append(RowError(line.line, f"sku {line.sku!r}: {message}"))
    return short
