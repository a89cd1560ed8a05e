"""The stored shortfall: each product's stock at each site beside its minimum (`site_shortfalls`).

A row holds the sums of a product's levels at a site (`on_hand`, `reserved`, over its
locations) and the product's `min_stock`; low stock at a site is the index range of the
rows whose `on_hand − reserved` is below `min_stock` (stock/service.py). Who keeps what:

- the ledger's writer (`post_movements`) adds each request's net change per product and site, in
  its transaction, after the levels (`site_changes`; the statement is the writer's events
  statement on PostgreSQL, events/record.py, else `store`). Rows are written in
  (product_id, site_id) order: two requests that lock different levels of one site (two
  locations) then never wait on each other's rows in opposite orders;
- the catalogue: a product with a minimum has a row at every site of its brand (never
  stocked there: 0 on hand, short), created with the product (`add_products`), with the
  site (`add_site`), and its `min_stock` follows PATCH (`add_products` again). A row with
  no level and no minimum may be missing: it would read 0 of 0, never short. Archiving
  changes no row (low stock leaves archived products out by their product row).

A product created and a site created at once would each miss the other (neither sees the
other's uncommitted row): the first locks the brand's row FOR SHARE, the second FOR NO
KEY UPDATE, so one waits for the other (PostgreSQL; SQLite runs one writer at a time).
Writes (which lock the brand's row FOR KEY SHARE through their foreign keys) wait for neither.
"""

from __future__ import annotations

import uuid
from collections.abc import Collection, Mapping, Sequence
from typing import TYPE_CHECKING, Any, cast

from sqlalchemy import Table, bindparam, literal, select, text
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from stockroom.db.core import execute_core
from stockroom.db.models import Brand, Product, Site, SiteShortfall

if TYPE_CHECKING:  # the ledger's writer imports this module (and events/record.py does)
    from stockroom.ledger.available import HoldDraft
    from stockroom.ledger.rules import MovementDraft

shortfalls = cast(Table, SiteShortfall.__table__)
products = cast(Table, Product.__table__)
sites = cast(Table, Site.__table__)
brands = cast(Table, Brand.__table__)

# (product_id, site_id) and its net change (on hand, reserved).
SiteKey = tuple[uuid.UUID, uuid.UUID]
SiteChange = tuple[int, int]

_KEY = [shortfalls.c.brand_id, shortfalls.c.site_id, shortfalls.c.product_id]


def site_changes(
    drafts: Sequence[MovementDraft], holds: Sequence[HoldDraft]
) -> dict[SiteKey, SiteChange]:
    """Net change of on hand and reserved per product and site, in sorted key order (pairs
    whose figures do not change are left out)."""
    changes: dict[SiteKey, tuple[int, int]] = {}
    for draft in drafts:
        on_hand, reserved = changes.get((draft.product_id, draft.site_id), (0, 0))
        changes[(draft.product_id, draft.site_id)] = (on_hand + draft.quantity, reserved)
    for hold in holds:
        on_hand, reserved = changes.get((hold.product_id, hold.site_id), (0, 0))
        changes[(hold.product_id, hold.site_id)] = (on_hand, reserved + hold.quantity)
    return {key: changes[key] for key in sorted(changes) if changes[key] != (0, 0)}


def stored_cte(moved: str) -> str:
    """PostgreSQL: a data-modifying WITH item `stored` adding the changes of `moved` (a WITH
    item with product_id, site_id, on_hand_delta, reserved_delta) to the rows, returning
    each row's new figures (product_id, site_id, on_hand, reserved, min_stock)."""
    return f"""stored AS (
        INSERT INTO site_shortfalls AS ss
            (brand_id, site_id, product_id, on_hand, reserved, min_stock)
        SELECT :brand, m.site_id, m.product_id, m.on_hand_delta, m.reserved_delta, p.min_stock
        FROM {moved} AS m
        JOIN products AS p ON p.brand_id = :brand AND p.id = m.product_id
        ORDER BY m.product_id, m.site_id
        ON CONFLICT (brand_id, site_id, product_id) DO UPDATE
        SET on_hand = ss.on_hand + excluded.on_hand, reserved = ss.reserved + excluded.reserved
        RETURNING ss.product_id, ss.site_id, ss.on_hand, ss.reserved, ss.min_stock
    )"""  # noqa: S608 (only names are interpolated)


def _build_store(dialect: Any) -> Any:
    minimum = (
        select(products.c.min_stock)
        .where(products.c.brand_id == bindparam("b_brand"), products.c.id == bindparam("b_product"))
        .scalar_subquery()
    )
    stmt = dialect.insert(shortfalls).values(
        brand_id=bindparam("b_brand"),
        site_id=bindparam("b_site"),
        product_id=bindparam("b_product"),
        on_hand=bindparam("b_on_hand"),
        reserved=bindparam("b_reserved"),
        min_stock=minimum,
    )
    return stmt.on_conflict_do_update(
        index_elements=_KEY,
        set_={
            "on_hand": shortfalls.c.on_hand + stmt.excluded.on_hand,
            "reserved": shortfalls.c.reserved + stmt.excluded.reserved,
        },
    )


