"""The brand-scoped query helper: every tenant-owned read starts here, not an inline filter."""

from __future__ import annotations

import uuid
from typing import Any, TypeVar

from sqlalchemy import Select, bindparam, select

from stockroom.auth.principal import Principal
from stockroom.db.core import prepared
from stockroom.db.models import Product

M = TypeVar("M")


def brand_scoped(model: type[M], brand: Principal | uuid.UUID) -> Select[M]:
    """`SELECT model WHERE model.brand_id = <caller's brand>`, the start of every tenant query."""
    brand_id = brand.brand_id if isinstance(brand, Principal) else brand
    column: Any = model.brand_id  # type: ignore[attr-defined]
    return select(model).where(column == brand_id)


def brand_scoped_columns(model: Any, brand: Principal | uuid.UUID, *columns: Any) -> Select[Any]:
    """Like `brand_scoped`, selecting only some columns (hot paths that need no ORM objects)."""
    brand_id = brand.brand_id if isinstance(brand, Principal) else brand
    return select(*columns).where(model.brand_id == brand_id)


# Is this product one of the brand's? (`brand`, `product`): the check of reads that name one.
PRODUCT_OF_BRAND = prepared(
    select(Product.id).where(
        Product.brand_id == bindparam("brand"), Product.id == bindparam("product")
    )
)
