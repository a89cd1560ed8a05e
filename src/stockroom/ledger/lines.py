"""Checks a request's lines before they reach the writer: products and locations of the brand.

Every line names a product (which must exist in the caller's brand) and, for a
location-aware product, a location of the line's site. All problems are reported together
as one 422, each with the request field it concerns.
"""

from __future__ import annotations

import uuid
from collections.abc import Collection, Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Row, any_, bindparam, select
from sqlalchemy.dialects import postgresql
from sqlalchemy.ext.asyncio import AsyncSession

from stockroom.auth.scope import brand_scoped_columns
from stockroom.db.core import execute_core, prepared
from stockroom.db.models import Location, Product
from stockroom.errors import ValidationFailed, field_error
from stockroom.fields import MAX_LOCATION_ID  # locations.id is a 32-bit integer
from stockroom.ledger.rules import MovementDraft


@dataclass(frozen=True, slots=True)
class LineTarget:
    """Where one request line puts stock: `field` is its path prefix, e.g. `products[2].`."""

    field: str
    product_id: uuid.UUID
    site_id: uuid.UUID
    location_id: int | None
    location_field: str = "location_id"


def targets_of(drafts: Iterable[MovementDraft]) -> Iterator[LineTarget]:
    """The target of each draft, named by the draft's own field."""
    return (LineTarget(d.field, d.product_id, d.site_id, d.location_id) for d in drafts)


def one_of(column: Any, values: Collection[Any], dialect: str) -> Any:
    """`column IN values`, as cheap as the database allows.

    `IN` is an "expanding" parameter, rebuilt on every execution (a bound parameter per
    value, each rendered and processed in Python); one value (the usual single-line
    request) is a plain comparison with a cached statement, and on PostgreSQL many values
    are one array parameter (`= ANY(:values)`), the same statement whatever their number.
    """
    if len(values) == 1:
        return column == next(iter(values))
    if dialect == "postgresql":
        return column == any_(bindparam(None, list(values), type_=postgresql.ARRAY(column.type)))
    return column.in_(values)


def _only(values: set[Any]) -> Any:
    """The one element of a set of one."""
    return next(iter(values))


# The usual single-line request's lookups, built once (`IN` is an "expanding" parameter,
# rendered again on every execution).
_ONE_PRODUCT = prepared(
    select(Product.id, Product.location_aware, Product.cost_per_unit)
    .where(Product.brand_id == bindparam("brand"), Product.id == bindparam("product"))
    .with_for_update(read=True, key_share=True)
)
_ONE_LOCATION = prepared(
    select(Location.id, Location.site_id).where(
        Location.brand_id == bindparam("brand"), Location.id == bindparam("location")
    )
)


@dataclass(frozen=True, slots=True)
class LineProblem:
    """Why a line's target does not fit: `field` is relative to the line (`product_id`, ...)."""

    target: LineTarget
    field: str
    message: str


# Lines looked up per query: the API sends at most 500; a CSV import may send many thousands,
# and both databases bound the parameters of one statement (about 32,000).
LOOKUP_CHUNK = 2_000


async def check_line_targets(
    session: AsyncSession, brand_id: uuid.UUID, targets: Iterable[LineTarget]
) -> dict[uuid.UUID, Row[Any]]:
    """Validate every target at once; return the products (id, location_aware, cost) by id.

    Every problem is raised together as one ValidationFailed, each with its request field.
    """
    products, problems = await line_target_problems(session, brand_id, targets)
    if problems:
        raise ValidationFailed(
            "Some lines name products or locations that do not fit.",
            [field_error(p.target.field + p.field, p.message) for p in problems],
        )
    return products


async def line_target_problems(
    session: AsyncSession, brand_id: uuid.UUID, targets: Iterable[LineTarget]
) -> tuple[dict[uuid.UUID, Row[Any]], list[LineProblem]]:
    """The products found (by id) and every target that does not fit, in the targets' order."""
    targets = list(targets)
    products: dict[uuid.UUID, Row[Any]] = {}
    problems: list[LineProblem] = []
    for start in range(0, len(targets), LOOKUP_CHUNK):
        found, found_problems = await _chunk_problems(
            session, brand_id, targets[start : start + LOOKUP_CHUNK]
        )
        products.update(found)
        problems.extend(found_problems)
    return products, problems


async def _chunk_problems(
    session: AsyncSession, brand_id: uuid.UUID, targets: list[LineTarget]
) -> tuple[dict[uuid.UUID, Row[Any]], list[LineProblem]]:
    product_ids = {t.product_id for t in targets}
    # Ids outside the column's range name no location (and would overflow the driver).
    location_ids = {
        t.location_id
        for t in targets
        if t.location_id is not None and 0 < t.location_id <= MAX_LOCATION_ID
    }
    # Plain rows, not ORM objects: this runs on every stock write. FOR KEY SHARE (the lock
    # the movements' foreign key takes anyway, taken earlier): `location_aware` cannot
    # change until this write commits, as `update_product` locks the row FOR UPDATE.
    if len(product_ids) == 1:
        product_query: Any = _ONE_PRODUCT
        product_params: dict[str, Any] | None = {"brand": brand_id, "product": _only(product_ids)}
    else:
        product_query = (
            brand_scoped_columns(
                Product, brand_id, Product.id, Product.location_aware, Product.cost_per_unit
            )
            .where(one_of(Product.id, product_ids, session.get_bind().dialect.name))
            .with_for_update(read=True, key_share=True)
        )
        product_params = None
    products = {row.id: row for row in await execute_core(session, product_query, product_params)}
    location_sites: dict[int, uuid.UUID] = {}
    if len(location_ids) == 1:
        location_sites = {
            row.id: row.site_id
            for row in await execute_core(
                session, _ONE_LOCATION, {"brand": brand_id, "location": _only(location_ids)}
            )
        }
    elif location_ids:
        location_sites = {
            row.id: row.site_id
            for row in await execute_core(
                session,
                select(Location.id, Location.site_id).where(
                    Location.brand_id == brand_id,
                    one_of(Location.id, location_ids, session.get_bind().dialect.name),
                ),
            )
        }
    problems = []
    for t in targets:
        product = products.get(t.product_id)
        if product is None:
            problems.append(LineProblem(t, "product_id", f"unknown product {t.product_id}"))
            continue
        if t.location_id is None:
            if product.location_aware:
                problems.append(
                    LineProblem(t, t.location_field, "required: the product is location-aware")
                )
        elif not product.location_aware:
            problems.append(
                LineProblem(
                    t, t.location_field, "the product is not location-aware; omit the location"
                )
            )
        elif location_sites.get(t.location_id) != t.site_id:
            problems.append(
                LineProblem(
                    t, t.location_field, f"location {t.location_id} is not a location of the site"
                )
            )
    return products, problems
