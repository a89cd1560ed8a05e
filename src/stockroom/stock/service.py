"""Reading stock levels: one product everywhere, a paginated listing, and low stock at a site.

Levels are read from `stock_levels` (which the ledger keeps equal to the sum of movements);
a location-aware product has one level per location, summed here per site. A site's
`in_transit` is what transfers in transit still owe it (`transfer_lines.outstanding`), per
site since the receipt chooses the location.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from datetime import datetime
from typing import Any, cast

from sqlalchemy import (
    BigInteger,
    CompoundSelect,
    Select,
    Table,
    Uuid,
    and_,
    bindparam,
    func,
    literal,
    literal_column,
    select,
    union,
)
from sqlalchemy import cast as sql_cast
from sqlalchemy.ext.asyncio import AsyncSession

from stockroom.auth.current_site import Access, check_site_access, load_site, resolve_current_site
from stockroom.auth.principal import Principal
from stockroom.auth.scope import PRODUCT_OF_BRAND, brand_scoped_columns
from stockroom.db.core import execute_core, prepared
from stockroom.db.models import NO_LOCATION, Product, Site, StockLevel, TransferLine
from stockroom.db.models.base import UTCDateTime, utcnow
from stockroom.db.models.ledger import AVAILABLE_INDEX_BOUND
from stockroom.errors import NotFound, ValidationFailed, field_error
from stockroom.ledger.available import expired_at_site, reserved_now
from stockroom.pagination import PageMeta, PageParams, fetch_page, fetch_rows_page
from stockroom.stock.history import Level, changes_since
from stockroom.stock.schemas import ProductStock

products = cast(Table, Product.__table__)
levels = cast(Table, StockLevel.__table__)
transfer_lines = cast(Table, TransferLine.__table__)


async def in_transit_to(
    session: AsyncSession,
    brand_id: uuid.UUID,
    product_ids: set[uuid.UUID],
    site_ids: set[uuid.UUID] | None = None,
) -> dict[tuple[uuid.UUID, uuid.UUID], int]:
    """Units of each product on their way to each site: {(product_id, site_id): units}."""
    if not product_ids:
        return {}
    outstanding = sql_cast(func.sum(transfer_lines.c.outstanding), BigInteger)
    query = (
        select(transfer_lines.c.product_id, transfer_lines.c.destination_site_id, outstanding)
        .where(
            transfer_lines.c.brand_id == brand_id,
            transfer_lines.c.product_id.in_(product_ids),
            transfer_lines.c.outstanding > 0,
        )
        .group_by(transfer_lines.c.product_id, transfer_lines.c.destination_site_id)
    )
    if site_ids is not None:
        query = query.where(transfer_lines.c.destination_site_id.in_(site_ids))
    return {(p, s): int(units) for p, s, units in await session.execute(query)}


def _in_transit_to_site(product_id: Any) -> Any:
    """SQL for the units of a product on their way to the row's site (`in_transit_to`, as a
    correlated probe of the (brand, product, destination) index)."""
    return (
        select(sql_cast(func.coalesce(func.sum(transfer_lines.c.outstanding), 0), BigInteger))
        .where(
            transfer_lines.c.brand_id == Site.brand_id,
            transfer_lines.c.product_id == product_id,
            transfer_lines.c.destination_site_id == Site.id,
            transfer_lines.c.outstanding > 0,
        )
        .scalar_subquery()
    )


def _only_readable(query: Select[Any], principal: Principal, site_column: Any) -> Select[Any]:
    """Keep the rows of sites the caller may read (admins read every site of the brand)."""
    return query if principal.is_admin else query.where(site_column.in_(principal.site_ids))


def _product_stock_query(*, past: bool) -> Select[Any]:
    """Every site of the brand with the product's levels there (bind parameters `brand`,
    `product`, `now`); `past`: the as-of read, which has no in-transit figure."""
    product = bindparam("product", type_=Uuid())
    return (
        select(
            Site.id,
            Site.name,
            levels.c.location_id,
            levels.c.on_hand,
            reserved_now(bindparam("now", type_=UTCDateTime())).label("reserved"),
            # The past has no in-transit figure (see product_stock_document); now, the site's
            # units on their way, probed in the same statement (no third query for them).
            (literal(0) if past else _in_transit_to_site(product)).label("in_transit"),
        )
        .where(Site.brand_id == bindparam("brand"))
        .outerjoin(
            levels,
            and_(
                levels.c.brand_id == Site.brand_id,
                levels.c.site_id == Site.id,
                levels.c.product_id == product,
            ),
        )
        .order_by(Site.name, Site.id, levels.c.location_id)
    )


# Built once: [now, as of]. A caller who may read only some sites adds their `IN` list.
_PRODUCT_STOCK = {
    False: prepared(_product_stock_query(past=False)),
    True: prepared(_product_stock_query(past=True)),
}


async def product_stock(
    session: AsyncSession,
    principal: Principal,
    product_id: uuid.UUID,
    as_of: datetime | None = None,
) -> ProductStock:
    """`product_stock_document` as the model (the dashboard's)."""
    document = await product_stock_document(session, principal, product_id, as_of)
    return ProductStock.model_validate(document)


async def product_stock_document(
    session: AsyncSession,
    principal: Principal,
    product_id: uuid.UUID,
    as_of: datetime | None = None,
) -> dict[str, Any]:
    """A product's stock at every site the caller may read (404 when not in the brand), as
    the `ProductStock` the API answers, in plain dicts: the API's read builds no model.

    Every readable site is listed, with on-hand 0 where the product has never been; a
    site's `locations` lists the locations that hold a level of the product. With `as_of`,
    on-hand as it was then (stock/history.py); reservations are promises, not ledger
    history, so `reserved` and `in_transit` are 0 and `available` equals on-hand.
    """
    params = {"brand": principal.brand_id, "product": product_id, "now": utcnow()}
    if (await execute_core(session, PRODUCT_OF_BRAND, params)).first() is None:
        raise NotFound(f"No product {product_id}.")
    query = _PRODUCT_STOCK[as_of is not None]
    if not principal.is_admin:
        query = query.where(Site.id.in_(principal.site_ids))
    rows = (await execute_core(session, query, params)).all()
    since: dict[Level, int] = {}
    if as_of is not None:
        stocked = {(product_id, row[0]) for row in rows if row[3] is not None}
        since = await changes_since(session, principal.brand_id, as_of, pairs=stocked)
    by_site: dict[uuid.UUID, dict[str, Any]] = {}
    for site_id, site_name, location_id, on_hand, reserved, in_transit in rows:
        entry = by_site.get(site_id)
        if entry is None:
            entry = by_site[site_id] = {
                "site_id": site_id,
                "site_name": site_name,
                "on_hand": 0,
                "reserved": 0,
                "available": 0,
                "in_transit": int(in_transit or 0),
                "locations": [],
            }
        if on_hand is None:
            continue
        reserved = int(reserved or 0)
        if as_of is not None:
            on_hand -= since.get((product_id, site_id, location_id), 0)
            reserved = 0
        entry["on_hand"] += on_hand
        entry["reserved"] += reserved
        entry["available"] += on_hand - reserved
        if location_id != NO_LOCATION:
            entry["locations"].append(
                {
                    "location_id": location_id,
                    "on_hand": on_hand,
                    "reserved": reserved,
                    "available": on_hand - reserved,
                }
            )
    listed = list(by_site.values())
    return {
        "product_id": product_id,
        "total": sum(s["on_hand"] for s in listed),
        "reserved": sum(s["reserved"] for s in listed),
        "available": sum(s["available"] for s in listed),
        "in_transit": sum(s["in_transit"] for s in listed),
        "sites": listed,
    }


async def list_stock_levels(
    session: AsyncSession,
    principal: Principal,
    params: PageParams,
    *,
    site_id: uuid.UUID | None,
    product_id: uuid.UUID | None,
    as_of: datetime | None = None,
) -> tuple[list[dict[str, Any]], PageMeta]:
    """Levels per product and site (locations summed) at sites the caller may read.

    Ordered by SKU, then site id. A product appears at a site once any movement has
    touched it there, even when its on-hand is now 0 (or, with `as_of`, was 0 then).
    With `as_of`: on-hand as it was then; `reserved` 0 and `available` = on-hand.
    """
    on_hand = sql_cast(func.sum(levels.c.on_hand), BigInteger)
    reserved = sql_cast(func.sum(reserved_now(utcnow())), BigInteger)
    query = (
        brand_scoped_columns(
            StockLevel,
            principal,
            levels.c.product_id,
            products.c.sku,
            products.c.name,
            levels.c.site_id,
            on_hand.label("on_hand"),
            reserved.label("reserved"),
            products.c.min_stock,
        )
        .join(
            products,
            and_(products.c.brand_id == levels.c.brand_id, products.c.id == levels.c.product_id),
        )
        .group_by(
            levels.c.product_id,
            products.c.sku,
            products.c.name,
            levels.c.site_id,
            products.c.min_stock,
        )
        .order_by(products.c.sku, levels.c.site_id)
    )
    if site_id is not None:
        site = await load_site(session, principal, site_id)
        check_site_access(principal, site, Access.read)
        query = query.where(levels.c.site_id == site.id)
    else:
        query = _only_readable(query, principal, levels.c.site_id)
    if product_id is not None:
        await _require_product(session, principal, product_id)
        query = query.where(levels.c.product_id == product_id)
    rows, meta = await fetch_page(session, query, params, scalars=False)
    items = [dict(r) for r in rows]
    if as_of is not None:
        pairs = {(r["product_id"], r["site_id"]) for r in items}
        since = await changes_since(session, principal.brand_id, as_of, pairs=pairs)
        per_pair: dict[tuple[uuid.UUID, uuid.UUID], int] = defaultdict(int)
        for (level_product, level_site, _), quantity in since.items():
            per_pair[(level_product, level_site)] += quantity
        for item in items:
            item["on_hand"] -= per_pair.get((item["product_id"], item["site_id"]), 0)
            item["reserved"] = 0
        coming: dict[tuple[uuid.UUID, uuid.UUID], int] = {}
    else:
        coming = await in_transit_to(
            session,
            principal.brand_id,
            {r["product_id"] for r in items},
            {r["site_id"] for r in items},
        )
    return [
        item
        | {
            "available": item["on_hand"] - item["reserved"],
            "in_transit": coming.get((item["product_id"], item["site_id"]), 0),
        }
        for item in items
    ], meta


def low_stock_query(
    brand_id: uuid.UUID, site_id: uuid.UUID, now: datetime | None = None
) -> Select[Any]:
    """Products whose `available` is below `min_stock` at one site, as ONE set-based query,
    biggest shortfall first. Available = on hand − reserved by holds unexpired at `now`.

    Each active product of the brand gets its on-hand at the site from a correlated sum
    over its levels (locations summed); a product never stocked there counts as 0 — a shop
    that has none of a product it should keep is short of it. Archived products are left
    out. The rule is literally available < min_stock, so at a site that allows negative stock
    a product with min_stock 0 and on-hand −3 is short by 3.

    Only candidates are summed (`_low_stock_candidates`): the products with a level at the
    site whose on_hand − reserved is below the brand's largest min_stock, and the products
    with a min_stock and no level there. Every short product is one (see there), and at a
    site where few products are short there are few candidates, whatever the catalogue's
    size. A candidate's figures are then exact, as before.

    Why a correlated sum rather than a join to aggregated levels: its plan does not depend
    on table statistics. Each product's levels are one probe of the (brand_id, site_id,
    product_id) index. A join looked as fast, until a catalogue import left PostgreSQL's
    statistics stale: it then estimated one product and nested-looped over every level of
    the site per product (seconds).
    """
    held = (
        select(sql_cast(func.sum(levels.c.on_hand), BigInteger))
        .where(
            levels.c.brand_id == products.c.brand_id,
            levels.c.site_id == site_id,
            levels.c.product_id == products.c.id,
        )
        .scalar_subquery()
    )
    # Reserved: the levels' stored figure less the holds past their expiry (usually none).
    stored = (
        select(sql_cast(func.sum(levels.c.reserved), BigInteger))
        .where(
            levels.c.brand_id == products.c.brand_id,
            levels.c.site_id == site_id,
            levels.c.product_id == products.c.id,
        )
        .scalar_subquery()
    )
    expired = expired_at_site(products.c.brand_id, products.c.id, site_id, now or utcnow())
    # The candidates drive: each is one probe of the products' key, whatever the statistics
    # (OFFSET 0: the union is computed once, never re-run per product).
    candidates = _low_stock_candidates(brand_id, site_id).offset(0).subquery("candidates")
    per_product = (
        select(
            products.c.id.label("product_id"),
            products.c.sku,
            products.c.name,
            products.c.min_stock,
            func.coalesce(held, 0).label("on_hand"),
            (func.coalesce(stored, 0) - expired).label("reserved"),
        )
        .select_from(candidates)
        .join(
            products,
            and_(products.c.brand_id == brand_id, products.c.id == candidates.c.product_id),
        )
        .where(products.c.archived.is_(False))
        # OFFSET 0 keeps the subquery whole, so the sum is computed once per product and not
        # again for the filter and the sort key (PostgreSQL would otherwise inline it).
        .offset(0)
        .subquery("per_product")
    )
    available = per_product.c.on_hand - per_product.c.reserved
    shortfall = (per_product.c.min_stock - available).label("shortfall")
    return (
        select(
            per_product.c.product_id,
            per_product.c.sku,
            per_product.c.name,
            per_product.c.on_hand,
            per_product.c.reserved,
            available.label("available"),
            per_product.c.min_stock,
            shortfall,
        )
        .where(available < per_product.c.min_stock)
        .order_by(shortfall.desc(), per_product.c.sku)
    )


def _low_stock_candidates(brand_id: uuid.UUID, site_id: uuid.UUID) -> CompoundSelect[Any]:
    """A superset of the products short at the site, from two index ranges.

    Why every short product is here: min_stock is never negative, so let M be the largest
    min_stock of the brand's active products. A product with no level at the site has
    available 0, short only when its min_stock is above 0 (second part). A product with
    levels there is short when the sum of its levels' on_hand − reserved, plus the expired
    holds readers add back (never negative), is below its min_stock ≤ M; if each of its k ≥ 1
    levels had on_hand − reserved ≥ M ≥ 0, that sum would be ≥ k × M ≥ M. So one level is
    below M (first part, the (brand_id, site_id, on_hand − reserved) index of 0012).
    """
    largest = (
        select(func.max(products.c.min_stock))
        .where(products.c.brand_id == brand_id, products.c.archived.is_(False))
        .scalar_subquery()
    )
    available = levels.c.on_hand - levels.c.reserved
    below = select(levels.c.product_id).where(
        levels.c.brand_id == brand_id,
        levels.c.site_id == site_id,
        available < largest,
        # The partial index's own predicate, as a literal, so that the planner may use it
        # (min_stock is a 32-bit column: below the largest is always below this).
        available < literal_column(str(AVAILABLE_INDEX_BOUND)),
    )
    # A scalar subquery, not NOT EXISTS: it stays one probe of the (brand_id, site_id,
    # product_id) index per product, whatever the statistics (an anti-join's plan would not).
    any_level = (
        select(literal_column("1"))
        .where(
            levels.c.brand_id == brand_id,
            levels.c.site_id == site_id,
            levels.c.product_id == products.c.id,
        )
        .limit(1)
        .scalar_subquery()
    )
    unstocked = select(products.c.id).where(
        products.c.brand_id == brand_id,
        products.c.min_stock > 0,
        any_level.is_(None),
    )
    return union(below, unstocked)


async def low_stock(
    session: AsyncSession,
    principal: Principal,
    params: PageParams,
    *,
    site_id: uuid.UUID | None,
    header_site: uuid.UUID | None,
) -> tuple[list[dict[str, Any]], PageMeta]:
    """Low-stock items at the current site (which the caller must be able to read)."""
    site = await resolve_current_site(
        session, principal, explicit=site_id, header=header_site, access=Access.read
    )
    rows, meta = await fetch_rows_page(
        session, low_stock_query(principal.brand_id, site.id), params
    )
    # Shown, not compared: units on their way do not lift a product out of low stock.
    coming = await in_transit_to(
        session, principal.brand_id, {r["product_id"] for r in rows}, {site.id}
    )
    return [
        r | {"site_id": site.id, "in_transit": coming.get((r["product_id"], site.id), 0)}
        for r in rows
    ], meta


async def _require_product(
    session: AsyncSession, principal: Principal, product_id: uuid.UUID
) -> None:
    known = (
        await session.execute(
            brand_scoped_columns(Product, principal, Product.id).where(Product.id == product_id)
        )
    ).first()
    if known is None:
        raise ValidationFailed(
            "The product does not exist in your brand.",
            [field_error("product_id", f"unknown product {product_id}")],
        )
