"""Reservations: hold units of a site's stock for an order; sell, release, extend or expire them.

Every change of held units goes through the ledger writer (`post_movements` with holds),
which locks the levels in the one sorted order and changes `reserved` in the same
transaction. A reservation's own row is locked first (FOR UPDATE; SQLite's write lock is
already held), so a release, an extension, a sale and the sweeper on one reservation are
serialised, and every transaction takes a reservation lock before level locks.

A reservation whose `expires_at` has passed is closed for every read and write, whether or
not the sweeper (reservations/expiry.py) has recorded the status yet.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import Table, exists, insert, or_, update
from sqlalchemy.ext.asyncio import AsyncSession

from stockroom.auth.current_site import Access, check_site_access, load_site, resolve_current_site
from stockroom.auth.principal import Principal
from stockroom.auth.scope import brand_scoped
from stockroom.db.core import execute_core
from stockroom.db.models import NO_LOCATION, Reservation, ReservationLine
from stockroom.db.models.base import new_id, utcnow
from stockroom.errors import NotFound, ReservationClosed, ValidationFailed, field_error
from stockroom.events.record import api_data, record_event
from stockroom.ledger import LineTarget, check_line_targets, post_movements
from stockroom.ledger.available import HoldDraft
from stockroom.pagination import PageMeta, PageParams, fetch_page
from stockroom.reservations.schemas import (
    DEFAULT_TTL_SECONDS,
    MAX_TTL_SECONDS,
    MIN_TTL_SECONDS,
    Expiry,
    ReservationCreate,
    ReservationExtend,
    ReservationRelease,
)
from stockroom.reservations.schemas import Reservation as ReservationOut

_reservations = cast(Table, Reservation.__table__)
_reservation_lines = cast(Table, ReservationLine.__table__)


def effective_status(reservation: Reservation, now: datetime) -> str:
    """`expired` from `expires_at` on, even before the sweeper records it."""
    if reservation.status == "active" and reservation.expires_at <= now:
        return "expired"
    return reservation.status


def _expires_at(body: Expiry, now: datetime) -> datetime:
    if body.expires_at is None:
        return now + timedelta(seconds=body.ttl_seconds or DEFAULT_TTL_SECONDS)
    ahead = (body.expires_at - now).total_seconds()
    if not MIN_TTL_SECONDS <= ahead <= MAX_TTL_SECONDS:
        raise ValidationFailed(
            "The expiry is out of range.",
            [field_error("expires_at", "must be between 60 seconds and 30 days from now")],
        )
    return body.expires_at


async def create_reservation(
    session: AsyncSession,
    principal: Principal,
    body: ReservationCreate,
    header_site: uuid.UUID | None,
) -> dict[str, Any]:
    """Hold every line at the current site, or none (`insufficient_available`)."""
    site = await resolve_current_site(
        session, principal, explicit=body.site_id, header=header_site, access=Access.write
    )
    now = utcnow()
    expires_at = _expires_at(body, now)
    await check_line_targets(
        session,
        principal.brand_id,
        [
            LineTarget(f"lines[{i}].", line.product_id, site.id, line.location_id)
            for i, line in enumerate(body.lines)
        ],
    )
    holds = [
        HoldDraft(line.product_id, site.id, line.quantity, line.location_id, field=f"lines[{i}].")
        for i, line in enumerate(body.lines)
    ]
    await post_movements(
        session, principal.brand_id, [], user_id=principal.user_id, now=now, holds=holds
    )
    # Core inserts, not an ORM flush: this is the hot path of every checkout (the ORM's unit
    # of work cost more Python time than the statements).
    reservation_row: dict[str, Any] = {
        "id": new_id(),
        "brand_id": principal.brand_id,
        "site_id": site.id,
        "status": "active",
        "reference": body.reference,
        "notes": body.notes,
        "user_id": principal.user_id,
        "expires_at": expires_at,
        "created_at": now,
        "updated_at": now,
    }
    line_rows: list[dict[str, Any]] = [
        {
            "id": new_id(),
            "brand_id": principal.brand_id,
            "reservation_id": reservation_row["id"],
            "line_no": i,
            "product_id": line.product_id,
            "site_id": site.id,
            "location_id": NO_LOCATION if line.location_id is None else line.location_id,
            "quantity": line.quantity,
            "remaining": line.quantity,
            "active": True,
            "expires_at": expires_at,
        }
        for i, line in enumerate(body.lines)
    ]
    # The reservation before its lines (foreign key).
    await execute_core(session, insert(_reservations), reservation_row)
    await execute_core(session, insert(_reservation_lines), line_rows)
    reservation = Reservation(**reservation_row)
    lines = [ReservationLine(**row) for row in line_rows]
    view = reservation_view(reservation, lines, now)
    await record_event(
        session, principal.brand_id, "reservation.created", api_data(ReservationOut, view), now=now
    )
    return view


async def get_reservation(
    session: AsyncSession, principal: Principal, reservation_id: uuid.UUID
) -> dict[str, Any]:
    """One reservation at a site the caller may read (404 otherwise)."""
    reservation = await _visible(session, principal, reservation_id, lock=False)
    return reservation_view(
        reservation, (await _lines(session, principal.brand_id, [reservation.id]))[0], utcnow()
    )


async def list_reservations(
    session: AsyncSession,
    principal: Principal,
    params: PageParams,
    *,
    site_id: uuid.UUID | None,
    status: str | None,
    reference: str | None,
    product_id: uuid.UUID | None,
) -> tuple[list[dict[str, Any]], PageMeta]:
    """Reservations at the sites the caller may read, newest first, filtered."""
    now = utcnow()
    query = brand_scoped(Reservation, principal)
    if site_id is not None:
        site = await load_site(session, principal, site_id)
        check_site_access(principal, site, Access.read)
        query = query.where(Reservation.site_id == site.id)
    elif not principal.is_admin:
        query = query.where(Reservation.site_id.in_(sorted(principal.site_ids)))
    if status == "active":
        query = query.where(Reservation.status == "active", Reservation.expires_at > now)
    elif status == "expired":
        query = query.where(
            or_(
                Reservation.status == "expired",
                (Reservation.status == "active") & (Reservation.expires_at <= now),
            )
        )
    elif status is not None:
        query = query.where(Reservation.status == status)
    if reference is not None:
        query = query.where(Reservation.reference == reference)
    if product_id is not None:
        query = query.where(
            exists().where(
                ReservationLine.brand_id == principal.brand_id,
                ReservationLine.reservation_id == Reservation.id,
                ReservationLine.product_id == product_id,
            )
        )
    query = query.order_by(Reservation.created_at.desc(), Reservation.id.desc())
    reservations, meta = await fetch_page(session, query, params)
    lines = await _lines(session, principal.brand_id, [r.id for r in reservations])
    return [reservation_view(r, rl, now) for r, rl in zip(reservations, lines, strict=True)], meta


async def release_reservation(
    session: AsyncSession,
    principal: Principal,
    reservation_id: uuid.UUID,
    body: ReservationRelease,
) -> dict[str, Any]:
    """Give back all that remains, or the given `lines`; the units count as available again."""
    now = utcnow()
    reservation = await _open_for_writing(session, principal, reservation_id, now)
    lines = (await _lines(session, principal.brand_id, [reservation.id]))[0]
    if body.lines is None:
        taken = {line.id: line.remaining for line in lines if line.remaining}
    else:
        taken = _allocate(
            lines,
            [
                _Wanted(r.product_id, r.location_id, r.quantity, f"lines[{i}].")
                for i, r in enumerate(body.lines)
            ],
            strict=True,
        )
    await _take(session, principal, reservation, lines, taken, now, consumed=False)
    return reservation_view(reservation, lines, now)


async def extend_reservation(
    session: AsyncSession,
    principal: Principal,
    reservation_id: uuid.UUID,
    body: ReservationExtend,
) -> dict[str, Any]:
    """Move an open reservation's expiry (60 s … 30 days from now)."""
    now = utcnow()
    reservation = await _open_for_writing(session, principal, reservation_id, now)
    expires_at = _expires_at(body, now)
    reservation.expires_at = expires_at
    reservation.updated_at = now
    await session.execute(
        update(ReservationLine)
        .where(
            ReservationLine.brand_id == principal.brand_id,
            ReservationLine.reservation_id == reservation.id,
        )
        .values(expires_at=expires_at)
        .execution_options(synchronize_session=False)
    )
    await session.flush()
    return reservation_view(
        reservation, (await _lines(session, principal.brand_id, [reservation.id]))[0], now
    )


