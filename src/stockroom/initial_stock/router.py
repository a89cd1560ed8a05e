"""`/inventory/initial-stock`: set up stock tracking of products at a site."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Body, Response

from stockroom.auth.dependencies import CurrentPrincipal, CurrentSiteChoice, Session
from stockroom.events.record import movement_json, movement_list_json
from stockroom.http.errors import error_responses
from stockroom.initial_stock import service
from stockroom.initial_stock.schemas import InitialStockRequest
from stockroom.movements.schemas import MovementList

router = APIRouter(prefix="/inventory/initial-stock", tags=["Initial stock"])


@router.post(
    "",
    operation_id="createInitialStock",
    summary="Set initial stock at a site",
    status_code=201,
    response_model=MovementList,
    responses=error_responses(401, 403, 422),
)
async def create_initial_stock(
    session: Session,
    principal: CurrentPrincipal,
    site_choice: CurrentSiteChoice,
    body: Annotated[InitialStockRequest, Body()],
) -> Response:
    """Record the opening stock of 1–500 products at the current site, all or none.

    Each product may appear once. A product that already has any movement at the site →
    422 `already_initialized` (nothing is written; `details` name each such line). A line
    with `cost_per_unit` records it as the movement's `unit_cost` and moves the product's
    `cost_per_unit` to the weighted average of the stock already held across the brand (at
    the old cost) and this quantity (at the new cost).
    """
    rows = await service.create_initial_stock(session, principal, body, site_choice)
    # The movements as their movement.created events hold them (the writer encodes each
    # once): up to 500 of them, validated and encoded a second time, cost as much as the
    # rest of the request's Python.
    answer = movement_list_json(movement_json(session, rows))
    return Response(answer, status_code=201, media_type="application/json")
