"""Stock counts: count sessions fed by several devices, applied as `recount` adjustments.

A line's `expected` is the level's on hand read in the same transaction as the line is
recorded, so completing the count writes, per line, `counted − expected`: whatever was sold
or received after that line was counted is kept (Square's count semantics, not "set the
level to the count at the moment it is applied").

Every write to a count first claims its row with one conditional UPDATE (`… WHERE status =
'open'`): recording lines, completing and cancelling serialise on that row, so a line can
never slip in after the count was applied and of two concurrent completions one wins.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Iterable, Sequence
from typing import Any, cast

from sqlalchemy import Table, and_, insert, or_, select, tuple_, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from stockroom.auth.current_site import (
    Access,
    SiteRef,
    check_site_access,
    load_site,
    resolve_current_site,
)
from stockroom.auth.principal import Principal
from stockroom.auth.scope import brand_scoped, brand_scoped_columns
from stockroom.counts.schemas import Count as CountOut
from stockroom.counts.schemas import CountLineIn, CountStart
from stockroom.db.core import execute_core
from stockroom.db.models import (
    NO_LOCATION,
    Location,
    Product,
    StockCount,
    StockCountLine,
    StockCountProduct,
    StockLevel,
    StockMovement,
)
from stockroom.db.models.base import new_id, utcnow
from stockroom.errors import CountClosed, NotFound, ValidationFailed, field_error
from stockroom.events.record import api_data, record_event
from stockroom.fields import MAX_LOCATION_ID
from stockroom.ledger import LineTarget, MovementDraft, check_line_targets, post_movements
from stockroom.pagination import PageMeta, PageParams, fetch_page

RECOUNT = "recount"
_lines = cast(Table, StockCountLine.__table__)
_levels = cast(Table, StockLevel.__table__)
_movements = cast(Table, StockMovement.__table__)

Key = tuple[uuid.UUID, int]  # (product_id, location_id or NO_LOCATION)


def _upsert_lines(dialect: Any) -> Any:
    stmt = dialect.insert(_lines)
    return stmt.on_conflict_do_update(
        index_elements=[
            _lines.c.brand_id,
            _lines.c.count_id,
            _lines.c.product_id,
            _lines.c.location_id,
        ],
        set_={
            "counted_quantity": stmt.excluded.counted_quantity,
            "expected": stmt.excluded.expected,
            "counted_at": stmt.excluded.counted_at,
            "counted_by": stmt.excluded.counted_by,
        },
        # An entry that repeats the line's figure changes nothing: a retried PUT (a device
        # on a flaky network) must not move the instant the shelf was counted.
        where=_lines.c.counted_quantity != stmt.excluded.counted_quantity,
    )


_UPSERT_LINES = {"postgresql": _upsert_lines(postgresql), "sqlite": _upsert_lines(sqlite)}


# --- starting -------------------------------------------------------------------------------


async def start_count(
    session: AsyncSession,
    principal: Principal,
    body: CountStart,
    header_site: uuid.UUID | None,
    *,
    user_id: uuid.UUID | None,
) -> dict[str, Any]:
    """Open a count at a site (optionally one location, some products); record and apply.

    `user_id` is who is recorded as counting and applying (None for the command line)."""
    if body.zero_uncounted and not body.complete:
        raise ValidationFailed(
            "zero_uncounted applies when the count is completed.",
            [field_error("zero_uncounted", 'only with "complete": true')],
        )
    site = await resolve_current_site(
        session, principal, explicit=body.site_id, header=header_site, access=Access.write
    )
    if body.location_id is not None:
        await _check_location(session, principal, site.id, body.location_id)
    product_ids = None
    if body.product_ids is not None:
        product_ids = list(dict.fromkeys(body.product_ids))
        await _check_scope_products(session, principal, product_ids, body.location_id)
    now = utcnow()
    count = StockCount(
        id=new_id(),
        brand_id=principal.brand_id,
        site_id=site.id,
        location_id=body.location_id,
        every_product=product_ids is None,
        status="open",
        notes=body.notes,
        user_id=user_id,
        created_at=now,
        updated_at=now,
    )
    session.add(count)
    await session.flush()
    if product_ids:
        await execute_core(
            session,
            insert(StockCountProduct),
            [
                {"count_id": count.id, "product_id": p, "brand_id": principal.brand_id}
                for p in product_ids
            ],
        )
    if body.lines:
        await _record(session, principal, count, body.lines, user_id=user_id)
    if body.complete:
        await _claim(session, principal, count, status="completed")
        await _apply(session, principal, count, zero_uncounted=body.zero_uncounted, user_id=user_id)
    return await _detailed(session, principal, count)


async def _check_location(
    session: AsyncSession, principal: Principal, site_id: uuid.UUID, location_id: int
) -> None:
    found = None
    # Ids outside the column's range name no location (and would overflow the driver).
    if 0 < location_id <= MAX_LOCATION_ID:
        found = (
            await execute_core(
                session,
                brand_scoped_columns(Location, principal, Location.id).where(
                    Location.id == location_id, Location.site_id == site_id
                ),
            )
        ).scalar()
    if found is None:
        raise ValidationFailed(
            "The location is not a location of the site.",
            [field_error("location_id", f"location {location_id} is not a location of the site")],
        )


async def _check_scope_products(
    session: AsyncSession,
    principal: Principal,
    product_ids: list[uuid.UUID],
    location_id: int | None,
) -> None:
    found = {
        row.id: row.location_aware
        for row in await execute_core(
            session,
            brand_scoped_columns(Product, principal, Product.id, Product.location_aware).where(
                Product.id.in_(product_ids)
            ),
        )
    }
    details = []
    for i, product_id in enumerate(product_ids):
        if product_id not in found:
            details.append(field_error(f"product_ids[{i}]", f"unknown product {product_id}"))
        elif location_id is not None and not found[product_id]:
            details.append(
                field_error(
                    f"product_ids[{i}]",
                    "the product is not location-aware: a count of one location counts "
                    "location-aware products only",
                )
            )
    if details:
        raise ValidationFailed("Some products cannot be in this count.", details)


# --- recording lines ------------------------------------------------------------------------


async def record_lines(
    session: AsyncSession,
    principal: Principal,
    count_id: uuid.UUID,
    lines: list[CountLineIn],
    *,
    user_id: uuid.UUID | None,
) -> dict[str, Any]:
    """Record counted quantities (the latest entry per product and location wins)."""
    count = await _writable_count(session, principal, count_id)
    await _claim(session, principal, count, status="open")
    await _record(session, principal, count, lines, user_id=user_id)
    return await _detailed(session, principal, count)


async def _record(
    session: AsyncSession,
    principal: Principal,
    count: StockCount,
    lines: list[CountLineIn],
    *,
    user_id: uuid.UUID | None,
) -> None:
    located = [
        (i, line, count.location_id if line.location_id is None else line.location_id)
        for i, line in enumerate(lines)
    ]
    details = [
        field_error(
            f"lines[{i}].location_id",
            f"the count is of location {count.location_id}, not {location_id}",
        )
        for i, _, location_id in located
        if count.location_id is not None and location_id != count.location_id
    ]
    if details:
        raise ValidationFailed("Some lines are outside the count's location.", details)
    await _check_lines_in_scope(session, principal, count, located)
    await check_line_targets(
        session,
        principal.brand_id,
        (
            LineTarget(f"lines[{i}].", line.product_id, count.site_id, location_id)
            for i, line, location_id in located
        ),
    )
    # Several entries for one level in one request: the last one wins, as across requests.
    latest: dict[Key, int] = {}
    for _, line, location_id in located:
        latest[(line.product_id, location_id or NO_LOCATION)] = line.counted_quantity
    on_hand = await _on_hand(session, principal, count.site_id, latest)
    now = utcnow()
    await execute_core(
        session,
        _UPSERT_LINES[session.get_bind().dialect.name],
        [
            {
                "count_id": count.id,
                "product_id": product_id,
                "location_id": location_id,
                "brand_id": principal.brand_id,
                "counted_quantity": counted,
                "expected": on_hand.get((product_id, location_id), 0),
                "counted_at": now,
                "counted_by": user_id,
            }
            for (product_id, location_id), counted in sorted(latest.items())
        ],
    )


async def _check_lines_in_scope(
    session: AsyncSession,
    principal: Principal,
    count: StockCount,
    located: Sequence[tuple[int, CountLineIn, int | None]],
) -> None:
    """Lines for products outside the count's scope are refused (unknown ids are left to
    `check_line_targets`, which reports them with the other line problems)."""
    if count.every_product and count.location_id is None:
        return
    product_ids = {line.product_id for _, line, _ in located}
    location_aware = {
        row.id: row.location_aware
        for row in await execute_core(
            session,
            brand_scoped_columns(Product, principal, Product.id, Product.location_aware).where(
                Product.id.in_(product_ids)
            ),
        )
    }
    in_scope: set[uuid.UUID] | None = None
    if not count.every_product:
        in_scope = set(
            (
                await execute_core(
                    session,
                    brand_scoped_columns(
                        StockCountProduct, principal, StockCountProduct.product_id
                    ).where(
                        StockCountProduct.count_id == count.id,
                        StockCountProduct.product_id.in_(
                            {line.product_id for _, line, _ in located}
                        ),
                    ),
                )
            ).scalars()
        )
    details = []
    for i, line, _ in located:
        if line.product_id not in location_aware:
            continue
        if in_scope is not None and line.product_id not in in_scope:
            details.append(
                field_error(f"lines[{i}].product_id", "the product is not in the count's scope")
            )
        elif count.location_id is not None and not location_aware[line.product_id]:
            details.append(
                field_error(
                    f"lines[{i}].product_id",
                    "the product is not location-aware: it is not in a count of one location",
                )
            )
    if details:
        raise ValidationFailed("Some lines are for products outside the count.", details)


async def _on_hand(
    session: AsyncSession, principal: Principal, site_id: uuid.UUID, keys: Iterable[Key]
) -> dict[Key, int]:
    """The levels' on hand now, as this transaction reads them (missing levels are 0)."""
    keys = list(keys)
    if not keys:
        return {}
    rows = await execute_core(
        session,
        select(_levels.c.product_id, _levels.c.location_id, _levels.c.on_hand).where(
            _levels.c.brand_id == principal.brand_id,
            _levels.c.site_id == site_id,
            tuple_(_levels.c.product_id, _levels.c.location_id).in_(keys),
        ),
    )
    return {(row.product_id, row.location_id): row.on_hand for row in rows}


