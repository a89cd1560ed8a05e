"""What the dashboard pages read, composed from the resource services where they fit.

Stock search and paging come from the catalogue (`catalog.service.list_products`), a
product's levels from `stock.service.product_stock`, low stock from `stock.service.low_stock`,
movements from the movement report (`movements.service`). Queried here only what no
service answers: who is signed in, the readable sites by name, on-hand for one page of
products, and the product's stock history from the ledger.
"""

from __future__ import annotations

import uuid
from collections.abc import Collection
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, cast

from sqlalchemy import BigInteger, Table, func, or_, select
from sqlalchemy import cast as sql_cast
from sqlalchemy.ext.asyncio import AsyncSession

from stockroom.auth.principal import Principal
from stockroom.auth.scope import brand_scoped, brand_scoped_columns
from stockroom.auth.tokens import load_principal, looks_like_token
from stockroom.catalog.service import list_products
from stockroom.db.models import (
    Brand,
    Location,
    Product,
    Site,
    StockLevel,
    StockMovement,
    Transfer,
    User,
)
from stockroom.db.models.base import utcnow
from stockroom.errors import Unauthenticated, ValidationFailed, field_error
from stockroom.ledger.available import reserved_now
from stockroom.movements.schemas import Movement
from stockroom.movements.service import (
    MovementFilters,
    movement_report_query,
    movements_after_cursor,
)
from stockroom.pagination import PageMeta, PageParams

# The chart reads at most this many of the product's newest movements.
HISTORY_LIMIT = 500

_levels = cast(Table, StockLevel.__table__)
_movements = cast(Table, StockMovement.__table__)


@dataclass(frozen=True)
class DashboardUser:
    """The signed-in person: who, in which brand, and the sites they may read (by name)."""

    principal: Principal
    email: str
    brand_name: str
    sites: list[Site]
    # The session's CSRF token, for the hidden field of every write form (`forms.csrf_token`).
    csrf: str = ""

    def site(self, site_id: uuid.UUID) -> Site | None:
        return next((s for s in self.sites if s.id == site_id), None)

    @property
    def writable_sites(self) -> list[Site]:
        """The sites where this user may change stock (none for a viewer)."""
        return [s for s in self.sites if self.principal.can_write(s.id)]

    def can_write(self, site_id: uuid.UUID) -> bool:
        return self.principal.can_write(site_id)


async def principal_for_token(session: AsyncSession, token: str) -> Principal | None:
    """The principal of a live token, or None for a malformed, unknown or revoked one."""
    if not looks_like_token(token):
        return None
    try:
        return await load_principal(session, token)
    except Unauthenticated:
        return None


async def dashboard_user(session: AsyncSession, principal: Principal) -> DashboardUser:
    """The signed-in user's email and brand name, and the sites they may read, by name."""
    email, brand_name = (
        await session.execute(
            brand_scoped_columns(User, principal, User.email, Brand.name)
            .join(Brand, Brand.id == User.brand_id)
            .where(User.id == principal.user_id)
        )
    ).one()
    query = brand_scoped(Site, principal).order_by(Site.name, Site.id)
    if not principal.is_admin:
        query = query.where(Site.id.in_(principal.site_ids))
    sites = list((await session.execute(query)).scalars())
    return DashboardUser(principal, email, brand_name, sites)


async def brand_sites(session: AsyncSession, principal: Principal) -> list[Site]:
    """Every site of the brand, by name: where a transfer may go. The API takes any site of
    the brand as a destination (write access is needed at the source only), so a manager
    ships to a site they may not read, and names it to do so."""
    query = brand_scoped(Site, principal).order_by(Site.name, Site.id)
    return list((await session.execute(query)).scalars())


@dataclass
class StockRow:
    """A product and its on-hand at each listed site (absent: never stocked there, so 0)."""

    product: Product
    on_hand: dict[uuid.UUID, int] = field(default_factory=dict)
    reserved: dict[uuid.UUID, int] = field(default_factory=dict)

    def at(self, site_id: uuid.UUID) -> int:
        return self.on_hand.get(site_id, 0)

    @property
    def total(self) -> int:
        return sum(self.on_hand.values())

    def is_low(self, site_id: uuid.UUID) -> bool:
        # The low-stock rule of `stock.service.low_stock_query`: available < min_stock.
        return self.at(site_id) - self.reserved.get(site_id, 0) < self.product.min_stock


