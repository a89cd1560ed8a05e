"""`GET /inventory/valuation`: the stock's value at an instant, as JSON or CSV."""

from __future__ import annotations

import csv
import io
from typing import Annotated, Literal

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from stockroom.auth.dependencies import CurrentPrincipal
from stockroom.db.models.base import utcnow
from stockroom.db.replica import ReadSession
from stockroom.fields import csv_row
from stockroom.http.errors import error_responses
from stockroom.http.params import OnlySiteQuery, WorkspaceAliasQuery
from stockroom.ledger.timeline import as_of_instant
from stockroom.movements.router import CSV_MEDIA_TYPE, wants_csv
from stockroom.stock.router import AsOfQuery
from stockroom.valuation import service
from stockroom.valuation.schemas import Valuation

router = APIRouter(prefix="/inventory", tags=["Stock levels"])

CSV_COLUMNS = ("row", "product_id", "sku", "name", "site_id", "quantity", "average_cost", "value")
CSV_TEXT_COLUMNS = ("sku", "name")


def valuation_csv(valuation: Valuation) -> str:
    """Lines, then one `site_total` row per site, then the `brand_total` row."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    empty = dict.fromkeys(CSV_COLUMNS)
    for line in valuation.data:
        writer.writerow(
            csv_row(
                empty | {"row": "line"} | line.model_dump(mode="json"),
                CSV_COLUMNS,
                CSV_TEXT_COLUMNS,
            )
        )
    for site in valuation.sites:
        writer.writerow(
            csv_row(
                empty | {"row": "site_total"} | site.model_dump(mode="json"),
                CSV_COLUMNS,
                CSV_TEXT_COLUMNS,
            )
        )
    writer.writerow(
        csv_row(
            empty | {"row": "brand_total"} | valuation.total.model_dump(mode="json"),
            CSV_COLUMNS,
            CSV_TEXT_COLUMNS,
        )
    )
    return buffer.getvalue()


@router.get(
    "/valuation",
    operation_id="getStockValuation",
    summary="Value of the stock at an instant",
    response_model=Valuation,
    responses=error_responses(401, 403, 422)
    | {
        200: {
            "description": "The valuation; as CSV with `format=csv` or `Accept: text/csv`.",
            "content": {CSV_MEDIA_TYPE: {"schema": {"type": "string"}}},
        }
    },
)
async def get_stock_valuation(
    request: Request,
    session: ReadSession,
    principal: CurrentPrincipal,
    site_id: OnlySiteQuery = None,
    workspace_id: WorkspaceAliasQuery = None,
    as_of: AsOfQuery = None,
    format: Annotated[Literal["json", "csv"] | None, Query()] = None,
) -> Valuation | Response:
    """Per product and site you may read: quantity, average cost and value at `as_of`
    (default now), with totals per site and for the brand.

    Average cost: the weighted average unit cost of the product's purchases and costed
    initial stock that occurred up to `as_of`; a product with none has no cost or value.
    """
    now = utcnow()
    instant = as_of_instant(as_of, now) or now
    result = await service.valuation(
        session, principal, site_id=site_id or workspace_id, instant=instant
    )
    if wants_csv(request, format):
        return Response(
            valuation_csv(result),
            media_type=f"{CSV_MEDIA_TYPE}; charset=utf-8",
            headers={"Content-Disposition": 'attachment; filename="valuation.csv"'},
        )
    return result
