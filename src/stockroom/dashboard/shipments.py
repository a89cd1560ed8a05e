"""The dashboard's transfers in transit: what is on its way, receive it (in parts), or close it.

Shipping is the transfer form's "receive later" choice (`moves`). This page lists the open
transfers (in transit or partly received) touching the sites the user may read; the
destination's writers receive, the source's writers close. Every write is the API's own
service function (`transfers.service.receive_transfer`, `close_transfer`).
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from stockroom.auth.dependencies import Session
from stockroom.dashboard import service
from stockroom.dashboard.forms import (
    FormErrors,
    Posted,
    PostedForm,
    attempt,
    checked,
    done,
    form_user,
    number_or_text,
)
from stockroom.dashboard.service import DashboardUser
from stockroom.dashboard.session import DashboardRoute, SignedIn
from stockroom.dashboard.templating import render_form
from stockroom.transfers import service as transfers_service
from stockroom.transfers.schemas import CloseRequest, ReceiveRequest

router = APIRouter(route_class=DashboardRoute, include_in_schema=False)

Note = Annotated[str, Query(max_length=200)]
OPEN_TRANSFERS_SHOWN = 50


async def _open_transfers(session: Session, user: DashboardUser) -> dict[str, Any]:
    ids = await service.open_transfer_ids(
        session, user.principal, [s.id for s in user.sites], limit=OPEN_TRANSFERS_SHOWN
    )
    transfers = [
        await transfers_service.transfer_detail(session, user.principal, transfer_id)
        for transfer_id in ids
    ]
    products = await service.product_labels(
        session, user.principal, {line.product_id for t in transfers for line in t.lines}
    )
    return {
        "transfers": transfers,
        "products": products,
        # A manager's shipment may go to a site they cannot read: name it all the same.
        "site_names": {s.id: s.name for s in await service.brand_sites(session, user.principal)},
    }


def _transfers_page(
    request: Request,
    user: DashboardUser,
    context: dict[str, Any],
    errors: FormErrors | None = None,
    notice: str | None = None,
    failed: uuid.UUID | None = None,
) -> Response:
    return render_form(
        request,
        "transfers.html",
        errors=errors,
        notice=notice,
        user=user,
        active="transfers",
        failed=failed,
        **context,
    )


@router.get("/dashboard/transfers")
async def transfers_page(
    request: Request, session: Session, user: SignedIn, saved: Note = ""
) -> Response:
    context = await _open_transfers(session, user)
    return _transfers_page(request, user, context, notice=f"Saved: {saved}." if saved else None)


async def _change_transfer(
    request: Request,
    form: PostedForm,
    session: Session,
    transfer_id: uuid.UUID,
    change: Callable[[DashboardUser], Awaitable[str]],
) -> Response:
    """Post a change to one transfer of the page (`change` answers what it saved); refused,
    the page again with the error at that transfer."""
    user = await form_user(session, form)
    context = await _open_transfers(session, user)

    async def write() -> Response:
        saved = await change(user)
        return done("/dashboard/transfers?" + urlencode({"saved": saved}))

    return await attempt(
        write, lambda errors: _transfers_page(request, user, context, errors, failed=transfer_id)
    )


@router.post("/dashboard/transfers/{transfer_id}/receive")
async def receive_transfer(
    request: Request, form: Posted, session: Session, transfer_id: uuid.UUID
) -> Response:
    async def receive(user: DashboardUser) -> str:
        lines = [
            {"product_id": product_id, "quantity": number_or_text(quantity)}
            for product_id, quantity in zip(
                form.all("product_id"), form.all("quantity"), strict=False
            )
            if quantity not in ("", "0")
        ]
        body = checked(ReceiveRequest, {"lines": lines})
        received = await transfers_service.receive_transfer(
            session, user.principal, transfer_id, body
        )
        units = sum(line.quantity for line in body.lines)
        return f"{units} unit(s) received, transfer {received.status.replace('_', ' ')}"

    return await _change_transfer(request, form, session, transfer_id, receive)


@router.post("/dashboard/transfers/{transfer_id}/close")
async def close_transfer(
    request: Request, form: Posted, session: Session, transfer_id: uuid.UUID
) -> Response:
    async def close(user: DashboardUser) -> str:
        body = checked(
            CloseRequest, {"reason": form.get("reason"), "notes": form.get("notes") or None}
        )
        await transfers_service.close_transfer(session, user.principal, transfer_id, body)
        return f"transfer closed ({body.reason})"

    return await _change_transfer(request, form, session, transfer_id, close)
