"""The reserved side of the writer: levels' `reserved`, and what must fit in `available`.

`available` = on_hand − reserved, where reserved counts only unexpired holds: a level's
stored `reserved` still includes reservations past `expires_at` that the sweeper has not
recorded yet, so they are subtracted here, in the same transaction, under the level's lock.
Expiry is therefore exact at `expires_at` whether or not the sweeper ran.

Rules, per level (after netting the request's lines):
- every outgoing change still needs `on_hand` (the writer's rule; the site may allow negative);
- units a sale or transfer out takes beyond the reserved units it consumes, and units newly
  reserved, must fit in `available`; a site allowing negative stock waives this for sales
  and transfers out, never for new reservations (a promise needs units behind it);
- adjustments and incoming movements need neither: physical reality wins.
Levels are locked in the one sorted key order (the writer's), so opposing writers never
deadlock, and `reserved` changes in the same statement as `on_hand`.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Table, bindparam, case, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from stockroom.db.core import execute_core
from stockroom.db.models import ReservationLine
from stockroom.db.models.ledger import NO_LOCATION
from stockroom.errors import InsufficientAvailable
from stockroom.ledger.rules import (
    LevelChange,
    LevelKey,
    MovementDraft,
    Problem,
    ProblemKind,
    goes_short,
    level_key,
)
from stockroom.ledger.statements import (
    APPLY,
    KEY,
    LOCK,
    SITE_ALLOWS_NEGATIVE,
    level_params,
    levels,
    sites_allowing_negative,
)

lines = cast(Table, ReservationLine.__table__)

# Movement types that take units out of `available` (not only out of `on_hand`).
DRAWS_ON_AVAILABLE = frozenset({"sale", "transfer_out"})


@dataclass(frozen=True, slots=True)
class HoldDraft:
    """A change to the units a level holds for reservations.

    Positive: reserve (must fit in available). Negative: release or expire; with
    `consumed=True`, reserved units a sale of the same request takes (they need only on_hand).
    """

    product_id: uuid.UUID
    site_id: uuid.UUID
    quantity: int
    location_id: int | None = None
    consumed: bool = False
    field: str = ""


@dataclass(slots=True)
class _Change:
    key: LevelKey
    delta: int = 0  # on_hand
    reserved_delta: int = 0
    drawn: int = 0  # units sales / transfers out take
    consumed: int = 0  # of which reserved units they consume
    held: int = 0  # units newly reserved
    expected_on_hand: int | None = None
    fields: list[str] = field(default_factory=list)

    def needs_available(self, *, allow_negative: bool) -> int:
        from_sales = 0 if allow_negative else max(0, self.drawn - self.consumed)
        return from_sales + self.held

    def as_level_change(self) -> LevelChange:
        return LevelChange(self.key, self.delta, self.expected_on_hand, list(self.fields))


def draws_on_available(drafts: Sequence[MovementDraft]) -> bool:
    return any(d.type in DRAWS_ON_AVAILABLE and d.quantity < 0 for d in drafts)


def _changes(drafts: Sequence[MovementDraft], holds: Sequence[HoldDraft]) -> list[_Change]:
    changes: dict[LevelKey, _Change] = {}

    def at(key: LevelKey) -> _Change:
        change = changes.get(key)
        if change is None:
            change = changes[key] = _Change(key)
        return change

    for draft in drafts:
        change = at(level_key(draft))
        change.delta += draft.quantity
        change.fields.append(draft.field)
        if draft.type in DRAWS_ON_AVAILABLE and draft.quantity < 0:
            change.drawn -= draft.quantity
        if draft.expected_on_hand is not None:
            change.expected_on_hand = draft.expected_on_hand
    for hold in holds:
        location = NO_LOCATION if hold.location_id is None else hold.location_id
        change = at(LevelKey(hold.product_id, hold.site_id, location))
        change.reserved_delta += hold.quantity
        change.fields.append(hold.field)
        if hold.quantity > 0:
            change.held += hold.quantity
        elif hold.consumed:
            change.consumed -= hold.quantity
    return [changes[key] for key in sorted(changes)]


def _params(brand_id: uuid.UUID, change: _Change, now: datetime) -> dict[str, Any]:
    return level_params(brand_id, change, now, reserved=change.reserved_delta)


# One outgoing line on a level that holds nothing: available is on_hand, so the writer's
# one conditional statement decides (the common sale, with no reservations about).
_UNRESERVED_SALE = (
    update(levels)
    .where(
        KEY,
        levels.c.reserved == 0,
        or_(levels.c.on_hand + bindparam("b_delta") >= 0, SITE_ALLOWS_NEGATIVE.is_(True)),
    )
    .values(on_hand=levels.c.on_hand + bindparam("b_delta"), updated_at=bindparam("b_now"))
    .returning(levels.c.on_hand)
)


# One new hold on one level (the usual reservation of one line): one conditional statement
# on the level's own figures. It ignores the credit of expired, unswept holds (a subquery on
# their lines would be read from the statement's snapshot when PostgreSQL re-checks a row a
# concurrent sweeper changed, counting that credit twice); when it refuses, the locking path
# below decides with every figure current.
_RESERVE_ONE = (
    update(levels)
    .where(KEY, levels.c.on_hand - levels.c.reserved >= bindparam("b_reserved"))
    .values(reserved=levels.c.reserved + bindparam("b_reserved"), updated_at=bindparam("b_now"))
    .returning(levels.c.reserved)
)


def expired_holds_query(
    brand_id: uuid.UUID, product_ids: set[uuid.UUID], site_ids: set[uuid.UUID], now: datetime
) -> Any:
    """Units still counted in levels' `reserved` whose reservation expired at or before now."""
    return (
        select(
            lines.c.product_id,
            lines.c.site_id,
            lines.c.location_id,
            func.sum(lines.c.remaining).label("expired"),
        )
        .where(
            lines.c.brand_id == brand_id,
            lines.c.product_id.in_(product_ids),
            lines.c.site_id.in_(site_ids),
            lines.c.active.is_(True),
            lines.c.expires_at <= now,
        )
        .group_by(lines.c.product_id, lines.c.site_id, lines.c.location_id)
    )