# --- completing and cancelling --------------------------------------------------------------


async def complete_count(
    session: AsyncSession,
    principal: Principal,
    count_id: uuid.UUID,
    *,
    zero_uncounted: bool,
    user_id: uuid.UUID | None,
) -> dict[str, Any]:
    """Apply the count: one `recount` adjustment per line that differs from its `expected`."""
    count = await _writable_count(session, principal, count_id)
    await _claim(session, principal, count, status="completed")
    await _apply(session, principal, count, zero_uncounted=zero_uncounted, user_id=user_id)
    view = await _detailed(session, principal, count)
    await record_event(session, principal.brand_id, "count.completed", api_data(CountOut, view))
    return view


async def cancel_count(
    session: AsyncSession, principal: Principal, count_id: uuid.UUID
) -> dict[str, Any]:
    """Close an open count without touching stock."""
    count = await _writable_count(session, principal, count_id)
    await _claim(session, principal, count, status="cancelled")
    return await _detailed(session, principal, count)


async def _claim(
    session: AsyncSession, principal: Principal, count: StockCount, *, status: str
) -> None:
    """Take the count's row (only while it is open) and move it to `status`; else count_closed.

    Concurrent writers of one count queue on this row; one that finds it closed when its
    turn comes matches no row and changes nothing.
    """
    now = utcnow()
    values: dict[str, Any] = {"status": status, "updated_at": now}
    if status == "completed":
        values["completed_at"] = now
    elif status == "cancelled":
        values["cancelled_at"] = now
    claimed = (
        await execute_core(
            session,
            update(StockCount)
            .where(
                StockCount.brand_id == principal.brand_id,
                StockCount.id == count.id,
                StockCount.status == "open",
            )
            .values(**values)
            .returning(StockCount.status),
        )
    ).first()
    if claimed is None:
        await session.refresh(count)
        raise CountClosed(
            f"The count is {count.status}; it takes no more changes.",
            [field_error("status", count.status)],
        )
    await session.refresh(count)


