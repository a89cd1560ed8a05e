"""The dashboard's webhooks page (admins): each endpoint and its most recent deliveries."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from stockroom.auth.dependencies import Session
from stockroom.dashboard.session import DashboardRoute, SignedIn
from stockroom.dashboard.templating import render
from stockroom.pagination import PageParams
from stockroom.webhooks import service

RECENT_DELIVERIES = 10
MAX_ENDPOINTS = 50

router = APIRouter(route_class=DashboardRoute, include_in_schema=False)


@router.get("/dashboard/webhooks")
async def webhooks_page(request: Request, session: Session, user: SignedIn) -> Response:
    user.principal.require_admin()
    endpoints, meta = await service.list_webhooks(
        session, user.principal, PageParams(page=1, per_page=MAX_ENDPOINTS)
    )
    recent = {}
    for endpoint in endpoints:
        recent[endpoint["id"]], _ = await service.list_deliveries(
            session,
            user.principal,
            endpoint["id"],
            PageParams(page=1, per_page=RECENT_DELIVERIES),
        )
    return render(
        request,
        "webhooks.html",
        user=user,
        active="webhooks",
        endpoints=endpoints,
        total=meta.total,
        recent=recent,
    )
