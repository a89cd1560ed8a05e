"""Invoices: a sale writes one `sale` movement per line; voiding writes the `return`s.

An invoice and its movements are written in the request's one transaction through the
ledger, so a sale that is short of stock stores nothing. Voiding flips the status with one
conditional UPDATE first: of two concurrent voids exactly one wins and writes returns.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Sequence
from decimal import Decimal, localcontext
from typing import Any

from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

from stockroom.auth.current_site import (
    Access,
    SiteChoice,
    check_site_access,
    load_site,
)
from stockroom.auth.principal import Principal
from stockroom.auth.scope import brand_scoped, brand_scoped_columns
from stockroom.db.models import Invoice, InvoiceLine, Site, StockMovement
from stockroom.db.models.base import new_id, utcnow
from stockroom.errors import NotFound, ValidationFailed, field_error
from stockroom.events.record import api_data, record_event
from stockroom.fields import MAX_MONEY, MONEY_CONTEXT
from stockroom.invoices.schemas import Invoice as InvoiceOut
from stockroom.invoices.schemas import InvoiceCreate
from stockroom.ledger import LineTarget, MovementDraft, check_line_targets, post_movements
from stockroom.pagination import PageMeta, PageParams, fetch_page
from stockroom.reservations.service import SaleLine, consume_for_sale

# The total is money like any other: at most 99999999999999.9999.
MAX_TOTAL = MAX_MONEY

_movement = StockMovement.__table__


async def create_invoice(
    session: AsyncSession, principal: Principal, body: InvoiceCreate, site_choice: SiteChoice
) -> dict[str, Any]:
    """Sell the lines at the current site: the invoice, its lines and one sale movement each."""
    site = await site_choice.resolve(session, principal, Access.write, body=body.site_id)
    targets = [
        LineTarget(f"lines[{i}].", line.product_id, site.id, line.location_id)
        for i, line in enumerate(body.lines)
    ]
    products = await check_line_targets(session, principal.brand_id, targets)
    with localcontext(MONEY_CONTEXT):  # exact: 500 lines of 1e9 × 1e14 need ~30 digits
        total = sum((line.quantity * line.unit_price for line in body.lines), Decimal(0))
    if total > MAX_TOTAL:
        raise ValidationFailed(
            "The invoice total is too large.",
            [field_error("lines", f"the total must not exceed {MAX_TOTAL}")],
        )
    invoice_id, now = new_id(), utcnow()
    holds = []
    if body.reservation_id is not None:
        holds = await consume_for_sale(
            session,
            principal,
            body.reservation_id,
            site.id,
            [
                SaleLine(line.product_id, line.location_id, line.quantity, f"lines[{i}].")
                for i, line in enumerate(body.lines)
            ],
            now,
        )
    drafts = [
        MovementDraft(
            type="sale",
            product_id=line.product_id,
            site_id=site.id,
            quantity=-line.quantity,
            location_id=line.location_id,
            reference=body.number,
            invoice_id=invoice_id,
            # What the goods cost, at the product's average cost when sold.
            unit_cost=products[line.product_id].cost_per_unit,
            field=f"lines[{i}].",
        )
        for i, line in enumerate(body.lines)
    ]
    movements = await post_movements(
        session,
        principal.brand_id,
        drafts,
        user_id=principal.user_id,
        now=now,
        holds=holds,
        occurred_at=body.occurred_at,
    )
    invoice = Invoice(
        id=invoice_id,
        brand_id=principal.brand_id,
        site_id=site.id,
        number=body.number,
        status="issued",
        total=total,
        user_id=principal.user_id,
        created_at=now,
        reservation_id=body.reservation_id,
    )
    lines = [
        InvoiceLine(
            brand_id=principal.brand_id,
            invoice_id=invoice_id,
            line_no=i,
            product_id=line.product_id,
            quantity=line.quantity,
            unit_price=line.unit_price,
            location_id=line.location_id,
        )
        for i, line in enumerate(body.lines)
    ]
    session.add(invoice)
    session.add_all(lines)
    await session.flush()
    view = _invoice_view(invoice, lines, movements)
    await record_event(session, principal.brand_id, "invoice.created", api_data(InvoiceOut, view))
    return view


async def get_invoice(
    session: AsyncSession, principal: Principal, invoice_id: uuid.UUID
) -> dict[str, Any]:
    """One invoice at a site the caller may read (404 otherwise), with lines and movements."""
    invoice = await _visible_invoice(session, principal, invoice_id)
    return (await _with_details(session, principal, [invoice]))[0]


async def list_invoices(
    session: AsyncSession,
    principal: Principal,
    params: PageParams,
    *,
    site_id: uuid.UUID | None = None,
    status: str | None = None,
) -> tuple[list[dict[str, Any]], PageMeta]:
    """Invoices at the sites the caller may read (or one of them), newest first."""
    query = brand_scoped(Invoice, principal)
    if site_id is not None:
        site = await load_site(session, principal, site_id)
        check_site_access(principal, site, Access.read)
        query = query.where(Invoice.site_id == site.id)
    elif not principal.is_admin:
        query = query.where(Invoice.site_id.in_(sorted(principal.site_ids)))
    if status is not None:
        query = query.where(Invoice.status == status)
    query = query.order_by(Invoice.created_at.desc(), Invoice.id.desc())
    invoices, meta = await fetch_page(session, query, params)
    return await _with_details(session, principal, invoices), meta


async def void_invoice(
    session: AsyncSession, principal: Principal, invoice_id: uuid.UUID
) -> dict[str, Any]:
    """Void an issued invoice: `return` movements put every sold unit back (422 if void)."""
    invoice = await _visible_invoice(session, principal, invoice_id)
    site = (
        await session.execute(brand_scoped(Site, principal).where(Site.id == invoice.site_id))
    ).scalar_one()
    check_site_access(principal, site, Access.write)
    now = utcnow()
    # The status flips only if it is still `issued` when the row is written: a concurrent
    # void waits for this one's lock, then matches no row, and writes no second set of returns.
    flipped = (
        await session.execute(
            update(Invoice)
            .where(
                Invoice.brand_id == principal.brand_id,
                Invoice.id == invoice.id,
                Invoice.status == "issued",
            )
            .values(status="void", voided_at=now)
            .returning(Invoice.id)
        )
    ).first()
    if flipped is None:
        raise ValidationFailed(
            "The invoice is already void; its stock was put back when it was voided.",
            [field_error("status", "already void")],
        )
    sales = (
        (
            await session.execute(
                brand_scoped_columns(StockMovement, principal, *_movement.c).where(
                    _movement.c.invoice_id == invoice.id, _movement.c.type == "sale"
                )
            )
        )
        .mappings()
        .all()
    )
    await post_movements(
        session,
        principal.brand_id,
        [
            MovementDraft(
                type="return",
                product_id=sale["product_id"],
                site_id=sale["site_id"],
                quantity=-sale["quantity"],
                location_id=sale["location_id"],
                reference=sale["reference"],
                invoice_id=invoice.id,
                unit_cost=sale["unit_cost"],
                reason_code="invoice_void",
            )
            for sale in sales
        ],
        user_id=principal.user_id,
        now=now,
    )
    await session.refresh(invoice)
    view = (await _with_details(session, principal, [invoice]))[0]
    await record_event(
        session, principal.brand_id, "invoice.voided", api_data(InvoiceOut, view), now=now
    )
    return view


async def _visible_invoice(
    session: AsyncSession, principal: Principal, invoice_id: uuid.UUID
) -> Invoice:
    invoice = (
        await session.execute(brand_scoped(Invoice, principal).where(Invoice.id == invoice_id))
    ).scalar()
    if invoice is None or not principal.can_read(invoice.site_id):
        raise NotFound(f"No invoice {invoice_id}.")
    return invoice


async def _with_details(
    session: AsyncSession, principal: Principal, invoices: Sequence[Invoice]
) -> list[dict[str, Any]]:
    """The invoices with their lines and movements, read in one query each."""
    ids = [invoice.id for invoice in invoices]
    if not ids:
        return []
    lines: dict[uuid.UUID, list[InvoiceLine]] = defaultdict(list)
    for line in (
        await session.execute(
            brand_scoped(InvoiceLine, principal)
            .where(InvoiceLine.invoice_id.in_(ids))
            .order_by(InvoiceLine.invoice_id, InvoiceLine.line_no)
        )
    ).scalars():
        lines[line.invoice_id].append(line)
    movements: dict[uuid.UUID, list[dict[str, Any]]] = defaultdict(list)
    for row in (
        await session.execute(
            brand_scoped_columns(StockMovement, principal, *_movement.c).where(
                _movement.c.invoice_id.in_(ids)
            )
        )
    ).mappings():
        movements[row["invoice_id"]].append(dict(row))
    return [
        _invoice_view(
            invoice, lines[invoice.id], _in_line_order(lines[invoice.id], movements[invoice.id])
        )
        for invoice in invoices
    ]


def _in_line_order(
    lines: Sequence[InvoiceLine], movements: list[dict[str, Any]]
) -> list[dict[str, Any]]:
    """Sales before returns, each set in the order of the invoice's lines.

    Movements carry no line number; a movement belongs to the first line not yet matched
    with its product, location and quantity, which is the order the invoice wrote them in.
    """
    ordered: list[dict[str, Any]] = []
    by_time: dict[Any, list[dict[str, Any]]] = defaultdict(list)
    for movement in movements:
        by_time[movement["created_at"]].append(movement)
    for stamp in sorted(by_time):
        unmatched: dict[tuple[Any, ...], list[dict[str, Any]]] = defaultdict(list)
        for movement in sorted(by_time[stamp], key=lambda m: (m["type"], str(m["id"]))):
            key = (movement["product_id"], movement["location_id"], abs(movement["quantity"]))
            unmatched[key].append(movement)
        for line in lines:
            candidates = unmatched.get((line.product_id, line.location_id, line.quantity))
            if candidates:
                ordered.append(candidates.pop(0))
        ordered.extend(m for rest in unmatched.values() for m in rest)
    return ordered


def _invoice_view(
    invoice: Invoice, lines: Sequence[InvoiceLine], movements: Sequence[dict[str, Any]]
) -> dict[str, Any]:
    return {
        "id": invoice.id,
        "site_id": invoice.site_id,
        "number": invoice.number,
        "status": invoice.status,
        "total": invoice.total,
        "lines": list(lines),
        "movements": list(movements),
        "created_at": invoice.created_at,
        "voided_at": invoice.voided_at,
        "user_id": invoice.user_id,
        "reservation_id": invoice.reservation_id,
    }