async def stock_rows(
    session: AsyncSession,
    principal: Principal,
    params: PageParams,
    *,
    site_ids: Collection[uuid.UUID],
    q: str | None,
) -> tuple[list[StockRow], PageMeta]:
    """One page of the live catalogue (searched by SKU or name) with on-hand per site.

    `site_ids` are sites the caller may read; the page's levels come from one query.
    """
    products, meta = await list_products(session, principal, params, q=q)
    rows = [StockRow(p) for p in products]
    if not rows or not site_ids:
        return rows, meta
    by_id = {row.product.id: row for row in rows}
    on_hand = sql_cast(func.sum(_levels.c.on_hand), BigInteger)
    reserved = sql_cast(func.sum(reserved_now(utcnow())), BigInteger)
    levels = await session.execute(
        brand_scoped_columns(
            StockLevel, principal, _levels.c.product_id, _levels.c.site_id, on_hand, reserved
        )
        .where(_levels.c.product_id.in_(list(by_id)), _levels.c.site_id.in_(list(site_ids)))
        .group_by(_levels.c.product_id, _levels.c.site_id)
    )
    for product_id, site_id, quantity, held in levels:
        by_id[product_id].on_hand[site_id] = int(quantity)
        by_id[product_id].reserved[site_id] = int(held or 0)
    return rows, meta


@dataclass(frozen=True)
class HistoryPoint:
    id: uuid.UUID
    created_at: datetime
    type: str
    quantity: int
    on_hand: int  # the product's total at the readable sites right after this movement


async def stock_history(
    session: AsyncSession,
    principal: Principal,
    product_id: uuid.UUID,
    *,
    limit: int = HISTORY_LIMIT,
) -> tuple[int, list[HistoryPoint]]:
    """The product's total on hand (at the sites the caller may read) after each of its newest
    `limit` movements, oldest first, and the total before the first of them.

    Computed by the database in ONE statement, so the total and the window see the same
    snapshot: the total is the sum of every movement (the ledger, not the levels table), and
    the running figure of a movement is that total minus what the newer ones added.
    """
    scope = [_movements.c.product_id == product_id]
    if not principal.is_admin:
        scope.append(_movements.c.site_id.in_(sorted(principal.site_ids)))
    newest_first = (_movements.c.created_at.desc(), _movements.c.id.desc())
    recent = (
        brand_scoped_columns(
            StockMovement,
            principal,
            _movements.c.id,
            _movements.c.created_at,
            _movements.c.type,
            _movements.c.quantity,
        )
        .where(*scope)
        .order_by(*newest_first)
        .limit(limit)
        .subquery("recent")
    )
    total = (
        brand_scoped_columns(
            StockMovement,
            principal,
            sql_cast(func.coalesce(func.sum(_movements.c.quantity), 0), BigInteger),
        )
        .where(*scope)
        .scalar_subquery()
    )
    # What this movement and every newer one added, newest first.
    added_since: Any = sql_cast(
        func.sum(recent.c.quantity).over(
            order_by=(recent.c.created_at.desc(), recent.c.id.desc()), rows=(None, 0)
        ),
        BigInteger,
    )
    # The outer query reads only the window, which is already brand-scoped.
    query = select(
        recent.c.id,
        recent.c.created_at,
        recent.c.type,
        recent.c.quantity,
        (total - added_since + recent.c.quantity).label("on_hand"),
    ).order_by(recent.c.created_at, recent.c.id)
    rows = (await session.execute(query)).all()
    points = [
        HistoryPoint(row.id, row.created_at, row.type, int(row.quantity), int(row.on_hand))
        for row in rows
    ]
    baseline = points[0].on_hand - points[0].quantity if points else 0
    return baseline, points


async def latest_movements(
    session: AsyncSession,
    principal: Principal,
    *,
    site_id: uuid.UUID | None = None,
    product_id: uuid.UUID | None = None,
    type: str | None = None,
    start_date: str | None = None,
    end_date: str | None = None,
    cursor: str | None = None,
    limit: int = 50,
) -> tuple[list[Movement], str | None]:
    """The newest movements at the sites the caller may read (the movement report's rows),
    keyset-paged: the cursor of the next older page, or None at the end."""
    filters = MovementFilters(
        product_id=product_id, site_id=site_id, type=type, start_date=start_date, end_date=end_date
    )
    query = await movement_report_query(session, principal, filters)
    return await movements_after_cursor(session, query, cursor, limit)


