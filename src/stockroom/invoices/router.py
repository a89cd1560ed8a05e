"""`/invoices`: sell stock, read invoices, void them."""

from __future__ import annotations

import uuid
from typing import Annotated, Literal

from fastapi import APIRouter, Body, Query

from stockroom.auth.dependencies import CurrentPrincipal, CurrentSiteChoice, Session
from stockroom.db.replica import ReadSession
from stockroom.http.errors import error_responses
from stockroom.http.params import OnlySiteQuery, WorkspaceAliasQuery
from stockroom.invoices import service
from stockroom.invoices.schemas import Invoice, InvoiceCreate
from stockroom.pagination import Page, Paging

router = APIRouter(prefix="/invoices", tags=["Invoices"])


@router.get(
    "",
    operation_id="listInvoices",
    summary="List invoices",
    response_model=Page[Invoice],
    responses=error_responses(401, 403, 422),
)
async def list_invoices(
    session: ReadSession,
    principal: CurrentPrincipal,
    paging: Paging,
    site_id: OnlySiteQuery = None,
    workspace_id: WorkspaceAliasQuery = None,
    status: Annotated[
        Literal["issued", "void"] | None, Query(description="Only invoices in this status.")
    ] = None,
) -> Page[Invoice]:
    """Invoices at every site you may read (or at one site), newest first."""
    rows, meta = await service.list_invoices(
        session, principal, paging, site_id=site_id or workspace_id, status=status
    )
    return Page[Invoice](data=[Invoice.model_validate(r) for r in rows], meta=meta)


@router.post(
    "",
    operation_id="createInvoice",
    summary="Create an invoice",
    status_code=201,
    response_model=Invoice,
    responses=error_responses(401, 403, 409, 422),
)
async def create_invoice(
    session: Session,
    principal: CurrentPrincipal,
    site_choice: CurrentSiteChoice,
    body: Annotated[InvoiceCreate, Body()],
) -> Invoice:
    """Sell the lines at the current site: one `sale` movement (−quantity) per line.

    All lines are sold or none: a line short of stock answers `insufficient_stock`, naming
    every short line, and nothing is stored. `total` is the sum of quantity × unit_price.
    """
    return Invoice.model_validate(
        await service.create_invoice(session, principal, body, site_choice)
    )


@router.get(
    "/{invoice_id}",
    operation_id="getInvoice",
    summary="Get an invoice",
    response_model=Invoice,
    responses=error_responses(401, 404),
)
async def get_invoice(
    session: Session, principal: CurrentPrincipal, invoice_id: uuid.UUID
) -> Invoice:
    """One invoice of your brand at a site you may read, with its lines and movements."""
    return Invoice.model_validate(await service.get_invoice(session, principal, invoice_id))


@router.post(
    "/{invoice_id}/void",
    operation_id="voidInvoice",
    summary="Void an invoice",
    response_model=Invoice,
    responses=error_responses(401, 403, 404, 409, 422),
)
async def void_invoice(
    session: Session, principal: CurrentPrincipal, invoice_id: uuid.UUID
) -> Invoice:
    """Void an issued invoice: `return` movements put the sold stock back.

    An invoice is voided once; voiding it again answers 422 and writes nothing.
    """
    return Invoice.model_validate(await service.void_invoice(session, principal, invoice_id))
