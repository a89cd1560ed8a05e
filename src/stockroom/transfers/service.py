"""Stock transfers: a `transfer_out` at the source and a `transfer_in` at the destination.

A one-step transfer writes both halves in one `post_movements` call, so they are written
together or not at all, and the writer's sorted level order keeps opposing transfers (A→B,
B→A) from deadlocking. A transfer `in_transit` writes only the `transfer_out` when shipped;
`receive_transfer` writes `transfer_in`s at the destination later, `close_transfer` ends it
(returned units go back to the source, lost or damaged ones are written off on it).

Each transition is one function (`ship_transfer`, `receive_transfer`, `close_transfer`)
that writes the movements and the transfer's row (`db/models/transfers.py`) in the
caller's transaction. Receipts and closes of one transfer are serialised by the transfer
row's lock (taken first, by an UPDATE; SQLite runs one writer at a time): two receivers can
never receive more than was shipped.

The caller must be able to write the source site to ship or close; the destination only has
to be a site of the brand — a manager of a shop may send stock to a warehouse it does not
run. Receiving needs write access to the destination. A transfer is visible to whoever may
read its source or its destination.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Table, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from stockroom.auth.current_site import (
    Access,
    SiteChoice,
    SiteRef,
    check_site_access,
    load_site,
    resolve_current_site,
)
from stockroom.auth.principal import Principal
from stockroom.auth.scope import brand_scoped
from stockroom.db.core import execute_core
from stockroom.db.models import Product, StockMovement, Transfer, TransferLine
from stockroom.db.models.base import new_id, utcnow
from stockroom.db.models.transfers import OPEN_STATUSES
from stockroom.errors import NotFound, TransferClosed, Unavailable, ValidationFailed, field_error
from stockroom.events.record import api_data, record_events
from stockroom.ledger import LineTarget, MovementDraft, check_line_targets, post_movements
from stockroom.movements.schemas import Movement
from stockroom.pagination import PageMeta, PageParams, fetch_page
from stockroom.transfers.schemas import (
    CloseReason,
    CloseRequest,
    ReceiveRequest,
    TransferCreated,
    TransferDetail,
    TransferLineOut,
    TransferRequest,
    TransferSort,
    TransferType,
)

TRANSFER_TYPES = (TransferType.transfer_out.value, TransferType.transfer_in.value)
# The reason code of the `transfer_in` that puts a closed transfer's units back at the source.
RETURNED_REASON = "transfer_returned"

transfers = cast(Table, Transfer.__table__)
lines_table = cast(Table, TransferLine.__table__)


async def ship_transfer(
    session: AsyncSession,
    principal: Principal,
    body: TransferRequest,
    site_choice: SiteChoice,
) -> tuple[uuid.UUID, str, dict[str, Any], dict[str, Any] | None]:
    """Send `quantity` of a product to another site; return id, status and the halves written.

    One-step (default): both halves, status `completed`. `in_transit`: only the
    `transfer_out`, status `in_transit`, the units outstanding on the transfer's line.
    """
    source = await site_choice.resolve(session, principal, Access.write, body=body.site_id)
    destination = await load_site(
        session, principal, body.destination_site_id, field="destination_site_id"
    )
    if destination.id == source.id:
        raise ValidationFailed(
            "A transfer needs two different sites.",
            [field_error("destination_site_id", "must differ from the source site")],
        )
    targets = [
        LineTarget("", body.product_id, source.id, body.source_location_id, "source_location_id")
    ]
    # In transit, the receipt chooses the location; one named now is checked now.
    if not body.in_transit or body.destination_location_id is not None:
        targets.append(
            LineTarget(
                "",
                body.product_id,
                destination.id,
                body.destination_location_id,
                "destination_location_id",
            )
        )
    await _check_targets(session, principal.brand_id, targets)
    transfer_id = new_id()
    shared: dict[str, Any] = {
        "product_id": body.product_id,
        "source_site_id": source.id,
        "destination_site_id": destination.id,
        "reference": body.reference,
        "notes": body.notes,
        "transfer_id": transfer_id,
    }
    drafts = [
        MovementDraft(
            type=TransferType.transfer_out.value,
            site_id=source.id,
            location_id=body.source_location_id,
            quantity=-body.quantity,
            **shared,
        )
    ]
    if not body.in_transit:
        drafts.append(
            MovementDraft(
                type=TransferType.transfer_in.value,
                site_id=destination.id,
                location_id=body.destination_location_id,
                quantity=body.quantity,
                **shared,
            )
        )
    now = utcnow()
    written = await post_movements(
        session,
        principal.brand_id,
        drafts,
        user_id=principal.user_id,
        now=now,
        occurred_at=body.occurred_at,
    )
    status = "in_transit" if body.in_transit else "completed"
    await execute_core(
        session,
        insert(transfers),
        {
            "brand_id": principal.brand_id,
            "id": transfer_id,
            "source_site_id": source.id,
            "destination_site_id": destination.id,
            "status": status,
            "reference": body.reference,
            "notes": body.notes,
            "user_id": principal.user_id,
            "created_at": now,
            "updated_at": now,
        },
    )
    await execute_core(
        session,
        insert(lines_table),
        {
            "brand_id": principal.brand_id,
            "id": new_id(),
            "transfer_id": transfer_id,
            "product_id": body.product_id,
            "destination_site_id": destination.id,
            "source_location_id": body.source_location_id,
            "destination_location_id": body.destination_location_id,
            "shipped": body.quantity,
            "received": 0 if body.in_transit else body.quantity,
            "outstanding": body.quantity if body.in_transit else 0,
            "written_off": 0,
            "returned": 0,
        },
    )
    in_half = None if body.in_transit else written[1]
    shipped = {"transfer_id": transfer_id, "status": status, "transfer_out": written[0]}
    await record_transfer_events(
        session,
        principal.brand_id,
        ["transfer.shipped"] if body.in_transit else ["transfer.shipped", "transfer.received"],
        api_data(TransferCreated, {**shipped, "transfer_in": in_half}),
    )
    return transfer_id, status, written[0], in_half


async def record_transfer_events(
    session: AsyncSession, brand_id: uuid.UUID, types: Sequence[str], data: dict[str, Any]
) -> None:
    """The transfer's `transfer.shipped` / `.received` / `.closed` events, in this order, with
    the transfer as the API answers it. A one-step transfer is shipped and received at once."""
    await record_events(session, brand_id, [(type_, data) for type_ in types])


async def receive_transfer(
    session: AsyncSession, principal: Principal, transfer_id: uuid.UUID, body: ReceiveRequest
) -> TransferDetail:
    """Receive some or all outstanding units at the destination (`transfer_in` movements).

    All lines or none: a product not shipped on the transfer, or more than is outstanding of
    one (lines of a product summed), is a 422 listing every such line.
    """
    transfer = await _visible_transfer(session, principal, transfer_id)
    check_site_access(
        principal, SiteRef(transfer.destination_site_id, principal.brand_id), Access.write
    )
    now = utcnow()
    await _lock_open(session, principal.brand_id, transfer_id, now)
    shipped = {line.product_id: line for line in await _lines(session, principal, transfer_id)}
    problems: list[dict[str, Any]] = []
    wanted: dict[uuid.UUID, int] = {}
    for i, line in enumerate(body.lines):
        if line.product_id not in shipped:
            problems.append(
                field_error(
                    f"lines[{i}].product_id",
                    f"product {line.product_id} was not shipped on this transfer",
                )
            )
            continue
        wanted[line.product_id] = wanted.get(line.product_id, 0) + line.quantity
    for i, line in enumerate(body.lines):
        if line.product_id in shipped and wanted[line.product_id] > (
            outstanding := shipped[line.product_id].outstanding
        ):
            problems.append(
                field_error(f"lines[{i}].quantity", "more than is outstanding on the transfer")
                | {
                    "product_id": str(line.product_id),
                    "outstanding": outstanding,
                    "requested": wanted[line.product_id],
                }
            )
    if problems:
        raise ValidationFailed(
            "The receipt does not fit the transfer; nothing was written.", problems
        )
    drafts = [
        MovementDraft(
            type=TransferType.transfer_in.value,
            product_id=line.product_id,
            site_id=transfer.destination_site_id,
            location_id=(
                line.location_id
                if line.location_id is not None
                else shipped[line.product_id].destination_location_id
            ),
            quantity=line.quantity,
            source_site_id=transfer.source_site_id,
            destination_site_id=transfer.destination_site_id,
            reference=transfer.reference,
            notes=transfer.notes,
            transfer_id=transfer_id,
            field=f"lines[{i}].",
        )
        for i, line in enumerate(body.lines)
    ]
    await check_line_targets(
        session,
        principal.brand_id,
        [LineTarget(d.field, d.product_id, d.site_id, d.location_id) for d in drafts],
    )
    await post_movements(session, principal.brand_id, drafts, user_id=principal.user_id, now=now)
    for product_id, quantity in wanted.items():
        await _take_outstanding(
            session, principal.brand_id, shipped[product_id].id, quantity, "received"
        )
    left = sum(line.outstanding for line in shipped.values()) - sum(wanted.values())
    await _set_status(
        session,
        principal.brand_id,
        transfer_id,
        {"status": "completed" if left == 0 else "partially_received", "updated_at": now},
    )
    detail = await transfer_detail(session, principal, transfer_id)
    await record_transfer_events(
        session, principal.brand_id, ["transfer.received"], api_data(TransferDetail, detail)
    )
    return detail


async def close_transfer(
    session: AsyncSession, principal: Principal, transfer_id: uuid.UUID, body: CloseRequest
) -> TransferDetail:
    """End a transfer with units outstanding: returned to the source, or written off."""
    transfer = await _visible_transfer(session, principal, transfer_id)
    check_site_access(principal, SiteRef(transfer.source_site_id, principal.brand_id), Access.write)
    now = utcnow()
    await _lock_open(session, principal.brand_id, transfer_id, now)
    open_lines = [
        line for line in await _lines(session, principal, transfer_id) if line.outstanding > 0
    ]
    returned = body.reason is CloseReason.returned
    if returned:
        await post_movements(
            session,
            principal.brand_id,
            [
                MovementDraft(
                    type=TransferType.transfer_in.value,
                    product_id=line.product_id,
                    site_id=transfer.source_site_id,
                    location_id=line.source_location_id,
                    quantity=line.outstanding,
                    source_site_id=transfer.source_site_id,
                    destination_site_id=transfer.destination_site_id,
                    reference=transfer.reference,
                    notes=body.notes,
                    reason_code=RETURNED_REASON,
                    transfer_id=transfer_id,
                )
                for line in open_lines
            ],
            user_id=principal.user_id,
            now=now,
        )
    for line in open_lines:
        await _take_outstanding(
            session,
            principal.brand_id,
            line.id,
            line.outstanding,
            "returned" if returned else "written_off",
        )
    await _set_status(
        session,
        principal.brand_id,
        transfer_id,
        {
            "status": "closed",
            "close_reason": body.reason.value,
            "close_notes": body.notes,
            "closed_at": now,
            "updated_at": now,
        },
    )
    detail = await transfer_detail(session, principal, transfer_id)
    await record_transfer_events(
        session, principal.brand_id, ["transfer.closed"], api_data(TransferDetail, detail)
    )
    return detail


async def transfer_detail(
    session: AsyncSession, principal: Principal, transfer_id: uuid.UUID
) -> TransferDetail:
    """The transfer, its lines, totals and movements (404 when the caller may not see it)."""
    transfer = await _visible_transfer(session, principal, transfer_id)
    lines = await _lines(session, principal, transfer_id)
    moved = (
        (
            await session.execute(
                brand_scoped(StockMovement, principal)
                .where(StockMovement.transfer_id == transfer_id)
                .order_by(StockMovement.created_at, StockMovement.id)
            )
        )
        .scalars()
        .all()
    )
    return TransferDetail(
        id=transfer.id,
        status=transfer.status,
        source_site_id=transfer.source_site_id,
        destination_site_id=transfer.destination_site_id,
        reference=transfer.reference,
        notes=transfer.notes,
        shipped=sum(line.shipped for line in lines),
        received=sum(line.received for line in lines),
        outstanding=sum(line.outstanding for line in lines),
        written_off=sum(line.written_off for line in lines),
        returned=sum(line.returned for line in lines),
        close_reason=transfer.close_reason,
        close_notes=transfer.close_notes,
        lines=[TransferLineOut.model_validate(line) for line in lines],
        movements=[Movement.model_validate(m) for m in moved],
        user_id=transfer.user_id,
        created_at=transfer.created_at,
        updated_at=transfer.updated_at,
        closed_at=transfer.closed_at,
    )


async def find_transfer(
    session: AsyncSession, principal: Principal, transfer_id: uuid.UUID
) -> TransferDetail | None:
    """`transfer_detail`, or None when there is no such transfer visible to the caller."""
    try:
        return await transfer_detail(session, principal, transfer_id)
    except NotFound:
        return None


async def _visible_transfer(
    session: AsyncSession, principal: Principal, transfer_id: uuid.UUID
) -> Any:
    row = (
        await execute_core(
            session,
            select(transfers).where(
                transfers.c.brand_id == principal.brand_id, transfers.c.id == transfer_id
            ),
        )
    ).first()
    if row is None or not (
        principal.can_read(row.source_site_id) or principal.can_read(row.destination_site_id)
    ):
        raise NotFound(f"No transfer {transfer_id}.")
    return row


async def _lock_open(
    session: AsyncSession, brand_id: uuid.UUID, transfer_id: uuid.UUID, now: datetime
) -> None:
    """Take the transfer's row lock (held to commit) and refuse a transfer that has ended.

    Everything read after this sees the last receipt or close committed before it.
    """
    status = (
        await execute_core(
            session,
            update(transfers)
            .where(transfers.c.brand_id == brand_id, transfers.c.id == transfer_id)
            .values(updated_at=now)
            .returning(transfers.c.status),
        )
    ).scalar_one()
    if status not in OPEN_STATUSES:
        raise TransferClosed(
            f"The transfer is {status}: nothing is outstanding on it.",
            [field_error("transfer_id", f"the transfer is {status}")],
        )


async def _lines(session: AsyncSession, principal: Principal, transfer_id: uuid.UUID) -> list[Any]:
    return list(
        (
            await execute_core(
                session,
                select(lines_table)
                .where(
                    lines_table.c.brand_id == principal.brand_id,
                    lines_table.c.transfer_id == transfer_id,
                )
                .order_by(lines_table.c.product_id),
            )
        ).all()
    )


async def _take_outstanding(
    session: AsyncSession, brand_id: uuid.UUID, line_id: uuid.UUID, quantity: int, into: str
) -> None:
    """Move `quantity` of a line from outstanding to `into`; never below zero outstanding."""
    column = lines_table.c[into]
    changed = (
        await execute_core(
            session,
            update(lines_table)
            .where(
                lines_table.c.brand_id == brand_id,
                lines_table.c.id == line_id,
                lines_table.c.outstanding >= quantity,
            )
            .values({into: column + quantity, "outstanding": lines_table.c.outstanding - quantity})
            .returning(lines_table.c.id),
        )
    ).first()
    if changed is None:  # the lock makes this unreachable; never write past what was shipped
        raise Unavailable(
            "The transfer changed while it was being written; nothing was written. Retry.",
            [field_error("lines", "the transfer is busy; retry")],
        )


async def _set_status(
    session: AsyncSession, brand_id: uuid.UUID, transfer_id: uuid.UUID, values: dict[str, Any]
) -> None:
    await execute_core(
        session,
        update(transfers)
        .where(transfers.c.brand_id == brand_id, transfers.c.id == transfer_id)
        .values(values),
    )


async def _check_targets(
    session: AsyncSession, brand_id: uuid.UUID, targets: list[LineTarget]
) -> None:
    # Both halves name the same product: an unknown product is one problem, not two.
    try:
        await check_line_targets(session, brand_id, targets)
    except ValidationFailed as error:
        error.details = list({(d["field"], d["message"]): d for d in error.details}.values())
        raise


async def list_transfers(
    session: AsyncSession,
    principal: Principal,
    params: PageParams,
    *,
    site_id: uuid.UUID | None,
    header_site: uuid.UUID | None,
    product_id: uuid.UUID | None,
    type_: TransferType | None,
    sort: TransferSort,
) -> tuple[list[StockMovement], PageMeta]:
    """Transfer halves written at the current site (which the caller must be able to read)."""
    site = await resolve_current_site(
        session, principal, explicit=site_id, header=header_site, access=Access.read
    )
    query = brand_scoped(StockMovement, principal).where(StockMovement.site_id == site.id)
    if type_ is None:
        query = query.where(StockMovement.type.in_(TRANSFER_TYPES))
    else:
        query = query.where(StockMovement.type == type_.value)
    if product_id is not None:
        await _require_product(session, principal, product_id)
        query = query.where(StockMovement.product_id == product_id)
    # `quantity` sorts by the signed figure as returned (outgoing halves are negative).
    created = StockMovement.created_at
    ordering = {
        TransferSort.created_at: (created.asc(), StockMovement.id.asc()),
        TransferSort.created_at_desc: (created.desc(), StockMovement.id.desc()),
        TransferSort.quantity: (StockMovement.quantity.asc(), created.desc(), StockMovement.id),
        TransferSort.quantity_desc: (
            StockMovement.quantity.desc(),
            created.desc(),
            StockMovement.id,
        ),
    }[sort]
    return await fetch_page(session, query.order_by(*ordering), params)


async def statuses_of(
    session: AsyncSession, brand_id: uuid.UUID, transfer_ids: set[uuid.UUID]
) -> dict[uuid.UUID, str]:
    """The status of each transfer named (one query for a page of halves)."""
    if not transfer_ids:
        return {}
    rows = await execute_core(
        session,
        select(transfers.c.id, transfers.c.status).where(
            transfers.c.brand_id == brand_id, transfers.c.id.in_(transfer_ids)
        ),
    )
    return {row.id: row.status for row in rows}


async def get_transfer(
    session: AsyncSession, principal: Principal, movement_id: uuid.UUID
) -> StockMovement | None:
    """One transfer half of the brand at a site the caller may read (None when not visible)."""
    movement = (
        await session.execute(
            brand_scoped(StockMovement, principal).where(
                StockMovement.id == movement_id, StockMovement.type.in_(TRANSFER_TYPES)
            )
        )
    ).scalar_one_or_none()
    if movement is None or not principal.can_read(movement.site_id):
        return None
    return movement


async def _require_product(
    session: AsyncSession, principal: Principal, product_id: uuid.UUID
) -> None:
    known = (
        await session.execute(
            select(Product.id).where(
                Product.brand_id == principal.brand_id, Product.id == product_id
            )
        )
    ).first()
    if known is None:
        raise ValidationFailed(
            "The product does not exist in your brand.",
            [field_error("product_id", f"unknown product {product_id}")],
        )
