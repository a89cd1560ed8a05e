"""Stock transfers: a `transfer_out` at the source and a `transfer_in` at the destination.

Both halves go to the ledger in one `post_movements` call, so they are written together or
not at all, and the writer's sorted level order keeps opposing transfers (A→B, B→A) from
deadlocking. The caller must be able to write the source site; the destination only has to
be a site of the brand — a manager of a shop may send stock to a warehouse it does not run.
"""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from stockroom.auth.current_site import (
    Access,
    SiteChoice,
    load_site,
    resolve_current_site,
)
from stockroom.auth.principal import Principal
from stockroom.auth.scope import brand_scoped
from stockroom.db.models import Product, StockMovement
from stockroom.db.models.base import new_id
from stockroom.errors import ValidationFailed, field_error
from stockroom.ledger import LineTarget, MovementDraft, check_line_targets, post_movements
from stockroom.pagination import PageMeta, PageParams, fetch_page
from stockroom.transfers.schemas import TransferRequest, TransferSort, TransferType

TRANSFER_TYPES = (TransferType.transfer_out.value, TransferType.transfer_in.value)


async def create_transfer(
    session: AsyncSession,
    principal: Principal,
    body: TransferRequest,
    site_choice: SiteChoice,
) -> tuple[uuid.UUID, dict[str, Any], dict[str, Any]]:
    """Move `quantity` of a product between two sites; return the transfer id and both halves."""
    source = await site_choice.resolve(session, principal, Access.write, body=body.site_id)
    destination = await load_site(
        session, principal, body.destination_site_id, field="destination_site_id"
    )
    if destination.id == source.id:
        raise ValidationFailed(
            "A transfer needs two different sites.",
            [field_error("destination_site_id", "must differ from the source site")],
        )
    await _check_targets(
        session,
        principal.brand_id,
        [
            LineTarget(
                "", body.product_id, source.id, body.source_location_id, "source_location_id"
            ),
            LineTarget(
                "",
                body.product_id,
                destination.id,
                body.destination_location_id,
                "destination_location_id",
            ),
        ],
    )
    transfer_id = new_id()
    shared: dict[str, Any] = {
        "product_id": body.product_id,
        "source_site_id": source.id,
        "destination_site_id": destination.id,
        "reference": body.reference,
        "notes": body.notes,
        "transfer_id": transfer_id,
    }
    out_half, in_half = await post_movements(
        session,
        principal.brand_id,
        [
            MovementDraft(
                type=TransferType.transfer_out.value,
                site_id=source.id,
                location_id=body.source_location_id,
                quantity=-body.quantity,
                **shared,
            ),
            MovementDraft(
                type=TransferType.transfer_in.value,
                site_id=destination.id,
                location_id=body.destination_location_id,
                quantity=body.quantity,
                **shared,
            ),
        ],
        user_id=principal.user_id,
        occurred_at=body.occurred_at,
    )
    return transfer_id, out_half, in_half


async def _check_targets(
    session: AsyncSession, brand_id: uuid.UUID, targets: list[LineTarget]
) -> None:
    # Both halves name the same product: an unknown product is one problem, not two.
    try:
        await check_line_targets(session, brand_id, targets)
    except ValidationFailed as error:
        error.details = list({(d["field"], d["message"]): d for d in error.details}.values())
        raise


async def list_transfers(
    session: AsyncSession,
    principal: Principal,
    params: PageParams,
    *,
    site_id: uuid.UUID | None,
    header_site: uuid.UUID | None,
    product_id: uuid.UUID | None,
    type_: TransferType | None,
    sort: TransferSort,
) -> tuple[list[StockMovement], PageMeta]:
    """Transfer halves written at the current site (which the caller must be able to read)."""
    site = await resolve_current_site(
        session, principal, explicit=site_id, header=header_site, access=Access.read
    )
    query = brand_scoped(StockMovement, principal).where(StockMovement.site_id == site.id)
    if type_ is None:
        query = query.where(StockMovement.type.in_(TRANSFER_TYPES))
    else:
        query = query.where(StockMovement.type == type_.value)
    if product_id is not None:
        await _require_product(session, principal, product_id)
        query = query.where(StockMovement.product_id == product_id)
    # `quantity` sorts by the signed figure as returned (outgoing halves are negative).
    created = StockMovement.created_at
    ordering = {
        TransferSort.created_at: (created.asc(), StockMovement.id.asc()),
        TransferSort.created_at_desc: (created.desc(), StockMovement.id.desc()),
        TransferSort.quantity: (StockMovement.quantity.asc(), created.desc(), StockMovement.id),
        TransferSort.quantity_desc: (
            StockMovement.quantity.desc(),
            created.desc(),
            StockMovement.id,
        ),
    }[sort]
    return await fetch_page(session, query.order_by(*ordering), params)


async def get_transfer(
    session: AsyncSession, principal: Principal, movement_id: uuid.UUID
) -> StockMovement | None:
    """One transfer half of the brand at a site the caller may read (None when not visible)."""
    movement = (
        await session.execute(
            brand_scoped(StockMovement, principal).where(
                StockMovement.id == movement_id, StockMovement.type.in_(TRANSFER_TYPES)
            )
        )
    ).scalar_one_or_none()
    if movement is None or not principal.can_read(movement.site_id):
        return None
    return movement


async def _require_product(
    session: AsyncSession, principal: Principal, product_id: uuid.UUID
) -> None:
    known = (
        await session.execute(
            select(Product.id).where(
                Product.brand_id == principal.brand_id, Product.id == product_id
            )
        )
    ).first()
    if known is None:
        raise ValidationFailed(
            "The product does not exist in your brand.",
            [field_error("product_id", f"unknown product {product_id}")],
        )