@dataclass(frozen=True, slots=True)
class SaleLine:
    product_id: uuid.UUID
    location_id: int | None
    quantity: int
    field: str


async def consume_for_sale(
    session: AsyncSession,
    principal: Principal,
    reservation_id: uuid.UUID,
    site_id: uuid.UUID,
    sale: Sequence[SaleLine],
    now: datetime,
) -> list[HoldDraft]:
    """The reserved units an invoice's lines take from the reservation (in line order).

    Returns the holds the sale's `post_movements` must carry; selling fewer than reserved
    leaves the rest held. The reservation is locked until the invoice commits.
    """
    reservation = await _locked(session, principal, reservation_id)
    if reservation is None or reservation.site_id != site_id:
        raise ValidationFailed(
            "The reservation does not exist at the invoice's site.",
            [field_error("reservation_id", f"unknown reservation {reservation_id} at this site")],
        )
    _require_open(reservation, now, field="reservation_id")
    lines = (await _lines(session, principal.brand_id, [reservation.id]))[0]
    wanted = [_Wanted(s.product_id, s.location_id, s.quantity, s.field) for s in sale]
    taken = _allocate(lines, wanted, strict=False)
    return await _take(session, principal, reservation, lines, taken, now, consumed=True)


async def _take(
    session: AsyncSession,
    principal: Principal,
    reservation: Reservation,
    lines: list[ReservationLine],
    taken: dict[uuid.UUID, int],
    now: datetime,
    *,
    consumed: bool,
) -> list[HoldDraft]:
    """Take units off the lines; a reservation left with nothing is consumed or released."""
    holds = []
    for line in lines:
        units = taken.get(line.id, 0)
        if not units:
            continue
        line.remaining -= units
        holds.append(
            HoldDraft(
                line.product_id,
                line.site_id,
                -units,
                None if line.location_id == NO_LOCATION else line.location_id,
                consumed=consumed,
                field=f"lines[{line.line_no}].",
            )
        )
    if all(line.remaining == 0 for line in lines):
        reservation.status = "consumed" if consumed else "released"
        for line in lines:
            line.active = False
    reservation.updated_at = now
    if not consumed:
        await post_movements(
            session, principal.brand_id, [], user_id=principal.user_id, now=now, holds=holds
        )
    # Every release and every sale from it, partial ones too: `data.status` says whether
    # the reservation is closed.
    await record_event(
        session,
        principal.brand_id,
        "reservation.consumed" if consumed else "reservation.released",
        api_data(ReservationOut, reservation_view(reservation, lines, now)),
        now=now,
    )
    await session.flush()
    return holds


