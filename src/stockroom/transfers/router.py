"""`/inventory/transfers`: move stock between two sites of the brand, and read the halves."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Body, Query

from stockroom.auth.dependencies import CurrentPrincipal, CurrentSiteChoice, Session
from stockroom.db.replica import ReadSession
from stockroom.errors import NotFound
from stockroom.http.errors import error_responses
from stockroom.movements.schemas import Movement
from stockroom.pagination import Page, Paging
from stockroom.transfers import service
from stockroom.transfers.schemas import (
    TransferCreated,
    TransferRequest,
    TransferSort,
    TransferType,
)

router = APIRouter(prefix="/inventory/transfers", tags=["Stock transfers"])


@router.post(
    "",
    operation_id="createStockTransfer",
    summary="Transfer stock to another site",
    status_code=201,
    response_model=TransferCreated,
    responses=error_responses(401, 403, 422),
)
async def create_stock_transfer(
    session: Session,
    principal: CurrentPrincipal,
    site_choice: CurrentSiteChoice,
    body: Annotated[TransferRequest, Body()],
) -> TransferCreated:
    """Move stock from the current site to `destination_site_id`, both halves or neither.

    You must be able to write the source site; the destination must be another site of
    your brand (you need no access to it). Location-aware products name
    `source_location_id` and `destination_location_id`, each a location of its own site.
    Not enough stock at the source → 422 `insufficient_stock`.
    """
    transfer_id, out_half, in_half = await service.create_transfer(
        session, principal, body, site_choice
    )
    return TransferCreated(
        transfer_id=transfer_id,
        transfer_out=Movement.model_validate(out_half),
        transfer_in=Movement.model_validate(in_half),
    )


@router.get(
    "",
    operation_id="listStockTransfers",
    summary="List transfers of the current site",
    response_model=Page[Movement],
    responses=error_responses(401, 403, 422),
)
async def list_stock_transfers(
    session: ReadSession,
    principal: CurrentPrincipal,
    site_choice: CurrentSiteChoice,
    paging: Paging,
    product_id: Annotated[uuid.UUID | None, Query(description="Only this product.")] = None,
    type_: Annotated[TransferType | None, Query(alias="type", description="Only one half.")] = None,
    sort: Annotated[
        TransferSort,
        Query(description="Order; `quantity` is the signed figure (outgoing is negative)."),
    ] = TransferSort.created_at_desc,
) -> Page[Movement]:
    """Transfer halves written at the current site (sent and received), newest first."""
    rows, meta = await service.list_transfers(
        session,
        principal,
        paging,
        site_id=site_choice.query,
        header_site=site_choice.header,
        product_id=product_id,
        type_=type_,
        sort=sort,
    )
    return Page[Movement](data=[Movement.model_validate(r) for r in rows], meta=meta)


@router.get(
    "/{movement_id}",
    operation_id="getStockTransfer",
    summary="Get one transfer movement",
    response_model=Movement,
    responses=error_responses(401, 404),
)
async def get_stock_transfer(
    session: Session, principal: CurrentPrincipal, movement_id: uuid.UUID
) -> Movement:
    """One half of a transfer (either one) at a site you may read."""
    movement = await service.get_transfer(session, principal, movement_id)
    if movement is None:
        raise NotFound(f"No transfer movement {movement_id}.")
    return Movement.model_validate(movement)