async def _apply(
    session: AsyncSession,
    principal: Principal,
    count: StockCount,
    *,
    zero_uncounted: bool,
    user_id: uuid.UUID | None,
) -> None:
    zeroed = set()
    if zero_uncounted:
        zeroed = await _zero_uncounted(session, principal, count, user_id=user_id)
    lines = await _count_lines(session, principal, [count.id])
    drafts = [
        MovementDraft(
            type="adjustment",
            product_id=line["product_id"],
            site_id=count.site_id,
            quantity=line["variance"],
            location_id=line["location_id"],
            reason_code=RECOUNT,
            reference=str(count.id),
            notes=count.notes,
            # Lines written now by zero_uncounted hold only if nothing moved since the read.
            expected_on_hand=(
                line["expected"]
                if (line["product_id"], line["location_id"] or NO_LOCATION) in zeroed
                else None
            ),
            field=f"lines[{i}].",
        )
        for i, line in enumerate(lines[count.id])
        if line["variance"] != 0
    ]
    if drafts:
        await post_movements(session, principal.brand_id, drafts, user_id=user_id)


async def _zero_uncounted(
    session: AsyncSession, principal: Principal, count: StockCount, *, user_id: uuid.UUID | None
) -> set[Key]:
    """Record a 0 for every level of the scope with no line; return their keys."""
    uncounted = await _uncounted(session, principal, count)
    on_hand = await _on_hand(session, principal, count.site_id, uncounted)
    now = utcnow()
    rows = [
        {
            "count_id": count.id,
            "product_id": product_id,
            "location_id": location_id,
            "brand_id": principal.brand_id,
            "counted_quantity": 0,
            "expected": on_hand.get((product_id, location_id), 0),
            "counted_at": now,
            "counted_by": user_id,
        }
        for product_id, location_id in uncounted
        # Levels already at 0 need no line: zeroing them changes nothing.
        if on_hand.get((product_id, location_id), 0) != 0
    ]
    if rows:
        await execute_core(session, insert(_lines), rows)
    return {(product_id, location_id) for product_id, location_id in uncounted}


