"""The dashboard's pages: stock, low stock, a product, movements (and its static files)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response, StreamingResponse

from stockroom.auth.dependencies import Session
from stockroom.catalog import service as catalog_service
from stockroom.dashboard import service
from stockroom.dashboard.chart import Step, step_chart
from stockroom.dashboard.service import HISTORY_LIMIT, DashboardUser
from stockroom.dashboard.session import DashboardRoute, SignedIn
from stockroom.dashboard.templating import ASSETS, render
from stockroom.db.models import Site
from stockroom.db.models.ledger import MOVEMENT_TYPES
from stockroom.errors import NotFound, ValidationFailed
from stockroom.fields import QueryText
from stockroom.movements.schemas import Movement
from stockroom.movements.service import MovementFilters, movement_report_query
from stockroom.movements.service import movements_csv as movements_csv_rows
from stockroom.pagination import MAX_PAGE, PageParams
from stockroom.stock import service as stock_service

PER_PAGE = 25
MOVEMENTS_PER_PAGE = 50
# All-sites stock shows one column per site up to this many; beyond, the total alone.
MAX_SITE_COLUMNS = 6
# The low-stock page's "all sites" choice, and how many of each site's shortfalls it lists.
ALL_SITES = "all"
ALL_SITES_LOW_STOCK = 100

router = APIRouter(route_class=DashboardRoute, include_in_schema=False)

Page = Annotated[int, Query(ge=1, le=MAX_PAGE)]
SiteChoice = Annotated[str, Query(max_length=64)]


def _chosen_site(user: DashboardUser, raw: str) -> Site | None:
    """The readable site named by a `site_id` parameter; None for "all sites" (empty)."""
    if not raw:
        return None
    try:
        site = user.site(uuid.UUID(raw))
    except ValueError:
        site = None
    if site is None:
        raise NotFound("There is no such site among the sites you may read.")
    return site


def _home_site(user: DashboardUser) -> Site | None:
    """The user's default site when readable, else their first readable site by name."""
    default = user.principal.default_site_id
    home = user.site(default) if default else None
    return home or (user.sites[0] if user.sites else None)


@router.get("/dashboard/static/{name}")
async def asset(name: str) -> Response:
    if name not in ASSETS:
        raise NotFound("There is no such file.")
    body, media_type = ASSETS[name]
    return Response(body, media_type=media_type, headers={"Cache-Control": "public, max-age=3600"})


@router.get("/dashboard")
async def stock_page(
    request: Request,
    session: Session,
    user: SignedIn,
    site_id: SiteChoice = "",
    q: Annotated[QueryText, Query(max_length=200)] = "",
    page: Page = 1,
) -> Response:
    site = _chosen_site(user, site_id)
    shown = [site] if site else user.sites
    rows, meta = await service.stock_rows(
        session,
        user.principal,
        PageParams(page=page, per_page=PER_PAGE),
        site_ids=[s.id for s in shown],
        q=q.strip() or None,
    )
    return render(
        request,
        "stock.html",
        user=user,
        active="stock",
        site=site,
        columns=shown if site is None and len(shown) <= MAX_SITE_COLUMNS else [],
        rows=rows,
        meta=meta,
        q=q,
    )


@router.get("/dashboard/low-stock")
async def low_stock_page(
    request: Request, session: Session, user: SignedIn, site_id: SiteChoice = "", page: Page = 1
) -> Response:
    every_site = site_id == ALL_SITES
    site = None if every_site else _chosen_site(user, site_id) or _home_site(user)
    rows: list[dict[str, Any]] = []
    meta = None
    truncated = False
    if every_site:
        # Every readable site, one query each, the biggest shortfalls of each first.
        for readable in user.sites:
            found, found_meta = await stock_service.low_stock(
                session,
                user.principal,
                PageParams(page=1, per_page=ALL_SITES_LOW_STOCK),
                site_id=readable.id,
                header_site=None,
            )
            truncated = truncated or found_meta.total > len(found)
            rows += [r | {"site_name": readable.name} for r in found]
    elif site is not None:
        rows, meta = await stock_service.low_stock(
            session,
            user.principal,
            PageParams(page=page, per_page=PER_PAGE),
            site_id=site.id,
            header_site=None,
        )
    for row in rows:
        row["suggested"] = service.suggested_reorder(
            row["min_stock"], row["available"], row["in_transit"]
        )
    return render(
        request,
        "low_stock.html",
        user=user,
        active="low-stock",
        site=site,
        every_site=every_site,
        rows=rows,
        meta=meta,
        truncated=truncated,
        per_site=ALL_SITES_LOW_STOCK,
    )


