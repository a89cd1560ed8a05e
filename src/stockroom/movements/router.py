"""`/inventory/movements`: the ledger's rows."""

from __future__ import annotations

import uuid

from fastapi import APIRouter

from stockroom.auth.dependencies import CurrentPrincipal, Session
from stockroom.errors import NotFound, error_responses
from stockroom.movements.schemas import Movement
from stockroom.movements.service import get_movement

router = APIRouter(prefix="/inventory/movements", tags=["Stock movements"])


@router.get(
    "/{movement_id}",
    operation_id="getStockMovement",
    summary="Get a stock movement",
    response_model=Movement,
    responses=error_responses(401, 404),
)
async def get_stock_movement(
    session: Session, principal: CurrentPrincipal, movement_id: uuid.UUID
) -> Movement:
    """One movement of your brand at a site you may read."""
    movement = await get_movement(session, principal, movement_id)
    if movement is None:
        raise NotFound(f"No movement {movement_id}.")
    return Movement.model_validate(movement)
