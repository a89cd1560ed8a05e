"""`/purchases`: receive stock at a cost; read purchases back."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Body

from stockroom.auth.dependencies import CurrentPrincipal, CurrentSiteChoice, Session
from stockroom.db.replica import ReadSession
from stockroom.http.errors import error_responses
from stockroom.http.params import OnlySiteQuery, WorkspaceAliasQuery
from stockroom.pagination import Page, Paging
from stockroom.purchases import service
from stockroom.purchases.schemas import Purchase, PurchaseCreate

router = APIRouter(prefix="/purchases", tags=["Purchases"])


@router.get(
    "",
    operation_id="listPurchases",
    summary="List purchases",
    response_model=Page[Purchase],
    responses=error_responses(401, 403, 422),
)
async def list_purchases(
    session: ReadSession,
    principal: CurrentPrincipal,
    paging: Paging,
    site_id: OnlySiteQuery = None,
    workspace_id: WorkspaceAliasQuery = None,
) -> Page[Purchase]:
    """Purchases at every site you may read (or at one site), newest first."""
    rows, meta = await service.list_purchases(session, principal, paging, site_id or workspace_id)
    return Page[Purchase](data=[Purchase.model_validate(r) for r in rows], meta=meta)


@router.post(
    "",
    operation_id="createPurchase",
    summary="Create a purchase",
    status_code=201,
    response_model=Purchase,
    responses=error_responses(401, 403, 409, 422),
)
async def create_purchase(
    session: Session,
    principal: CurrentPrincipal,
    site_choice: CurrentSiteChoice,
    body: Annotated[PurchaseCreate, Body()],
) -> Purchase:
    """Receive the lines at the current site: one `purchase` movement (+quantity) per line.

    Each product's `cost_per_unit` becomes the weighted average of the stock it had across
    the brand and the stock received: (on_hand·old + quantity·cost) / (on_hand + quantity),
    or the purchase cost when it had none.
    """
    return Purchase.model_validate(
        await service.create_purchase(session, principal, body, site_choice)
    )


@router.get(
    "/{purchase_id}",
    operation_id="getPurchase",
    summary="Get a purchase",
    response_model=Purchase,
    responses=error_responses(401, 404),
)
async def get_purchase(
    session: Session, principal: CurrentPrincipal, purchase_id: uuid.UUID
) -> Purchase:
    """One purchase of your brand at a site you may read, with its movements."""
    return Purchase.model_validate(await service.get_purchase(session, principal, purchase_id))
