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
    Select,
    Table,
    Uuid,
    and_,
    bindparam,
    case,
    func,
    literal,
    select,
)
from sqlalchemy import cast as sql_cast
from sqlalchemy.ext.asyncio import AsyncSession

from stockroom.auth.current_site import Access, check_site_access, load_site, resolve_current_site
from stockroom.auth.principal import Principal
from stockroom.auth.scope import PRODUCT_OF_BRAND, brand_scoped_columns
from stockroom.db.core import execute_core, prepared
from stockroom.db.models import NO_LOCATION, Product, Site, SiteShortfall, StockLevel, TransferLine
from stockroom.db.models.base import UTCDateTime, utcnow
from stockroom.errors import NotFound, ValidationFailed, field_error
from stockroom.ledger.available import expired_at_site, reserved_now
from stockroom.pagination import PageMeta, PageParams, fetch_page, fetch_rows_page
from stockroom.stock.history import Level, changes_since
from stockroom.stock.schemas import ProductStock

products = cast(Table, Product.__table__)
levels = cast(Table, StockLevel.__table__)
transfer_lines = cast(Table, TransferLine.__table__)
shortfalls = cast(Table, SiteShortfall.__table__)


def _build_in_transit(*, by_site: bool) -> Select[Any]:
    outstanding = sql_cast(func.sum(transfer_lines.c.outstanding), BigInteger)
    query = (
        select(transfer_lines.c.product_id, transfer_lines.c.destination_site_id, outstanding)
        .where(
            transfer_lines.c.brand_id == bindparam("transit_brand"),
            transfer_lines.c.product_id.in_(bindparam("transit_products", expanding=True)),
            transfer_lines.c.outstanding > 0,
        )
        .group_by(transfer_lines.c.product_id, transfer_lines.c.destination_site_id)
    )
    if by_site:
        query = query.where(
            transfer_lines.c.destination_site_id.in_(bindparam("transit_sites", expanding=True))
        )
    return query


# Built once (low stock asks on every request).
_IN_TRANSIT = {by_site: _build_in_transit(by_site=by_site) for by_site in (False, True)}


async def in_transit_to(
    session: AsyncSession,
    brand_id: uuid.UUID,
    product_ids: set[uuid.UUID],
    site_ids: set[uuid.UUID] | None = None,
) -> dict[tuple[uuid.UUID, uuid.UUID], int]:
    """Units of each product on their way to each site: {(product_id, site_id): units}."""
    if not product_ids:
        return {}
    values: dict[str, Any] = {"transit_brand": brand_id, "transit_products": list(product_ids)}
    if site_ids is not None:
        values["transit_sites"] = list(site_ids)
    query = _IN_TRANSIT[site_ids is not None]
    return {(p, s): int(units) for p, s, units in await execute_core(session, query, values)}


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


def _build_low_stock_query() -> Select[Any]:
    """Products whose `available` is below `min_stock` at one site, as ONE set-based query,
    biggest shortfall first. Available = on hand − reserved by holds unexpired at `now`.
    Built once (`LOW_STOCK`), with the brand, the site and now bound per request
    (`low_stock_parameters`): building it cost more Python time than running it.

    Read from the stored shortfalls (stock/shortfalls.py): each product's on hand and
    reserved at the site (locations summed) beside its min_stock (`stockroom verify` checks
    it is the product's), a product never stocked there at 0 — a shop that has none of a
    product it should keep is short of it. Only the
    short rows are read, an index range (the partial index of migration 0013), whatever the
    catalogue's size. Archived products are left out. The rule is literally available <
    min_stock, so at a site that allows negative stock a product with min_stock 0 and on-hand
    −3 is short by 3.

    The stored reserved still counts the holds past `expires_at` the sweeper has not recorded
    yet; each short row's expired holds are subtracted here (one probe of the lines' index),
    which can only lift a product out of low stock, never in: the short rows are every
    candidate.
    """
    brand_id = bindparam("low_brand", type_=Uuid())
    site_id = bindparam("low_site", type_=Uuid())
    now = bindparam("low_now", type_=UTCDateTime())
    expired = expired_at_site(shortfalls.c.brand_id, shortfalls.c.product_id, site_id, now)

    def of_product(column: Any) -> Any:
        # A probe of the products' key per short row: a join's plan would follow the
        # statistics, which cannot estimate `on_hand − reserved < min_stock` (PostgreSQL
        # guessed a third of the site's rows and hashed the whole catalogue).
        return (
            select(column)
            .where(
                products.c.brand_id == shortfalls.c.brand_id,
                products.c.id == shortfalls.c.product_id,
            )
            .scalar_subquery()
        )

    per_product = (
        select(
            shortfalls.c.product_id,
            of_product(products.c.sku).label("sku"),
            of_product(products.c.name).label("name"),
            shortfalls.c.min_stock,
            shortfalls.c.on_hand,
            # No probe where nothing is reserved (most rows).
            (shortfalls.c.reserved - case((shortfalls.c.reserved == 0, 0), else_=expired)).label(
                "reserved"
            ),
        )
        .where(
            shortfalls.c.brand_id == brand_id,
            shortfalls.c.site_id == site_id,
            # The partial index's own predicate (SHORT, as written there), so that the
            # planner may use it.
            shortfalls.c.min_stock > shortfalls.c.on_hand - shortfalls.c.reserved,
            of_product(products.c.archived).is_(False),
        )
        # OFFSET 0 keeps the subquery whole, so the expired holds are probed once per row and
        # not again for the filter and the sort key (PostgreSQL would otherwise inline it).
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


LOW_STOCK = _build_low_stock_query()


def low_stock_parameters(
    brand_id: uuid.UUID, site_id: uuid.UUID, now: datetime | None = None
) -> dict[str, Any]:
    """The values `LOW_STOCK` reads: low stock of this brand at this site, at `now`."""
    return {"low_brand": brand_id, "low_site": site_id, "low_now": now or utcnow()}


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
        session, LOW_STOCK, params, low_stock_parameters(principal.brand_id, site.id)
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