# --- reading --------------------------------------------------------------------------------


async def get_count(
    session: AsyncSession, principal: Principal, count_id: uuid.UUID
) -> dict[str, Any]:
    """One count at a site the caller may read (404 otherwise), with lines and what is left."""
    count = await _visible_count(session, principal, count_id)
    return await _detailed(session, principal, count, uncounted=True)


async def list_counts(
    session: AsyncSession,
    principal: Principal,
    params: PageParams,
    *,
    site_id: uuid.UUID | None,
    status: str | None,
) -> tuple[list[dict[str, Any]], PageMeta]:
    """Counts at the sites the caller may read (or one of them), newest first."""
    query = brand_scoped(StockCount, principal)
    if site_id is not None:
        site = await load_site(session, principal, site_id)
        check_site_access(principal, site, Access.read)
        query = query.where(StockCount.site_id == site.id)
    elif not principal.is_admin:
        query = query.where(StockCount.site_id.in_(sorted(principal.site_ids)))
    if status is not None:
        query = query.where(StockCount.status == status)
    query = query.order_by(StockCount.created_at.desc(), StockCount.id.desc())
    counts, meta = await fetch_page(session, query, params)
    return await _with_details(session, principal, counts, uncounted=False), meta


async def _visible_count(
    session: AsyncSession, principal: Principal, count_id: uuid.UUID
) -> StockCount:
    count = (
        await session.execute(brand_scoped(StockCount, principal).where(StockCount.id == count_id))
    ).scalar()
    if count is None or not principal.can_read(count.site_id):
        raise NotFound(f"No count {count_id}.")
    return count