_STORE = {"postgresql": _build_store(postgresql), "sqlite": _build_store(sqlite)}


async def store(
    session: AsyncSession, brand_id: uuid.UUID, changes: Mapping[SiteKey, SiteChange]
) -> None:
    """Add the changes to the rows, in sorted key order (the statement of SQLite's writes and
    of PostgreSQL's large ones; the others' rides in their events statement)."""
    if not changes:
        return
    await execute_core(
        session,
        _STORE[session.get_bind().dialect.name],
        [
            {
                "b_brand": brand_id,
                "b_product": product_id,
                "b_site": site_id,
                "b_on_hand": on_hand,
                "b_reserved": reserved,
            }
            for (product_id, site_id), (on_hand, reserved) in sorted(changes.items())
        ],
    )


def _insert(dialect_name: str) -> Any:
    return (postgresql if dialect_name == "postgresql" else sqlite).insert(shortfalls)


_COLUMNS = ["brand_id", "site_id", "product_id", "on_hand", "reserved", "min_stock"]


async def add_products(
    session: AsyncSession,
    brand_id: uuid.UUID,
    product_ids: Collection[uuid.UUID],
    *,
    created: bool = False,
) -> None:
    """After products were created (`created`) or their min_stock changed: each of their
    rows carries the product's min_stock, and a product with a minimum has a row at every
    site. A created product without a minimum needs no row (never stocked: 0 of 0)."""
    if not product_ids:
        return
    await execute_core(
        session,
        select(brands.c.id).where(brands.c.id == brand_id).with_for_update(read=True),
    )
    source = (
        select(
            products.c.brand_id,
            sites.c.id,
            products.c.id,
            literal(0),
            literal(0),
            products.c.min_stock,
        )
        .join(sites, sites.c.brand_id == products.c.brand_id)
        .where(products.c.brand_id == brand_id, products.c.id.in_(product_ids))
        .order_by(products.c.id, sites.c.id)
    )
    if created:
        source = source.where(products.c.min_stock > 0)
    stmt = _insert(session.get_bind().dialect.name).from_select(_COLUMNS, source)
    await execute_core(
        session,
        stmt.on_conflict_do_update(
            index_elements=_KEY, set_={"min_stock": stmt.excluded.min_stock}
        ),
    )


async def add_site(session: AsyncSession, brand_id: uuid.UUID, site_id: uuid.UUID) -> None:
    """After a site was created: a row for every product of the brand with a minimum (none
    for a new brand's first site: nothing to write)."""
    await execute_core(
        session,
        select(brands.c.id).where(brands.c.id == brand_id).with_for_update(key_share=True),
    )
    if (await execute_core(session, _ANY_MINIMUM, {"b_brand": brand_id})).first() is None:
        return
    source = (
        select(
            products.c.brand_id,
            literal(site_id, type_=shortfalls.c.site_id.type),
            products.c.id,
            literal(0),
            literal(0),
            products.c.min_stock,
        )
        .where(products.c.brand_id == brand_id, products.c.min_stock > 0)
        .order_by(products.c.id)
    )
    stmt = _insert(session.get_bind().dialect.name).from_select(_COLUMNS, source)
    await execute_core(session, stmt.on_conflict_do_nothing(index_elements=_KEY))


_ANY_MINIMUM = (
    select(products.c.id)
    .where(products.c.brand_id == bindparam("b_brand"), products.c.min_stock > 0)
    .limit(1)
)


def rebuild_sql(brand: str) -> list[str]:
    """The statements that rebuild one brand's rows from its levels and products (`brand`:
    the SQL of the brand's id, a bound parameter): for bulk loads that bypass the services
    (the bench's data set). Migration 0013 fills the table with the same SELECT."""
    return [
        f"DELETE FROM site_shortfalls WHERE brand_id = {brand}",  # noqa: S608
        f"""INSERT INTO site_shortfalls
            (brand_id, site_id, product_id, on_hand, reserved, min_stock)
        SELECT p.brand_id, s.id, p.id, coalesce(l.on_hand, 0), coalesce(l.reserved, 0),
               p.min_stock
        FROM products AS p
        JOIN sites AS s ON s.brand_id = p.brand_id
        LEFT JOIN (
            SELECT brand_id, site_id, product_id, sum(on_hand) AS on_hand,
                   sum(reserved) AS reserved
            FROM stock_levels
            WHERE brand_id = {brand}
            GROUP BY brand_id, site_id, product_id
        ) AS l ON l.brand_id = p.brand_id AND l.site_id = s.id AND l.product_id = p.id
        WHERE p.brand_id = {brand} AND (p.min_stock > 0 OR l.product_id IS NOT NULL)""",  # noqa: S608
    ]


async def rebuild(session: AsyncSession, brand_id: uuid.UUID) -> None:
    """Rebuild one brand's rows from its levels and products (see `rebuild_sql`)."""
    for sql in rebuild_sql(":brand"):
        await execute_core(
            session,
            text(sql).bindparams(bindparam("brand", type_=shortfalls.c.brand_id.type)),
            {"brand": brand_id},
        )
