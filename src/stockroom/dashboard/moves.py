"""The dashboard's stock forms: adjust with a reason, transfer to another site, receive a delivery.

Each form posts to the API's own service function (`adjustments.service.create_adjustment`,
`transfers.service.ship_transfer`, `purchases.service.create_purchase`) with the API's own
request schema, so the rules, the errors and the ledger are the API's: nothing here writes.
A post is a `forms.PostedForm` (CSRF token, Idempotency-Key); success redirects to the form
with a note of what was saved, a refusal shows the form again with the error in place.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Awaitable, Callable
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from stockroom.adjustments import service as adjustments_service
from stockroom.adjustments.schemas import SingleAdjustment
from stockroom.auth.current_site import SiteChoice
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
    uuid_or_none,
)
from stockroom.dashboard.service import DashboardUser
from stockroom.dashboard.session import DashboardRoute, SignedIn
from stockroom.dashboard.templating import render_form
from stockroom.errors import Forbidden
from stockroom.purchases import service as purchases_service
from stockroom.purchases.schemas import PurchaseCreate
from stockroom.transfers import service as transfers_service
from stockroom.transfers.schemas import TransferRequest

router = APIRouter(route_class=DashboardRoute, include_in_schema=False)

# The reasons offered for an adjustment (the API takes any code up to 64 characters).
REASONS = [
    ("waste", "Waste (broken, spoiled, expired)"),
    ("damaged", "Damaged"),
    ("theft", "Theft or loss"),
    ("found", "Found"),
    ("correction", "Correction"),
    ("other", "Other"),
]
# Rows of the delivery form; empty rows are left out.
RECEIPT_ROWS = 5
PrefillText = Annotated[str, Query(max_length=200)]


def _require_writer(user: DashboardUser) -> None:
    if not user.writable_sites:
        raise Forbidden("You may look at stock but not change it: ask an admin of your brand.")


async def _form_context(session: Session, user: DashboardUser) -> dict[str, Any]:
    _require_writer(user)
    # A transfer goes from a site the user writes to any site of the brand (the API's rule:
    # write access at the source only), so it offers every site as the destination.
    destinations = await service.brand_sites(session, user.principal)
    return {
        "user": user,
        "skus": await service.sku_choices(session, user.principal),
        "locations": await service.site_locations(session, user.principal, user.writable_sites),
        "reasons": REASONS,
        "destinations": destinations,
        "destination_locations": await service.site_locations(
            session, user.principal, destinations
        ),
    }


def _saved_location(path: str, **params: str) -> str:
    return f"{path}?{urlencode(params)}"


def _task_page(
    request: Request,
    task: str,
    context: dict[str, Any],
    values: dict[str, str],
    errors: FormErrors | None = None,
    notice: str | None = None,
    **extra: Any,
) -> Response:
    """The form of a task (`adjust`, `transfer`, `receive`): empty, saved, or refused."""
    return render_form(
        request,
        f"{task}.html",
        errors=errors,
        notice=notice,
        active=task,
        values=defaultdict(str, values),
        **context,
        **extra,
    )


async def _posted_task(
    session: Session, form: PostedForm, names: tuple[str, ...]
) -> tuple[DashboardUser, dict[str, Any], dict[str, str]]:
    """Who posted a task's form, what its page shows, and the fields it was sent with."""
    user = await form_user(session, form)
    context = await _form_context(session, user)
    return user, context, {name: form.get(name) for name in names}


def _task_form(task: str, said: str) -> Callable[..., Awaitable[Response]]:
    """The GET of a task's form (`adjust`, `transfer`, `receive`): prefilled from the link
    that opened it (a product page's buttons), and after a post, what it saved (`said`)."""

    async def show_form(
        request: Request,
        session: Session,
        user: SignedIn,
        sku: PrefillText = "",
        site_id: PrefillText = "",
        saved: PrefillText = "",
    ) -> Response:
        context = await _form_context(session, user)
        notice = f"{said}: {saved}." if saved else None
        # The delivery form's SKU is its first row's.
        rows: dict[str, Any] = {"rows": _receipt_rows(None, sku)} if task == "receive" else {}
        return _task_page(
            request, task, context, {"sku": sku, "site_id": site_id}, notice=notice, **rows
        )

    show_form.__name__ = f"{task}_form"
    return show_form


# --- adjust -------------------------------------------------------------------------------------


router.add_api_route("/dashboard/adjust", _task_form("adjust", "Saved"), methods=["GET"])