async def apply_with_reserved(
    session: AsyncSession,
    brand_id: uuid.UUID,
    drafts: Sequence[MovementDraft],
    holds: Sequence[HoldDraft],
    now: datetime,
) -> list[Problem]:
    """Change on_hand and reserved of every level the request touches, or nothing.

    Returns the writer's stale/short problems (it raises them); raises
    InsufficientAvailable itself, naming every line that does not fit in `available`.
    """
    changes = _changes(drafts, holds)
    dialect = session.get_bind().dialect.name
    if (
        len(changes) == 1
        and not holds
        and changes[0].delta < 0
        and changes[0].expected_on_hand is None
    ):
        params = _params(brand_id, changes[0], now)
        if (await execute_core(session, _UNRESERVED_SALE, params)).first():
            return []
    if (
        len(changes) == 1
        and not drafts
        and changes[0].held > 0
        and changes[0].reserved_delta == changes[0].held
    ):
        params = _params(brand_id, changes[0], now)
        if (await execute_core(session, _RESERVE_ONE, params)).first():
            return []
    locked = await execute_core(
        session,
        LOCK[dialect],
        [_params(brand_id, c, now) | {"b_delta": 0, "b_reserved": 0} for c in changes],
    )
    current = {
        (row.product_id, row.site_id, row.location_id): (row.on_hand, row.reserved)
        for row in locked
    }
    expired: dict[tuple[Any, ...], int] = {}
    # Expired holds matter only where something must fit in available (a sale of reserved
    # units, a release, an expiry need only on_hand, or nothing).
    if any(reserved for _, reserved in current.values()) and any(
        c.needs_available(allow_negative=False) for c in changes
    ):
        query = expired_holds_query(
            brand_id,
            {c.key.product_id for c in changes},
            {c.key.site_id for c in changes},
            now,
        )
        for row in await execute_core(session, query):
            expired[(row.product_id, row.site_id, row.location_id)] = int(row.expired)
    figures: dict[LevelKey, tuple[int, int]] = {}
    for change in changes:
        k = (change.key.product_id, change.key.site_id, change.key.location_id)
        on_hand, reserved = current.get(k, (0, 0))
        figures[change.key] = (on_hand, reserved - expired.get(k, 0))
    # The site's rule is read only when some line would break the strict one.
    failing = [c for c in changes if _judge(c, *figures[c.key], negative_ok=False)]
    allow_negative = await sites_allowing_negative(
        session, brand_id, {c.key.site_id for c in failing}
    )
    problems: list[Problem] = []
    unavailable: list[tuple[Problem, dict[str, Any]]] = []
    for change in failing:
        on_hand, reserved = figures[change.key]
        verdict = _judge(change, on_hand, reserved, change.key.site_id in allow_negative)
        if verdict is None:
            continue
        problem, detail = verdict
        if detail is not None:
            unavailable.append((problem, detail))
        else:
            problems.append(problem)
    if problems:
        # Short of stock on some line: one insufficient_stock naming every failing line.
        return problems + [problem for problem, _ in unavailable]
    if unavailable:
        raise InsufficientAvailable(
            "Not enough available stock (units on hand are reserved); nothing was written.",
            [detail for _, detail in unavailable],
        )
    await execute_core(session, APPLY[dialect], [_params(brand_id, c, now) for c in changes])
    return []


