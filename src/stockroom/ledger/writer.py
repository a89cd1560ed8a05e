"""THE writer: every stock change in Stockroom is appended here, in the caller's transaction.

`post_movements` turns drafts into level changes (netted per level, sorted), changes each
level with one atomic conditional statement — the database, not Python, decides whether
the stock suffices — reports every short or stale line in one error, and appends the
movement rows. Movements are never updated or deleted; levels change only here.

Every condition holds on the row a write creates as well as on the row it updates: a level
that does not exist yet is created only by a statement that fails if another writer
created it first (then the row is judged like any other).

Settings the rules read are read under a lock their PATCH also needs (PostgreSQL; SQLite
runs one writer at a time): a write that leaves a level below zero reads its site's
`allow_negative_stock` FOR SHARE, which `update_site` waits for; the products'
`location_aware` is read FOR KEY SHARE by `check_line_targets`, which `update_product`
waits for with FOR UPDATE. A write that keeps the level at or above zero reads no setting
and takes no extra lock.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from stockroom.db.core import execute_core, prepared
from stockroom.db.models.base import new_id, utcnow
from stockroom.errors import InsufficientStock, StaleQuantity, Unavailable, field_error
from stockroom.events.record import record_ledger_events
from stockroom.ledger.available import HoldDraft, apply_with_reserved, draws_on_available
from stockroom.ledger.rules import (
    LevelChange,
    MovementDraft,
    Problem,
    ProblemKind,
    judge,
    level_changes,
    needs_negative,
)
from stockroom.ledger.statements import (
    ALLOWS_NEGATIVE,
    APPLY,
    CREATE,
    KEY,
    SITE_ALLOWS_NEGATIVE,
    apply_levels,
    level_params,
    levels,
    lock_levels,
    sites_allowing_negative,
)
from stockroom.ledger.timeline import add_to_checkpoints, checked_occurred_at
from stockroom.observability.metrics import count_insufficient_stock, count_movements_on_commit
from stockroom.stock.shortfalls import site_changes

# A few conditional-write retries cover the read-committed race between a refused
# UPDATE and the look that explains it (another writer changed the level in between).
# When every attempt is refused without a reason the request is answered as transient
# (503 `unavailable`, Retry-After), never as a problem with the request.
_ATTEMPTS = 3


async def post_movements(
    session: AsyncSession,
    brand_id: uuid.UUID,
    drafts: list[MovementDraft],
    *,
    user_id: uuid.UUID | None,
    now: datetime | None = None,
    holds: Sequence[HoldDraft] = (),
    occurred_at: datetime | None = None,
) -> list[dict[str, Any]]:
    """Apply the drafts to their levels and append them to the ledger; return the movements.

    Raises StaleQuantity (409) when an `expected_on_hand` does not match,
    InsufficientStock (422) listing every short line, and Unavailable (503) when a level
    kept changing under every attempt; the caller's transaction then rolls back, so
    nothing of the request is written. `holds` change levels' reserved units
    (reservations); with them, or with sales and transfers out, the reserved side
    (ledger/available.py) applies the request and raises InsufficientAvailable.
    `occurred_at` (default `now`) dates every movement of the request; outside the
    backdating window (ledger/timeline.py) it is a 422 before anything is written. The
    rules judge the levels as they are now, whenever the movements occurred.
    """
    now = now or utcnow()
    occurred = checked_occurred_at(occurred_at, now)
    changes = level_changes(drafts)
    if holds or draws_on_available(drafts):
        problems = await apply_with_reserved(session, brand_id, drafts, holds, now)
    elif len(changes) == 1:
        problem = await _apply(session, brand_id, changes[0], now)
        problems = [] if problem is None else [problem]
    else:
        problems = await _apply_many(session, brand_id, changes, now)
    stale = [p for p in problems if p.kind is ProblemKind.stale]
    short = [p for p in problems if p.kind is ProblemKind.short]
    if stale:
        raise StaleQuantity(
            "The stock level changed since you read it; nothing was written.",
            [_detail(p) for p in stale],
        )
    if short:
        count_insufficient_stock()  # metrics only (Prometheus counter); no FastAPI here
        raise InsufficientStock(
            "Not enough stock; nothing was written.", [_detail(p) for p in short]
        )
    rows = [_movement_row(brand_id, draft, user_id, now, occurred) for draft in drafts]
    # The movement rows, the events of this change (movement.created, threshold
    # crossings) and its stored shortfalls (stock/shortfalls.py), in its transaction, after
    # the levels; on PostgreSQL one statement writes all three.
    await record_ledger_events(
        session, brand_id, rows, site_changes(drafts, holds), now, insert_movements=True
    )
    if rows:
        await add_to_checkpoints(session, brand_id, rows)
        # Metrics only: counted by type if and when the caller's transaction commits.
        count_movements_on_commit(session, rows)
    return rows


def _movement_row(
    brand_id: uuid.UUID,
    draft: MovementDraft,
    user_id: uuid.UUID | None,
    now: datetime,
    occurred_at: datetime,
) -> dict[str, Any]:
    return {
        "id": new_id(),
        "brand_id": brand_id,
        "type": draft.type,
        "product_id": draft.product_id,
        "site_id": draft.site_id,
        "location_id": draft.location_id,
        "quantity": draft.quantity,
        "source_site_id": draft.source_site_id,
        "destination_site_id": draft.destination_site_id,
        "reference": draft.reference,
        "notes": draft.notes,
        "reason_code": draft.reason_code,
        "reason_description": draft.reason_description,
        "invoice_id": draft.invoice_id,
        "transfer_id": draft.transfer_id,
        "purchase_id": draft.purchase_id,
        "unit_cost": draft.unit_cost,
        "user_id": user_id,
        "created_at": now,
        "occurred_at": occurred_at,
    }


def _quantity_field(change: LevelChange) -> str:
    return (change.fields[0] if change.fields else "") + "quantity"


def _detail(problem: Problem) -> dict[str, Any]:
    change = problem.change
    key = change.key
    field = _quantity_field(change)
    detail = {
        "field": field,
        "message": problem.message,
        "product_id": str(key.product_id),
        "site_id": str(key.site_id),
        "location_id": key.location_id or None,
        "on_hand": problem.on_hand,
        "requested": change.delta,
    }
    if problem.kind is ProblemKind.stale:
        detail["field"] = field.removesuffix("quantity") + "expected_on_hand"
        detail["expected_on_hand"] = change.expected_on_hand
    return detail


_CURRENT = prepared(select(levels.c.on_hand).where(KEY))


def _build_conditional_update(*, expected: bool, outgoing: bool) -> Any:
    """One statement that changes the level only if the rules hold at the moment of writing."""
    conditions: list[Any] = [KEY]
    if expected:
        conditions.append(levels.c.on_hand == bindparam("b_expected"))
    if outgoing:
        conditions.append(
            or_(levels.c.on_hand + bindparam("b_delta") >= 0, SITE_ALLOWS_NEGATIVE.is_(True))
        )
    return (
        update(levels)
        .where(*conditions)
        .values(on_hand=levels.c.on_hand + bindparam("b_delta"), updated_at=bindparam("b_now"))
        .returning(levels.c.on_hand)
    )


_CONDITIONAL_UPDATE = {
    (expected, outgoing): prepared(_build_conditional_update(expected=expected, outgoing=outgoing))
    for expected in (False, True)
    for outgoing in (False, True)
}


def _params(brand_id: uuid.UUID, change: LevelChange, now: datetime) -> dict[str, Any]:
    params = level_params(brand_id, change, now)
    if change.expected_on_hand is not None:
        params["b_expected"] = change.expected_on_hand
    return params


async def _apply_many(
    session: AsyncSession, brand_id: uuid.UUID, changes: list[LevelChange], now: datetime
) -> list[Problem]:
    """Several levels in a constant number of statements, whatever the number of lines.

    1. Lock every level, in sorted key order, reading its quantity (a no-op upsert: it
       creates missing levels at 0; on SQLite the transaction already holds the write lock).
    2. With the rows locked, the rules are checked against figures nobody can change
       before we commit: every stale or short line is reported at once. The sites of the
       lines that would go below zero are read FOR SHARE (their rule then holds too).
    3. One multi-row upsert applies every change (`on_hand = on_hand + delta`), in the
       same sorted order.

    When no change has a rule to check (every delta ≥ 0, no `expected_on_hand`: an initial
    stock, a receipt), step 3 alone does the work: it takes the same row locks in the same
    sorted order as it goes, and there is nothing to judge in between. On PostgreSQL both
    statements take one array per column (statements.py), not one parameter set per level.
    """
    if not changes:
        return []
    if all(change.delta >= 0 and change.expected_on_hand is None for change in changes):
        await apply_levels(session, brand_id, changes, now)
        return []
    # Take every level's row lock in sorted key order with one statement that also creates
    # the levels that do not exist yet (at 0): locking only the rows that exist would take
    # the others' locks later, out of order, and opposing writers could deadlock.
    locked = await lock_levels(session, brand_id, changes, now)
    current = {(row.product_id, row.site_id, row.location_id): row.on_hand for row in locked}

    def on_hand(change: LevelChange) -> int:
        key = change.key
        return int(current.get((key.product_id, key.site_id, key.location_id), 0))

    negative_sites = {c.key.site_id for c in changes if needs_negative(on_hand(c), c.delta)}
    allow_negative = await sites_allowing_negative(session, brand_id, negative_sites)
    problems = [
        problem
        for change in changes
        if (
            problem := judge(
                change, on_hand(change), allow_negative=change.key.site_id in allow_negative
            )
        )
        is not None
    ]
    if problems:
        return problems
    await apply_levels(session, brand_id, changes, now)
    return []


async def _apply(
    session: AsyncSession, brand_id: uuid.UUID, change: LevelChange, now: datetime
) -> Problem | None:
    """Change one level atomically; return the problem when it is stale or would go short."""
    params = _params(brand_id, change, now)
    dialect = session.get_bind().dialect.name
    if change.delta >= 0 and change.expected_on_hand is None:
        # No condition to hold: add to the level, creating it if need be.
        await execute_core(session, APPLY[dialect], params)
        return None
    conditional = _CONDITIONAL_UPDATE[(change.expected_on_hand is not None, change.delta < 0)]
    for _ in range(_ATTEMPTS):
        if (await execute_core(session, conditional, params)).first():
            return None
        # Refused, or no level yet: look at why, with the site's rule when it matters.
        current = (await execute_core(session, _CURRENT, params)).scalar()
        on_hand = 0 if current is None else int(current)
        allow_negative = needs_negative(on_hand, change.delta) and bool(
            (await execute_core(session, ALLOWS_NEGATIVE, params)).scalar()
        )
        problem = judge(change, on_hand, allow_negative=allow_negative)
        if problem is not None:
            return problem
        if current is None and (await execute_core(session, CREATE[dialect], params)).first():
            return None  # the first movement of this level, judged against "no level"
        # The level moved (or was created) between the refused write and our look: again.
    raise Unavailable(
        "The stock level kept changing while it was being written; nothing was written. "
        "Retry the request.",
        [field_error(_quantity_field(change), "the level is busy; retry")],
    )
