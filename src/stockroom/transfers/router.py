"""`/inventory/transfers`: move stock between two sites of the brand (at once or in transit),
receive and close transfers in transit, and read the transfers and their halves."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Body, Path, Query

from stockroom.auth.dependencies import CurrentPrincipal, CurrentSiteChoice, Session
from stockroom.db.replica import ReadSession
from stockroom.errors import NotFound
from stockroom.http.errors import error_responses
from stockroom.movements.schemas import Movement
from stockroom.pagination import Page, Paging
from stockroom.transfers import service
from stockroom.transfers.schemas import (
    CloseRequest,
    ReceiveRequest,
    TransferCreated,
    TransferDetail,
    TransferMovement,
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
    Not enough stock at the source → 422 `insufficient_stock` (or `insufficient_available`
    when reservations hold it). With `in_transit: true` only the `transfer_out` is written
    (`transfer_in` is null, status `in_transit`): receive it with `/receive`.
    """
    transfer_id, status, out_half, in_half = await service.ship_transfer(
        session, principal, body, site_choice
    )
    return TransferCreated(
        transfer_id=transfer_id,
        status=status,
        transfer_out=Movement.model_validate(out_half),
        transfer_in=None if in_half is None else Movement.model_validate(in_half),
    )


@router.post(
    "/{transfer_id}/receive",
    operation_id="receiveStockTransfer",
    summary="Receive a transfer in transit",
    response_model=TransferDetail,
    responses=error_responses(401, 403, 404, 422),
)
async def receive_stock_transfer(
    session: Session,
    principal: CurrentPrincipal,
    transfer_id: uuid.UUID,
    body: Annotated[ReceiveRequest, Body()],
) -> TransferDetail:
    """Receive some or all of the outstanding units at the destination (`transfer_in`s).

    Needs write access to the destination site. Partial receipts are allowed; a line's
    `location_id` (a location of the destination) defaults to the transfer's
    `destination_location_id`. More than is outstanding, or a product not shipped on the
    transfer → 422 with every such line in `details`; a completed or closed transfer → 422
    `transfer_closed`.
    """
    return await service.receive_transfer(session, principal, transfer_id, body)


@router.post(
    "/{transfer_id}/close",
    operation_id="closeStockTransfer",
    summary="Close a transfer in transit",
    response_model=TransferDetail,
    responses=error_responses(401, 403, 404, 422),
)
async def close_stock_transfer(
    session: Session,
    principal: CurrentPrincipal,
    transfer_id: uuid.UUID,
    body: Annotated[CloseRequest, Body()],
) -> TransferDetail:
    """End a transfer with units outstanding; needs write access to the source site.

    `returned` puts them back at the source (a `transfer_in` there, at the source location);
    `lost` and `damaged` record them as `written_off` on the transfer. A completed or closed
    transfer → 422 `transfer_closed`.
    """
    return await service.close_transfer(session, principal, transfer_id, body)


@router.get(
    "",
    operation_id="listStockTransfers",
    summary="List transfers of the current site",
    response_model=Page[TransferMovement],
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
) -> Page[TransferMovement]:
    """Transfer halves written at the current site (sent and received), newest first.

    Each with its transfer's `status`."""
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
    statuses = await service.statuses_of(
        session, principal.brand_id, {r.transfer_id for r in rows if r.transfer_id}
    )
    return Page[TransferMovement](data=[_with_status(r, statuses) for r in rows], meta=meta)


def _with_status(movement: object, statuses: dict[uuid.UUID, str]) -> TransferMovement:
    half = Movement.model_validate(movement)
    status = statuses.get(half.transfer_id) if half.transfer_id else None
    return TransferMovement(**half.model_dump(), status=status or "completed")


@router.get(
    "/{movement_id}",
    operation_id="getStockTransfer",
    summary="Get a transfer, or one transfer movement",
    response_model=TransferDetail | TransferMovement,
    responses=error_responses(401, 404),
)
async def get_stock_transfer(
    session: Session,
    principal: CurrentPrincipal,
    movement_id: Annotated[
        uuid.UUID, Path(description="A transfer id, or the id of either half's movement.")
    ],
) -> TransferDetail | TransferMovement:
    """By transfer id: the transfer (status, shipped, received, outstanding, written_off,
    returned, its lines and movements), visible when you may read its source or destination.
    By movement id: that half (either one) at a site you may read, with the transfer's status.
    """
    movement = await service.get_transfer(session, principal, movement_id)
    if movement is not None:
        statuses = await service.statuses_of(
            session, principal.brand_id, {movement.transfer_id} if movement.transfer_id else set()
        )
        return _with_status(movement, statuses)
    detail = await service.find_transfer(session, principal, movement_id)
    if detail is None:
        raise NotFound(f"No transfer or transfer movement {movement_id}.")
    return detail
