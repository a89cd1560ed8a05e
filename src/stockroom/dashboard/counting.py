"""The dashboard's counts, built for a phone and a barcode scanner that types like a keyboard.

Start a count at a site, then on the count's page scan (or type) a SKU and press Enter — a
scanner sends the Enter itself. With the quantity left empty each scan counts one more unit
of that product; with a quantity typed, that is the count. The page comes back with the
focus in the SKU field (`autofocus`, no script needed), the line's figure, what was expected
and the variance. Complete applies the count through `counts.service.complete_count`: one
`recount` adjustment per line that differs. Every write is the API's own service function.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Awaitable, Callable
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from stockroom.auth.dependencies import Session
from stockroom.counts import service as counts_service
from stockroom.counts.schemas import CountLineIn, CountStart
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
    uuid_or_none,
)
from stockroom.dashboard.service import DashboardUser
from stockroom.dashboard.session import DashboardRoute, SignedIn
from stockroom.dashboard.templating import render_form
from stockroom.pagination import PageParams

router = APIRouter(route_class=DashboardRoute, include_in_schema=False)

Note = Annotated[str, Query(max_length=200)]
OPEN_COUNTS_SHOWN = 50


async def _open_counts(session: Session, user: DashboardUser) -> list[dict[str, Any]]:
    counts, _ = await counts_service.list_counts(
        session,
        user.principal,
        PageParams(page=1, per_page=OPEN_COUNTS_SHOWN),
        site_id=None,
        status="open",
    )
    return counts


def _counts_page(
    request: Request,
    user: DashboardUser,
    counts: list[dict[str, Any]],
    values: dict[str, str],
    errors: FormErrors | None = None,
) -> Response:
    return render_form(
        request,
        "counts.html",
        errors=errors,
        user=user,
        active="counts",
        counts=counts,
        site_names={s.id: s.name for s in user.sites},
        values=defaultdict(str, values),
    )


@router.get("/dashboard/counts")
async def counts_page(request: Request, session: Session, user: SignedIn) -> Response:
    counts = await _open_counts(session, user)
    return _counts_page(request, user, counts, {"site_id": "", "notes": ""})


@router.post("/dashboard/counts")
async def start_count(request: Request, form: Posted, session: Session) -> Response:
    user = await form_user(session, form)
    counts = await _open_counts(session, user)  # read before writing: shown on a refusal
    values = {"site_id": form.get("site_id"), "notes": form.get("notes")}

    async def write() -> Response:
        body = checked(
            CountStart,
            {"site_id": uuid_or_none(values["site_id"]), "notes": values["notes"] or None},
        )
        count = await counts_service.start_count(
            session, user.principal, body, None, user_id=user.principal.user_id
        )
        return done(f"/dashboard/counts/{count['id']}")

    return await attempt(write, lambda errors: _counts_page(request, user, counts, values, errors))


async def _count_view(session: Session, user: DashboardUser, count_id: uuid.UUID) -> dict[str, Any]:
    count = await counts_service.get_count(session, user.principal, count_id)
    products = await service.product_labels(
        session, user.principal, {line["product_id"] for line in count["lines"]}
    )
    site = user.site(count["site_id"])
    return {
        "count": count,
        "products": products,
        "site": site,
        "writable": user.can_write(count["site_id"]),
        "uncounted": len(count["uncounted"] or []),
        "locations": await service.site_locations(session, user.principal, [site] if site else []),
        "skus": await service.sku_choices(session, user.principal),
    }


def _count_page(
    request: Request,
    user: DashboardUser,
    view: dict[str, Any],
    values: dict[str, str],
    errors: FormErrors | None = None,
    notice: str | None = None,
) -> Response:
    return render_form(
        request,
        "count.html",
        errors=errors,
        notice=notice,
        user=user,
        active="counts",
        values=defaultdict(str, values),
        **view,
    )


@router.get("/dashboard/counts/{count_id}")
async def count_page(
    request: Request,
    session: Session,
    user: SignedIn,
    count_id: uuid.UUID,
    saved: Note = "",
    location_id: Note = "",
) -> Response:
    view = await _count_view(session, user, count_id)
    values = {"sku": "", "quantity": "", "location_id": location_id}
    return _count_page(request, user, view, values, notice=f"Saved: {saved}." if saved else None)


@router.post("/dashboard/counts/{count_id}/lines")
async def record_line(
    request: Request, form: Posted, session: Session, count_id: uuid.UUID
) -> Response:
    user = await form_user(session, form)
    view = await _count_view(session, user, count_id)
    values = {name: form.get(name) for name in ("sku", "quantity", "location_id")}

    async def write() -> Response:
        product = await service.product_by_sku(session, user.principal, values["sku"])
        location = number_or_text(values["location_id"])
        quantity = number_or_text(values["quantity"])
        if quantity is None:
            # A scan without a quantity: one more unit than counted so far.
            quantity = 1 + next(
                (
                    line["counted_quantity"]
                    for line in view["count"]["lines"]
                    if line["product_id"] == product.id
                    and (line["location_id"] == location or location is None)
                ),
                0,
            )
        line = checked(
            CountLineIn,
            {"product_id": product.id, "location_id": location, "counted_quantity": quantity},
        )
        await counts_service.record_lines(
            session, user.principal, count_id, [line], user_id=user.principal.user_id
        )
        params = {"saved": f"{product.sku} counted {line.counted_quantity}"}
        if values["location_id"]:
            params["location_id"] = values["location_id"]
        return done(f"/dashboard/counts/{count_id}?{urlencode(params)}")

    return await attempt(
        write,
        lambda errors: _count_page(request, user, view, values, errors),
        {"product_id": "sku", "counted_quantity": "quantity", "lines[0].product_id": "sku"},
    )


async def _change_count(
    request: Request,
    form: PostedForm,
    session: Session,
    count_id: uuid.UUID,
    change: Callable[[DashboardUser], Awaitable[str]],
) -> Response:
    """Complete or cancel a count (`change` answers what it did); refused, the count's page
    again with the error in place."""
    user = await form_user(session, form)
    view = await _count_view(session, user, count_id)

    async def write() -> Response:
        saved = await change(user)
        return done(f"/dashboard/counts/{count_id}?" + urlencode({"saved": saved}))

    return await attempt(
        write,
        lambda errors: _count_page(
            request, user, view, {"sku": "", "quantity": "", "location_id": ""}, errors
        ),
    )


@router.post("/dashboard/counts/{count_id}/complete")
async def complete_count(
    request: Request, form: Posted, session: Session, count_id: uuid.UUID
) -> Response:
    async def complete(user: DashboardUser) -> str:
        count = await counts_service.complete_count(
            session,
            user.principal,
            count_id,
            zero_uncounted=form.get("zero_uncounted") == "yes",
            user_id=user.principal.user_id,
        )
        return f"count completed, {len(count['movements'])} level(s) corrected"

    return await _change_count(request, form, session, count_id, complete)


@router.post("/dashboard/counts/{count_id}/cancel")
async def cancel_count(
    request: Request, form: Posted, session: Session, count_id: uuid.UUID
) -> Response:
    async def cancel(user: DashboardUser) -> str:
        await counts_service.cancel_count(session, user.principal, count_id)
        return "count cancelled"

    return await _change_count(request, form, session, count_id, cancel)