def _judge(
    change: _Change, on_hand: int, reserved: int, negative_ok: bool
) -> tuple[Problem, dict[str, Any] | None] | None:
    """The writer's rules (stale, then short), then available; the detail marks the latter."""
    level_change = change.as_level_change()
    if change.expected_on_hand is not None and on_hand != change.expected_on_hand:
        return Problem(ProblemKind.stale, level_change, on_hand), None
    if goes_short(on_hand, change.delta, allow_negative=negative_ok):
        return Problem(ProblemKind.short, level_change, on_hand), None
    need = change.needs_available(allow_negative=negative_ok)
    if need > 0 and on_hand - reserved < need:
        detail = _unavailable_detail(change, on_hand, reserved, need)
        return Problem(ProblemKind.short, level_change, on_hand), detail
    return None


def _unavailable_detail(change: _Change, on_hand: int, reserved: int, need: int) -> dict[str, Any]:
    key = change.key
    available = on_hand - reserved
    return {
        "field": (change.fields[0] if change.fields else "") + "quantity",
        "message": f"available is {available} ({on_hand} on hand, {reserved} reserved); "
        f"{need} requested",
        "product_id": str(key.product_id),
        "site_id": str(key.site_id),
        "location_id": key.location_id or None,
        "on_hand": on_hand,
        "reserved": reserved,
        "available": available,
        "requested": need,
    }


def reserved_now(now: Any) -> Any:
    """SQL for a `stock_levels` row's reserved units at `now` (a datetime or a bind
    parameter): expired holds left out.

    A correlated probe of the lines index, skipped when the level holds nothing.
    """
    expired = (
        select(func.coalesce(func.sum(lines.c.remaining), 0))
        .where(
            lines.c.brand_id == levels.c.brand_id,
            lines.c.product_id == levels.c.product_id,
            lines.c.site_id == levels.c.site_id,
            lines.c.location_id == levels.c.location_id,
            lines.c.active.is_(True),
            lines.c.expires_at <= now,
        )
        .scalar_subquery()
    )
    return case((levels.c.reserved == 0, 0), else_=levels.c.reserved - expired)


def expired_at_site(brand_id: Any, product_id: Any, site_id: Any, now: Any) -> Any:
    """SQL for the units of a product at a site still counted in `reserved` but expired
    (`now`: a datetime or SQL, e.g. a bound parameter)."""
    return (
        select(func.coalesce(func.sum(lines.c.remaining), 0))
        .where(
            lines.c.brand_id == brand_id,
            lines.c.product_id == product_id,
            lines.c.site_id == site_id,
            lines.c.active.is_(True),
            lines.c.expires_at <= now,
        )
        .scalar_subquery()
    )