@router.get("/dashboard/products/{product_id}")
async def product_page(
    request: Request, session: Session, user: SignedIn, product_id: uuid.UUID
) -> Response:
    principal = user.principal
    product = await catalog_service.get_product(session, principal, product_id)
    stock = await stock_service.product_stock(session, principal, product_id)
    baseline, history = await service.stock_history(session, principal, product_id)
    chart = step_chart(
        baseline, [Step(p.created_at, p.type, p.quantity, p.on_hand) for p in history]
    )
    movements, _ = await service.latest_movements(
        session, principal, product_id=product_id, limit=20
    )
    location_ids = {loc.location_id for s in stock.sites for loc in s.locations}
    location_ids |= {m.location_id for m in movements if m.location_id is not None}
    return render(
        request,
        "product.html",
        user=user,
        active="stock",
        product=product,
        stock=stock,
        chart=chart,
        partial_history=len(history) >= HISTORY_LIMIT,
        history_limit=HISTORY_LIMIT,
        movements=movements,
        total_after={p.id: p.on_hand for p in history},
        site_names={s.id: s.name for s in user.sites},
        locations=await service.location_names(session, principal, location_ids),
    )


@dataclass(frozen=True)
class MovementQuery:
    """The movements page's filters, as the page and its CSV link take them."""

    site: Site | None
    type: str
    sku: str
    start_date: str
    end_date: str
    product_id: uuid.UUID | None
    unknown_sku: bool


async def movement_query(
    session: Session,
    user: SignedIn,
    site_id: SiteChoice = "",
    type: Annotated[str, Query(max_length=32)] = "",
    sku: Annotated[QueryText, Query(max_length=200)] = "",
    start_date: Annotated[str, Query(max_length=10)] = "",
    end_date: Annotated[str, Query(max_length=10)] = "",
) -> MovementQuery:
    site = _chosen_site(user, site_id)
    if type and type not in MOVEMENT_TYPES:
        raise ValidationFailed(f"There is no movement type {type!r}.")
    sku = sku.strip()
    product = await service.find_product_by_sku(session, user.principal, sku) if sku else None
    return MovementQuery(
        site,
        type,
        sku,
        start_date,
        end_date,
        product.id if product else None,
        unknown_sku=bool(sku) and product is None,
    )


MovementsShown = Annotated[MovementQuery, Depends(movement_query)]


def _report_filters(query: MovementQuery) -> dict[str, Any]:
    return {
        "site_id": query.site.id if query.site else None,
        "product_id": query.product_id,
        "type": query.type or None,
        "start_date": query.start_date or None,
        "end_date": query.end_date or None,
    }


@router.get("/dashboard/movements")
async def movements_page(
    request: Request,
    session: Session,
    user: SignedIn,
    shown: MovementsShown,
    cursor: Annotated[str | None, Query(max_length=200)] = None,
) -> Response:
    movements: list[Movement] = []
    next_cursor = None
    if not shown.unknown_sku:
        movements, next_cursor = await service.latest_movements(
            session,
            user.principal,
            **_report_filters(shown),
            cursor=cursor or None,
            limit=MOVEMENTS_PER_PAGE,
        )
    location_ids = {m.location_id for m in movements if m.location_id is not None}
    csv_query = {k: v for k, v in request.query_params.items() if k != "cursor"}
    return render(
        request,
        "movements.html",
        user=user,
        active="movements",
        shown=shown,
        site=shown.site,
        type=shown.type,
        types=MOVEMENT_TYPES,
        movements=movements,
        next_cursor=next_cursor,
        cursor=cursor,
        csv_link="/dashboard/movements.csv" + (f"?{urlencode(csv_query)}" if csv_query else ""),
        products=await service.product_labels(
            session, user.principal, {m.product_id for m in movements}
        ),
        who=await service.user_emails(session, user.principal, {m.user_id for m in movements}),
        site_names={s.id: s.name for s in user.sites},
        locations=await service.location_names(session, user.principal, location_ids),
    )


@router.get("/dashboard/movements.csv")
async def movements_csv(
    request: Request, session: Session, user: SignedIn, shown: MovementsShown
) -> Response:
    """The movements the page shows, every page of them, as the API's CSV."""
    if shown.unknown_sku:
        raise ValidationFailed(f"No product has the SKU {shown.sku!r}.")
    filters = MovementFilters(**_report_filters(shown))
    query = await movement_report_query(session, user.principal, filters)
    return StreamingResponse(
        movements_csv_rows(request.app.state.read_engine, query),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": 'attachment; filename="movements.csv"'},
    )
