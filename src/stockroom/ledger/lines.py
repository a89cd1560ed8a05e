"""Checks a request's lines before they reach the writer: products and locations of the brand.

Every line names a product (which must exist in the caller's brand) and, for a
location-aware product, a location of the line's site. All problems are reported together
as one 422, each with the request field it concerns.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Row, select
from sqlalchemy.ext.asyncio import AsyncSession

from stockroom.auth.scope import brand_scoped_columns
from stockroom.db.core import execute_core
from stockroom.db.models import Location, Product
from stockroom.errors import ValidationFailed, field_error

MAX_LOCATION_ID = 2**31 - 1  # locations.id is a 32-bit integer


@dataclass(frozen=True, slots=True)
class LineTarget:
    """Where one request line puts stock: `field` is its path prefix, e.g. `products[2].`."""

    field: str
    product_id: uuid.UUID
    site_id: uuid.UUID
    location_id: int | None
    location_field: str = "location_id"


def _one_of(column: Any, values: set[Any]) -> Any:
    # `IN` is an "expanding" parameter, rebuilt on every execution; one value (the usual
    # single-line request) is a plain comparison with a cached statement.
    if len(values) == 1:
        return column == next(iter(values))
    return column.in_(values)


async def check_line_targets(
    session: AsyncSession, brand_id: uuid.UUID, targets: Iterable[LineTarget]
) -> dict[uuid.UUID, Row[Any]]:
    """Validate every target at once; return the products (id, location_aware, cost) by id."""
    targets = list(targets)
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
    products = {
        row.id: row
        for row in await execute_core(
            session,
            brand_scoped_columns(
                Product, brand_id, Product.id, Product.location_aware, Product.cost_per_unit
            )
            .where(_one_of(Product.id, product_ids))
            .with_for_update(read=True, key_share=True),
        )
    }
    location_sites: dict[int, uuid.UUID] = {}
    if location_ids:
        location_sites = {
            row.id: row.site_id
            for row in await execute_core(
                session,
                select(Location.id, Location.site_id).where(
                    Location.brand_id == brand_id, _one_of(Location.id, location_ids)
                ),
            )
        }
    details = []
    for t in targets:
        product = products.get(t.product_id)
        location_field = t.field + t.location_field
        if product is None:
            details.append(field_error(t.field + "product_id", f"unknown product {t.product_id}"))
            continue
        if t.location_id is None:
            if product.location_aware:
                details.append(
                    field_error(location_field, "required: the product is location-aware")
                )
        elif not product.location_aware:
            details.append(
                field_error(location_field, "the product is not location-aware; omit the location")
            )
        elif location_sites.get(t.location_id) != t.site_id:
            details.append(
                field_error(
                    location_field, f"location {t.location_id} is not a location of the site"
                )
            )
    if details:
        raise ValidationFailed("Some lines name products or locations that do not fit.", details)
    return products