async def _writable_count(
    session: AsyncSession, principal: Principal, count_id: uuid.UUID
) -> StockCount:
    count = await _visible_count(session, principal, count_id)
    check_site_access(principal, SiteRef(count.site_id, count.brand_id), Access.write)
    return count


async def _detailed(
    session: AsyncSession, principal: Principal, count: StockCount, *, uncounted: bool = False
) -> dict[str, Any]:
    return (await _with_details(session, principal, [count], uncounted=uncounted))[0]


async def _with_details(
    session: AsyncSession, principal: Principal, counts: Sequence[StockCount], *, uncounted: bool
) -> list[dict[str, Any]]:
    """The counts with their scope, lines and recount movements, one query each."""
    ids = [count.id for count in counts]
    if not ids:
        return []
    lines = await _count_lines(session, principal, ids)
    scopes: dict[uuid.UUID, list[uuid.UUID]] = defaultdict(list)
    for row in await execute_core(
        session,
        brand_scoped_columns(
            StockCountProduct, principal, StockCountProduct.count_id, StockCountProduct.product_id
        )
        .where(StockCountProduct.count_id.in_(ids))
        .order_by(StockCountProduct.count_id, StockCountProduct.product_id),
    ):
        scopes[row.count_id].append(row.product_id)
    movements: dict[str, list[dict[str, Any]]] = defaultdict(list)
    completed = [c for c in counts if c.status == "completed"]
    if completed:
        for row in (
            await execute_core(
                session,
                brand_scoped_columns(StockMovement, principal, *_movements.c)
                .where(
                    _movements.c.type == "adjustment",
                    _movements.c.reason_code == RECOUNT,
                    or_(
                        *(
                            and_(
                                _movements.c.site_id == c.site_id,
                                _movements.c.reference == str(c.id),
                            )
                            for c in completed
                        )
                    ),
                )
                .order_by(_movements.c.created_at, _movements.c.product_id),
            )
        ).mappings():
            movements[row["reference"]].append(dict(row))
    result = []
    for count in counts:
        left = None
        if uncounted and count.status == "open":
            left = [
                {"product_id": p, "location_id": loc or None}
                for p, loc in await _uncounted(session, principal, count)
            ]
        result.append(
            {
                "id": count.id,
                "status": count.status,
                "site_id": count.site_id,
                "location_id": count.location_id,
                "product_ids": None if count.every_product else scopes[count.id],
                "notes": count.notes,
                "lines": lines[count.id],
                "uncounted": left,
                "movements": movements[str(count.id)],
                "user_id": count.user_id,
                "created_at": count.created_at,
                "updated_at": count.updated_at,
                "completed_at": count.completed_at,
                "cancelled_at": count.cancelled_at,
            }
        )
    return result


