"""`/inventory/reservations`: hold stock for an order, read holds, release and extend them."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Body, Query

from stockroom.auth.dependencies import CurrentPrincipal, Session, SiteHeader
from stockroom.fields import QueryText
from stockroom.http.errors import error_responses
from stockroom.http.params import OnlySiteQuery, WorkspaceAliasQuery
from stockroom.pagination import Page, Paging
from stockroom.reservations import service
from stockroom.reservations.schemas import (
    Reservation,
    ReservationCreate,
    ReservationExtend,
    ReservationRelease,
    Status,
)

router = APIRouter(prefix="/inventory/reservations", tags=["Reservations"])


@router.post(
    "",
    operation_id="createReservation",
    summary="Reserve stock",
    status_code=201,
    response_model=Reservation,
    responses=error_responses(401, 403, 409, 422),
)
async def create_reservation(
    session: Session,
    principal: CurrentPrincipal,
    body: Annotated[ReservationCreate, Body()],
    site_header: SiteHeader = None,
) -> Reservation:
    """Hold units of the current site's stock until they are sold, released or expire.

    All lines are held or none: a line beyond `available` answers `insufficient_available`
    naming every short line with its `available` and `requested`. The hold ends at
    `expires_at`, or `ttl_seconds` from now (60 … 2592000, default 900).
    """
    return Reservation.model_validate(
        await service.create_reservation(session, principal, body, site_header)
    )


@router.get(
    "",
    operation_id="listReservations",
    summary="List reservations",
    response_model=Page[Reservation],
    responses=error_responses(401, 403, 422),
)
async def list_reservations(
    session: Session,
    principal: CurrentPrincipal,
    paging: Paging,
    site_id: OnlySiteQuery = None,
    workspace_id: WorkspaceAliasQuery = None,
    status: Annotated[Status | None, Query(description="Only reservations in this status.")] = None,
    reference: Annotated[
        QueryText | None, Query(max_length=255, description="Only this reference (exact).")
    ] = None,
    product_id: Annotated[
        uuid.UUID | None, Query(description="Only reservations with a line of this product.")
    ] = None,
) -> Page[Reservation]:
    """Reservations at the sites you may read, newest first."""
    rows, meta = await service.list_reservations(
        session,
        principal,
        paging,
        site_id=site_id or workspace_id,
        status=status,
        reference=reference,
        product_id=product_id,
    )
    return Page[Reservation](data=[Reservation.model_validate(r) for r in rows], meta=meta)


@router.get(
    "/{reservation_id}",
    operation_id="getReservation",
    summary="Get a reservation",
    response_model=Reservation,
    responses=error_responses(401, 404),
)
async def get_reservation(
    session: Session, principal: CurrentPrincipal, reservation_id: uuid.UUID
) -> Reservation:
    """One reservation at a site you may read, with what each line still holds."""
    return Reservation.model_validate(
        await service.get_reservation(session, principal, reservation_id)
    )


@router.post(
    "/{reservation_id}/release",
    operation_id="releaseReservation",
    summary="Release a reservation, whole or in part",
    response_model=Reservation,
    responses=error_responses(401, 403, 404, 409, 422),
)
async def release_reservation(
    session: Session,
    principal: CurrentPrincipal,
    reservation_id: uuid.UUID,
    body: Annotated[ReservationRelease | None, Body()] = None,
) -> Reservation:
    """Give back everything the reservation still holds, or only `lines`.

    Released units count as available at once. Releasing all that remains closes the
    reservation (`released`); a closed one answers `reservation_closed`.
    """
    return Reservation.model_validate(
        await service.release_reservation(
            session, principal, reservation_id, body or ReservationRelease()
        )
    )


@router.post(
    "/{reservation_id}/extend",
    operation_id="extendReservation",
    summary="Extend a reservation",
    response_model=Reservation,
    responses=error_responses(401, 403, 404, 409, 422),
)
async def extend_reservation(
    session: Session,
    principal: CurrentPrincipal,
    reservation_id: uuid.UUID,
    body: Annotated[ReservationExtend, Body()],
) -> Reservation:
    """Set a new `expires_at`, or `ttl_seconds` from now; a closed one: `reservation_closed`."""
    return Reservation.model_validate(
        await service.extend_reservation(session, principal, reservation_id, body)
    )