@router.post("/dashboard/adjust")
async def adjust(request: Request, form: Posted, session: Session) -> Response:
    user, context, values = await _posted_task(
        session, form, ("site_id", "sku", "direction", "quantity", "reason", "note", "location_id")
    )

    async def write() -> Response:
        product = await service.product_by_sku(session, user.principal, values["sku"])
        quantity = number_or_text(values["quantity"])
        if isinstance(quantity, int) and values["direction"] != "add":
            quantity = -quantity
        body = checked(
            SingleAdjustment,
            {
                "product_id": product.id,
                "quantity": quantity,
                "reason_code": values["reason"] or None,
                "reason_description": values["note"] or None,
                "location_id": number_or_text(values["location_id"]),
                "site_id": uuid_or_none(values["site_id"]),
            },
        )
        await adjustments_service.create_adjustment(session, user.principal, body, SiteChoice())
        sign = "+" if body.quantity > 0 else "−"
        reason = values["reason"] or "no reason"
        return done(
            _saved_location(
                "/dashboard/adjust",
                site_id=values["site_id"],
                saved=f"{product.sku} {sign}{abs(body.quantity)} ({reason})",
            )
        )

    return await attempt(
        write,
        lambda errors: _task_page(request, "adjust", context, values, errors),
        {"product_id": "sku", "reason_code": "reason", "reason_description": "note"},
    )


# --- transfer -----------------------------------------------------------------------------------


router.add_api_route("/dashboard/transfer", _task_form("transfer", "Sent"), methods=["GET"])


@router.post("/dashboard/transfer")
async def transfer(request: Request, form: Posted, session: Session) -> Response:
    user, context, values = await _posted_task(
        session,
        form,
        (
            "site_id",
            "destination_site_id",
            "sku",
            "quantity",
            "reference",
            "source_location_id",
            "destination_location_id",
            "in_transit",
        ),
    )

    async def write() -> Response:
        product = await service.product_by_sku(session, user.principal, values["sku"])
        body = checked(
            TransferRequest,
            {
                "product_id": product.id,
                "quantity": number_or_text(values["quantity"]),
                "destination_site_id": uuid_or_none(values["destination_site_id"]),
                "reference": values["reference"] or None,
                "source_location_id": number_or_text(values["source_location_id"]),
                "destination_location_id": number_or_text(values["destination_location_id"]),
                "site_id": uuid_or_none(values["site_id"]),
                "in_transit": values["in_transit"] == "yes",
            },
        )
        _, status, _, _ = await transfers_service.ship_transfer(
            session, user.principal, body, SiteChoice()
        )
        destination = next(
            (s.name for s in context["destinations"] if s.id == body.destination_site_id),
            "the other site",
        )
        return done(
            _saved_location(
                "/dashboard/transfer",
                site_id=values["site_id"],
                saved=f"{body.quantity} × {product.sku} to {destination}"
                + (" (on its way: receive it under Transfers)" if status == "in_transit" else ""),
            )
        )

    return await attempt(
        write,
        lambda errors: _task_page(request, "transfer", context, values, errors),
        {"product_id": "sku", "site_id": "site_id"},
    )


# --- receive a delivery -------------------------------------------------------------------------


def _receipt_rows(form: PostedForm | None, sku: str = "") -> list[dict[str, str]]:
    rows = []
    for i in range(RECEIPT_ROWS):
        if form is None:
            rows.append({"sku": sku if i == 0 else "", "quantity": "", "cost": "", "location": ""})
        else:
            rows.append(
                {name: form.get(f"{name}-{i}") for name in ("sku", "quantity", "cost", "location")}
            )
    return rows


router.add_api_route("/dashboard/receive", _task_form("receive", "Received"), methods=["GET"])


@router.post("/dashboard/receive")
async def receive(request: Request, form: Posted, session: Session) -> Response:
    user, context, values = await _posted_task(session, form, ("site_id", "reference"))
    rows = _receipt_rows(form)
    # The form rows filled in, in order: the request's line i is form row used[i].
    used = [i for i, row in enumerate(rows) if any(row.values())]

    async def write() -> Response:
        lines: list[dict[str, Any]] = []
        for i in used:
            row = rows[i]
            product = await service.product_by_sku(
                session, user.principal, row["sku"], field=f"lines[{len(lines)}].product_id"
            )
            lines.append(
                {
                    "product_id": product.id,
                    "quantity": number_or_text(row["quantity"]),
                    "cost_per_unit": row["cost"] or None,
                    "location_id": number_or_text(row["location"]),
                }
            )
        body = checked(
            PurchaseCreate,
            {
                "site_id": uuid_or_none(values["site_id"]),
                "reference": values["reference"] or None,
                "lines": lines,
            },
        )
        await purchases_service.create_purchase(session, user.principal, body, SiteChoice())
        units = sum(line.quantity for line in body.lines)
        return done(
            _saved_location(
                "/dashboard/receive",
                site_id=values["site_id"],
                saved=f"{units} units on {len(body.lines)} line(s)",
            )
        )

    return await attempt(
        write,
        lambda errors: _task_page(request, "receive", context, values, errors, rows=rows),
        {"product_id": "sku", "cost_per_unit": "cost", "location_id": "location"},
        used,
    )