async def product_labels(
    session: AsyncSession, principal: Principal, product_ids: Collection[uuid.UUID]
) -> dict[uuid.UUID, tuple[str, str]]:
    """SKU and name of the given products of the brand (archived ones too)."""
    if not product_ids:
        return {}
    rows = await session.execute(
        brand_scoped_columns(Product, principal, Product.id, Product.sku, Product.name).where(
            Product.id.in_(list(product_ids))
        )
    )
    return {product_id: (sku, name) for product_id, sku, name in rows}


async def location_names(
    session: AsyncSession, principal: Principal, location_ids: Collection[int]
) -> dict[int, str]:
    """Names of the given bin locations of the brand."""
    if not location_ids:
        return {}
    rows = await session.execute(
        brand_scoped_columns(Location, principal, Location.id, Location.name).where(
            Location.id.in_(list(location_ids))
        )
    )
    return {location_id: name for location_id, name in rows}


async def find_product_by_sku(
    session: AsyncSession, principal: Principal, sku: str
) -> Product | None:
    """The product of the brand with this SKU, exactly as typed or scanned."""
    return (
        await session.execute(brand_scoped(Product, principal).where(Product.sku == sku))
    ).scalar()


async def product_by_sku(
    session: AsyncSession, principal: Principal, sku: str, *, field: str = "sku"
) -> Product:
    """The live product of the brand with this SKU, exactly as typed or scanned (422 if none)."""
    product = await find_product_by_sku(session, principal, sku) if sku else None
    if product is None or product.archived:
        message = f"No product has the SKU {sku!r}." if sku else "Enter or scan a SKU."
        raise ValidationFailed(message, [field_error(field, message)])
    return product


async def sku_choices(
    session: AsyncSession, principal: Principal, *, limit: int = 500
) -> list[str]:
    """SKUs of the live catalogue for the forms' suggestion list (the first `limit`)."""
    rows = await session.execute(
        brand_scoped_columns(Product, principal, Product.sku)
        .where(Product.archived.is_(False))
        .order_by(Product.sku)
        .limit(limit)
    )
    return [sku for (sku,) in rows]


async def user_emails(
    session: AsyncSession, principal: Principal, user_ids: Collection[uuid.UUID | None]
) -> dict[uuid.UUID, str]:
    """Emails of the given users of the brand: who made each movement."""
    wanted = [u for u in user_ids if u is not None]
    if not wanted:
        return {}
    rows = await session.execute(
        brand_scoped_columns(User, principal, User.id, User.email).where(User.id.in_(wanted))
    )
    return {user_id: email for user_id, email in rows}


@dataclass(frozen=True)
class SiteLocation:
    id: int
    site_id: uuid.UUID
    site_name: str
    name: str


async def site_locations(
    session: AsyncSession, principal: Principal, sites: Collection[Site]
) -> list[SiteLocation]:
    """The bin locations of the given sites, by site and name, for the forms' choices."""
    names = {s.id: s.name for s in sites}
    if not names:
        return []
    rows = await session.execute(
        brand_scoped_columns(Location, principal, Location.id, Location.site_id, Location.name)
        .where(Location.site_id.in_(list(names)))
        .order_by(Location.site_id, Location.name, Location.id)
    )
    found = [SiteLocation(i, site_id, names[site_id], name) for i, site_id, name in rows]
    return sorted(found, key=lambda loc: (loc.site_name, loc.name, loc.id))


def suggested_reorder(min_stock: int, available: int, in_transit: int = 0) -> int:
    """How many to order for a low level: enough to reach twice the minimum stock, counting
    what is already on its way (Stockroom keeps no maximum level; docs/dashboard.md)."""
    return max(2 * min_stock - available - in_transit, 0)


async def open_transfer_ids(
    session: AsyncSession, principal: Principal, site_ids: Collection[uuid.UUID], *, limit: int
) -> list[uuid.UUID]:
    """Transfers still on their way (in transit or partly received) from or to these sites,
    oldest first: what waits longest is received first."""
    if not site_ids:
        return []
    rows = await session.execute(
        brand_scoped_columns(Transfer, principal, Transfer.id)
        .where(
            Transfer.status.in_(("in_transit", "partially_received")),
            or_(
                Transfer.source_site_id.in_(list(site_ids)),
                Transfer.destination_site_id.in_(list(site_ids)),
            ),
        )
        .order_by(Transfer.created_at, Transfer.id)
        .limit(limit)
    )
    return [transfer_id for (transfer_id,) in rows]
