"""The dashboard's sell-side tasks: release a reservation, void an invoice.

Both lists show what the signed-in user may read; the buttons appear only where they may
write. A button posts a `forms.PostedForm` to the API's own service function
(`reservations.service.release_reservation`, `invoices.service.void_invoice`).
"""

from __future__ import annotations

import uuid
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from stockroom.auth.dependencies import Session
from stockroom.dashboard import service
from stockroom.dashboard.forms import Posted, attempt, done, form_user
from stockroom.dashboard.service import DashboardUser
from stockroom.dashboard.session import DashboardRoute, SignedIn
from stockroom.dashboard.templating import render_form
from stockroom.invoices import service as invoices_service
from stockroom.pagination import MAX_PAGE, PageParams
from stockroom.reservations import service as reservations_service
from stockroom.reservations.schemas import ReservationRelease

router = APIRouter(route_class=DashboardRoute, include_in_schema=False)

PER_PAGE = 25
Page = Annotated[int, Query(ge=1, le=MAX_PAGE)]
Note = Annotated[str, Query(max_length=200)]


# --- reservations ---------------------------------------------------------------------------


async def _reservations(session: Session, user: DashboardUser, page: int) -> dict[str, Any]:
    rows, meta = await reservations_service.list_reservations(
        session,
        user.principal,
        PageParams(page=page, per_page=PER_PAGE),
        site_id=None,
        status="active",
        reference=None,
        product_id=None,
    )
    products = await service.product_labels(
        session, user.principal, {line["product_id"] for r in rows for line in r["lines"]}
    )
    return {
        "reservations": rows,
        "meta": meta,
        "products": products,
        "site_names": {s.id: s.name for s in user.sites},
        "active": "reservations",
    }


@router.get("/dashboard/reservations")
async def reservations_page(
    request: Request, session: Session, user: SignedIn, page: Page = 1, saved: Note = ""
) -> Response:
    context = await _reservations(session, user, page)
    notice = f"Released: {saved}." if saved else None
    return render_form(request, "reservations.html", user=user, notice=notice, **context)


@router.post("/dashboard/reservations/{reservation_id}/release")
async def release_reservation(
    request: Request, form: Posted, session: Session, reservation_id: uuid.UUID
) -> Response:
    user = await form_user(session, form)
    context = await _reservations(session, user, 1)

    async def write() -> Response:
        released = await reservations_service.release_reservation(
            session, user.principal, reservation_id, ReservationRelease()
        )
        label = released["reference"] or "the reservation"
        return done("/dashboard/reservations?" + urlencode({"saved": label}))

    return await attempt(
        write,
        lambda errors: render_form(
            request, "reservations.html", user=user, errors=errors, **context
        ),
    )


# --- invoices -------------------------------------------------------------------------------


async def _invoices(session: Session, user: DashboardUser, page: int) -> dict[str, Any]:
    rows, meta = await invoices_service.list_invoices(
        session, user.principal, PageParams(page=page, per_page=PER_PAGE)
    )
    products = await service.product_labels(
        session, user.principal, {line.product_id for r in rows for line in r["lines"]}
    )
    return {
        "invoices": rows,
        "meta": meta,
        "products": products,
        "site_names": {s.id: s.name for s in user.sites},
        "active": "invoices",
    }


@router.get("/dashboard/invoices")
async def invoices_page(
    request: Request, session: Session, user: SignedIn, page: Page = 1, saved: Note = ""
) -> Response:
    context = await _invoices(session, user, page)
    notice = f"Voided: {saved}." if saved else None
    return render_form(request, "invoices.html", user=user, notice=notice, **context)


@router.post("/dashboard/invoices/{invoice_id}/void")
async def void_invoice(
    request: Request, form: Posted, session: Session, invoice_id: uuid.UUID
) -> Response:
    user = await form_user(session, form)
    context = await _invoices(session, user, 1)

    async def write() -> Response:
        voided = await invoices_service.void_invoice(session, user.principal, invoice_id)
        label = voided["number"] or "the invoice"
        return done("/dashboard/invoices?" + urlencode({"saved": f"{label}, its stock is back"}))

    return await attempt(
        write,
        lambda errors: render_form(request, "invoices.html", user=user, errors=errors, **context),
    )
