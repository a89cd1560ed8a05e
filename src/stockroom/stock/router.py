"""`/inventory/...` stock reads: a product's stock, the levels listing, low-stock alerts."""

from __future__ import annotations

import uuid
from typing import Annotated

import orjson
from fastapi import APIRouter, Query, Response

from stockroom.auth.dependencies import CoreSession, CurrentPrincipal, CurrentSiteChoice
from stockroom.db.models.base import utcnow
from stockroom.db.replica import ReadSession
from stockroom.db.session import read_without_transaction
from stockroom.http.errors import error_responses
from stockroom.http.params import WorkspaceAliasQuery
from stockroom.ledger.timeline import as_of_instant
from stockroom.pagination import Page, Paging
from stockroom.stock import service
from stockroom.stock.schemas import LowStockItem, ProductStock, StockLevelItem

router = APIRouter(prefix="/inventory", tags=["Stock levels"])


def _uuid_text(value: object) -> str:
    """orjson's fallback: asyncpg's own UUID type (orjson writes only the stdlib's)."""
    if isinstance(value, uuid.UUID):
        return str(value)
    raise TypeError(f"not JSON: {type(value).__name__}")


SiteQuery = Annotated[uuid.UUID | None, Query(description="A site of your brand.")]
WorkspaceQuery = WorkspaceAliasQuery
AsOfQuery = Annotated[
    str | None,
    Query(
        max_length=64,
        description="Stock as it was at this RFC 3339 instant (by occurred_at); not in the future.",
        examples=["2026-10-31T23:59:59Z"],
    ),
]


@router.get(
    "/products/{product_id}/stock",
    operation_id="getProductStock",
    summary="Get a product's stock at every site",
    response_model=ProductStock,
    responses=error_responses(401, 404, 422),
)
async def get_product_stock(
    session: CoreSession,
    principal: CurrentPrincipal,
    product_id: uuid.UUID,
    as_of: AsOfQuery = None,
) -> Response:
    """The product's on-hand at every site you may read, with its per-location levels.

    Every readable site is listed (on-hand 0 where the product has never been);
    `locations` lists the locations holding a level of a location-aware product;
    `total` is the sum over the listed sites. With `as_of`, the on-hand as it was at that
    instant by `occurred_at` (`reserved`, `in_transit` 0; `available` = on-hand).
    """
    instant = as_of_instant(as_of, utcnow())
    await read_without_transaction(session)  # PostgreSQL: no BEGIN/COMMIT round trips
    # Serialised straight from the rows (orjson); `response_model` still documents it, and
    # tests/stock/test_product_stock_shape.py holds the answer to the model.
    stock = await service.product_stock_document(session, principal, product_id, instant)
    return Response(orjson.dumps(stock, default=_uuid_text), media_type="application/json")


@router.get(
    "/stock",
    operation_id="listStockLevels",
    summary="List stock levels",
    response_model=Page[StockLevelItem],
    responses=error_responses(401, 403, 422),
)
async def list_stock_levels(
    session: ReadSession,
    principal: CurrentPrincipal,
    paging: Paging,
    site_id: SiteQuery = None,
    workspace_id: WorkspaceQuery = None,
    product_id: Annotated[uuid.UUID | None, Query(description="Only this product.")] = None,
    as_of: AsOfQuery = None,
) -> Page[StockLevelItem]:
    """On-hand per product and site (locations summed) at the sites you may read, by SKU.

    With `as_of`, the on-hand as it was at that instant by `occurred_at` (`reserved` 0,
    `available` = on-hand).
    """
    instant = as_of_instant(as_of, utcnow())
    rows, meta = await service.list_stock_levels(
        session,
        principal,
        paging,
        site_id=site_id or workspace_id,
        product_id=product_id,
        as_of=instant,
    )
    return Page[StockLevelItem](data=[StockLevelItem.model_validate(r) for r in rows], meta=meta)


@router.get(
    "/low-stock",
    operation_id="listLowStock",
    summary="List products below their minimum stock at a site",
    response_model=Page[LowStockItem],
    responses=error_responses(401, 403, 422),
)
async def list_low_stock(
    session: ReadSession,
    principal: CurrentPrincipal,
    site_choice: CurrentSiteChoice,
    paging: Paging,
) -> Page[LowStockItem]:
    """Active products whose on-hand at the site is below `min_stock`, biggest shortfall first.

    The site defaults to the current site. A product never stocked there counts as 0 on
    hand, so it is listed when its `min_stock` is above 0. Ties are ordered by SKU.
    """
    rows, meta = await service.low_stock(
        session, principal, paging, site_id=site_choice.query, header_site=site_choice.header
    )
    return Page[LowStockItem](data=[LowStockItem.model_validate(r) for r in rows], meta=meta)
