"""`/inventory/adjustments`: list and create inventory adjustments."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Body, Response

from stockroom.adjustments import service
from stockroom.adjustments.schemas import AdjustmentRequest, SingleAdjustment
from stockroom.auth.dependencies import CoreSession, CurrentPrincipal, CurrentSiteChoice
from stockroom.db.replica import ReadSession
from stockroom.events.record import movement_json, movement_list_json
from stockroom.http.errors import error_responses
from stockroom.http.params import OnlySiteQuery, WorkspaceAliasQuery
from stockroom.movements.schemas import Movement, MovementList
from stockroom.pagination import Page, Paging

router = APIRouter(prefix="/inventory/adjustments", tags=["Inventory adjustments"])


@router.get(
    "",
    operation_id="listInventoryAdjustments",
    summary="List inventory adjustments",
    response_model=Page[Movement],
    responses=error_responses(401, 403, 422),
)
async def list_inventory_adjustments(
    session: ReadSession,
    principal: CurrentPrincipal,
    paging: Paging,
    site_id: OnlySiteQuery = None,
    workspace_id: WorkspaceAliasQuery = None,
) -> Page[Movement]:
    """Adjustments across every site you may read, newest first, optionally for one site."""
    rows, meta = await service.list_adjustments(session, principal, site_id or workspace_id, paging)
    return Page[Movement](data=[Movement.model_validate(r) for r in rows], meta=meta)


@router.post(
    "",
    operation_id="createInventoryAdjustment",
    summary="Create an inventory adjustment",
    status_code=201,
    response_model=Movement | MovementList,
    responses=error_responses(401, 403, 409, 422),
)
async def create_inventory_adjustment(
    session: CoreSession,
    principal: CurrentPrincipal,
    site_choice: CurrentSiteChoice,
    body: Annotated[AdjustmentRequest, Body()],
) -> Response:
    """Record a signed stock change with its reason, or a batch of them (all or nothing).

    A single adjustment answers with its movement; a batch (`products`) answers
    `{"data": [movement, ...]}`. Stock may not go below zero at a site that does not allow
    negative stock (`insufficient_stock`); with `expected_on_hand` nothing is written unless
    the level is exactly that number (`stale_quantity`).
    """
    rows = await service.create_adjustment(session, principal, body, site_choice)
    # The `Movement` JSON the writer made for the movements' events: serialised once
    # (FastAPI would validate a returned model again before serialising it).
    movements = movement_json(session, rows)
    answer = movements[0] if isinstance(body, SingleAdjustment) else movement_list_json(movements)
    return Response(answer, status_code=201, media_type="application/json")
