"""Reading the ledger's movements."""

from __future__ import annotations

import uuid

from sqlalchemy.ext.asyncio import AsyncSession

from stockroom.auth.principal import Principal
from stockroom.auth.scope import brand_scoped
from stockroom.db.models import StockMovement


async def get_movement(
    session: AsyncSession, principal: Principal, movement_id: uuid.UUID
) -> StockMovement | None:
    """One movement of the brand at a site the caller may read (None when not visible)."""
    movement = (
        await session.execute(
            brand_scoped(StockMovement, principal).where(StockMovement.id == movement_id)
        )
    ).scalar()
    if movement is None or not principal.can_read(movement.site_id):
        return None
    return movement
