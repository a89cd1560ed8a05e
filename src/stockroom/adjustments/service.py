"""Inventory adjustments: signed changes with a reason, written through the ledger."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from stockroom.adjustments.schemas import BatchAdjustment, SingleAdjustment
from stockroom.auth.current_site import (
    Access,
    SiteChoice,
    check_site_access,
    load_site,
)
from stockroom.auth.principal import Principal
from stockroom.auth.scope import brand_scoped
from stockroom.db.models import StockMovement
from stockroom.ledger import MovementDraft, check_line_targets, post_movements
from stockroom.ledger.lines import targets_of
from stockroom.pagination import PageMeta, PageParams, fetch_page


async def create_adjustment(
    session: AsyncSession,
    principal: Principal,
    body: SingleAdjustment | BatchAdjustment,
    site_choice: SiteChoice,
) -> list[dict[str, Any]]:
    """Apply one adjustment or a whole batch (all lines or none); return the movements."""
    site = await site_choice.resolve(session, principal, Access.write, body=body.site_id)
    if isinstance(body, SingleAdjustment):
        drafts = [
            MovementDraft(
                type="adjustment",
                product_id=body.product_id,
                site_id=site.id,
                quantity=body.quantity,
                location_id=body.location_id,
                reason_code=body.reason_code,
                reason_description=body.reason_description,
                expected_on_hand=body.expected_on_hand,
            )
        ]
    else:
        drafts = [
            MovementDraft(
                type="adjustment",
                product_id=line.product_id,
                site_id=site.id,
                quantity=line.quantity,
                location_id=line.location_id,
                reason_code=body.reason.value,
                notes=body.notes,
                reference=body.reference,
                expected_on_hand=line.expected_on_hand,
                field=f"products[{i}].",
            )
            for i, line in enumerate(body.products)
        ]
    await check_line_targets(
        session,
        principal.brand_id,
        targets_of(drafts),
    )
    return await post_movements(
        session,
        principal.brand_id,
        drafts,
        user_id=principal.user_id,
        occurred_at=body.occurred_at,
    )


async def list_adjustments(
    session: AsyncSession, principal: Principal, site_id: uuid.UUID | None, params: PageParams
) -> tuple[list[StockMovement], PageMeta]:
    """Adjustments across the sites the caller may read (or one of them), newest first."""
    query = brand_scoped(StockMovement, principal).where(StockMovement.type == "adjustment")
    if site_id is not None:
        site = await load_site(session, principal, site_id)
        check_site_access(principal, site, Access.read)
        query = query.where(StockMovement.site_id == site.id)
    elif not principal.is_admin:
        query = query.where(StockMovement.site_id.in_(principal.site_ids))
    query = query.order_by(StockMovement.created_at.desc(), StockMovement.id.desc())
    return await fetch_page(session, query, params)