@dataclass(frozen=True, slots=True)
class _Wanted:
    product_id: uuid.UUID
    location_id: int | None
    quantity: int
    field: str


def _allocate(
    lines: list[ReservationLine], wanted: Sequence[_Wanted], *, strict: bool
) -> dict[uuid.UUID, int]:
    """Units to take per reservation line, matching product and location, in line order.

    `strict` (a release): asking for more than the reservation holds is a 422 naming the
    line. Not strict (a sale): what is not reserved is simply sold from `available`.
    """
    left = {line.id: line.remaining for line in lines}
    taken: dict[uuid.UUID, int] = defaultdict(int)
    details = []
    for want in wanted:
        location = NO_LOCATION if want.location_id is None else want.location_id
        need = want.quantity
        for line in lines:
            if need == 0:
                break
            if line.product_id != want.product_id or line.location_id != location:
                continue
            units = min(need, left[line.id])
            left[line.id] -= units
            taken[line.id] += units
            need -= units
        if strict and need:
            held = want.quantity - need
            details.append(
                field_error(
                    f"{want.field}quantity",
                    f"the reservation holds {held} of this product here, not {want.quantity}",
                )
            )
    if details:
        raise ValidationFailed("The reservation does not hold that much.", details)
    return dict(taken)


async def _locked(
    session: AsyncSession, principal: Principal, reservation_id: uuid.UUID
) -> Reservation | None:
    query = (
        brand_scoped(Reservation, principal)
        .where(Reservation.id == reservation_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    reservation = (await session.execute(query)).scalar()
    if reservation is None or not principal.can_read(reservation.site_id):
        return None
    return reservation


async def _visible(
    session: AsyncSession, principal: Principal, reservation_id: uuid.UUID, *, lock: bool
) -> Reservation:
    if lock:
        reservation = await _locked(session, principal, reservation_id)
    else:
        reservation = (
            await session.execute(
                brand_scoped(Reservation, principal).where(Reservation.id == reservation_id)
            )
        ).scalar()
        if reservation is not None and not principal.can_read(reservation.site_id):
            reservation = None
    if reservation is None:
        raise NotFound(f"No reservation {reservation_id}.")
    return reservation


async def _open_for_writing(
    session: AsyncSession, principal: Principal, reservation_id: uuid.UUID, now: datetime
) -> Reservation:
    reservation = await _visible(session, principal, reservation_id, lock=True)
    check_site_access(
        principal, await load_site(session, principal, reservation.site_id), Access.write
    )
    _require_open(reservation, now, field="status")
    return reservation


def _require_open(reservation: Reservation, now: datetime, *, field: str) -> None:
    status = effective_status(reservation, now)
    if status != "active":
        raise ReservationClosed(
            f"The reservation is {status}; nothing was changed.",
            [field_error(field, f"reservation {reservation.id} is {status}")],
        )


async def _lines(
    session: AsyncSession, brand_id: uuid.UUID, reservation_ids: list[uuid.UUID]
) -> list[list[ReservationLine]]:
    if not reservation_ids:
        return []
    by_reservation: dict[uuid.UUID, list[ReservationLine]] = defaultdict(list)
    result = await session.execute(
        brand_scoped(ReservationLine, brand_id)
        .where(ReservationLine.reservation_id.in_(reservation_ids))
        .order_by(ReservationLine.reservation_id, ReservationLine.line_no)
        .execution_options(populate_existing=True)
    )
    for line in result.scalars():
        by_reservation[line.reservation_id].append(line)
    return [by_reservation[rid] for rid in reservation_ids]


def reservation_view(
    reservation: Reservation, lines: Sequence[ReservationLine], now: datetime
) -> dict[str, Any]:
    return {
        "id": reservation.id,
        "status": effective_status(reservation, now),
        "site_id": reservation.site_id,
        "lines": [
            {
                "product_id": line.product_id,
                "location_id": None if line.location_id == NO_LOCATION else line.location_id,
                "quantity": line.quantity,
                "remaining": line.remaining,
            }
            for line in lines
        ],
        "expires_at": reservation.expires_at,
        "reference": reservation.reference,
        "notes": reservation.notes,
        "user_id": reservation.user_id,
        "created_at": reservation.created_at,
        "updated_at": reservation.updated_at,
    }