async def _count_lines(
    session: AsyncSession, principal: Principal, count_ids: list[uuid.UUID]
) -> dict[uuid.UUID, list[dict[str, Any]]]:
    """Each count's lines in SKU order, with their variance."""
    lines: dict[uuid.UUID, list[dict[str, Any]]] = defaultdict(list)
    rows = await execute_core(
        session,
        select(*_lines.c)
        .join(
            Product,
            and_(Product.id == _lines.c.product_id, Product.brand_id == _lines.c.brand_id),
        )
        .where(_lines.c.brand_id == principal.brand_id, _lines.c.count_id.in_(count_ids))
        .order_by(_lines.c.count_id, Product.sku, _lines.c.location_id),
    )
    for row in rows.mappings():
        lines[row["count_id"]].append(
            {
                "product_id": row["product_id"],
                "location_id": row["location_id"] or None,
                "counted_quantity": row["counted_quantity"],
                "expected": row["expected"],
                "variance": row["counted_quantity"] - row["expected"],
                "counted_at": row["counted_at"],
                "counted_by": row["counted_by"],
            }
        )
    return lines


async def _uncounted(session: AsyncSession, principal: Principal, count: StockCount) -> list[Key]:
    """The levels of the count's scope with no line yet, in SKU order.

    A product that is not location-aware is one level at the site. A location-aware one is
    its level at the count's location, or — in a count of the whole site — each location
    where it has stock (where it has none there is nothing to find or to zero).
    """
    level_query = select(_levels.c.product_id, _levels.c.location_id).where(
        _levels.c.brand_id == principal.brand_id,
        _levels.c.site_id == count.site_id,
        _levels.c.on_hand != 0,
    )
    if count.location_id is not None:
        level_query = level_query.where(_levels.c.location_id == count.location_id)
    stocked: dict[uuid.UUID, list[int]] = defaultdict(list)
    for row in await execute_core(session, level_query):
        stocked[row.product_id].append(row.location_id)
    product_query = brand_scoped_columns(Product, principal, Product.id, Product.location_aware)
    if count.every_product:
        # Every live product, and archived ones that still have stock here.
        product_query = product_query.where(
            or_(
                Product.archived.is_(False),
                Product.id.in_(level_query.with_only_columns(_levels.c.product_id)),
            )
        )
    else:
        product_query = product_query.join(
            StockCountProduct,
            and_(
                StockCountProduct.product_id == Product.id,
                StockCountProduct.brand_id == Product.brand_id,
                StockCountProduct.count_id == count.id,
            ),
        )
    if count.location_id is not None:
        product_query = product_query.where(Product.location_aware.is_(True))
    counted = {
        (row.product_id, row.location_id)
        for row in await execute_core(
            session,
            select(_lines.c.product_id, _lines.c.location_id).where(
                _lines.c.brand_id == principal.brand_id, _lines.c.count_id == count.id
            ),
        )
    }
    keys: list[Key] = []
    for product in await execute_core(session, product_query.order_by(Product.sku)):
        if count.location_id is not None:
            candidates = [count.location_id]
        elif not product.location_aware:
            candidates = [NO_LOCATION]
        else:
            candidates = sorted(loc for loc in stocked.get(product.id, []) if loc != NO_LOCATION)
        keys.extend((product.id, loc) for loc in candidates if (product.id, loc) not in counted)
    return keys


# --- operators (the command line) -----------------------------------------------------------


async def find_count(session: AsyncSession, count_id: uuid.UUID) -> StockCount:
    """Any brand's count by id (operators at the command line), or NotFound."""
    count = (await session.execute(select(StockCount).where(StockCount.id == count_id))).scalar()
    if count is None:
        raise NotFound(f"no count {count_id}")
    return count


async def products_by_reference(
    session: AsyncSession, brand_id: uuid.UUID, references: Iterable[str]
) -> dict[str, uuid.UUID]:
    """Product ids by id or SKU, as operators name them; unknown ones are left out."""
    references = set(references)
    ids = set()
    for reference in references:
        try:
            ids.add(uuid.UUID(reference))
        except ValueError:
            continue
    rows = await execute_core(
        session,
        brand_scoped_columns(Product, brand_id, Product.id, Product.sku).where(
            or_(Product.sku.in_(references), Product.id.in_(ids))
        ),
    )
    found: dict[str, uuid.UUID] = {}
    for row in rows:
        for reference in (row.sku, str(row.id)):
            if reference in references:
                found[reference] = row.id
    return found
