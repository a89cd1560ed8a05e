"""`/inventory/movements`: the ledger's rows — the audit report and one movement by id."""

from __future__ import annotations

import uuid
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query, Request, Response
from fastapi.responses import StreamingResponse
from pydantic import BaseModel
from sqlalchemy import Select

from stockroom.auth.dependencies import CurrentPrincipal, Session
from stockroom.db.replica import ReadSession, read_engine_of
from stockroom.db.session import read_without_transaction
from stockroom.errors import NotFound, ValidationFailed, field_error
from stockroom.fields import DEFAULT_PER_PAGE, LimitQuery, PageQuery, PerPageQuery
from stockroom.http.errors import error_responses
from stockroom.http.params import OnlySiteQuery, WorkspaceAliasQuery
from stockroom.movements import service
from stockroom.movements.schemas import Movement, MovementType
from stockroom.pagination import Page, PageParams

router = APIRouter(prefix="/inventory/movements", tags=["Stock movements"])

CSV_MEDIA_TYPE = "text/csv"


class CursorMeta(BaseModel):
    limit: int
    next_cursor: str | None


class MovementCursorPage(BaseModel):
    """A keyset page: pass `meta.next_cursor` back as `cursor` for the next one (null: the end)."""

    data: list[Movement]
    meta: CursorMeta


def wants_csv(request: Request, format: str | None) -> bool:
    """`format=csv`, or an Accept header whose most preferred type is text/csv."""
    if format is not None:
        return format == "csv"
    best, best_q = None, 0.0
    for part in request.headers.get("accept", "").split(","):
        media, *params = (p.strip() for p in part.split(";"))
        q = 1.0
        for param in params:
            name, _, value = param.partition("=")
            if name.strip().lower() == "q":
                try:
                    q = float(value)
                except ValueError:
                    q = 0.0
        if media and q > best_q:
            best, best_q = media.lower(), q
    return best == CSV_MEDIA_TYPE


class CsvResponse(StreamingResponse):
    media_type = CSV_MEDIA_TYPE


async def report_filters(
    product_id: Annotated[uuid.UUID | None, Query(description="Only this product.")] = None,
    site_id: OnlySiteQuery = None,
    workspace_id: WorkspaceAliasQuery = None,
    type: Annotated[MovementType | None, Query(description="Only this movement type.")] = None,
    start_date: Annotated[
        str | None, Query(description="First day (YYYY-MM-DD, UTC), inclusive.")
    ] = None,
    end_date: Annotated[
        str | None, Query(description="Last day (YYYY-MM-DD, UTC), inclusive.")
    ] = None,
    occurred_from: Annotated[
        str | None,
        Query(
            alias="from",
            max_length=64,
            description="Movements that occurred at or after this RFC 3339 instant.",
        ),
    ] = None,
    occurred_to: Annotated[
        str | None,
        Query(
            alias="to",
            max_length=64,
            description="Movements that occurred before this RFC 3339 instant (exclusive).",
        ),
    ] = None,
) -> service.MovementFilters:
    return service.MovementFilters(
        product_id=product_id,
        site_id=site_id or workspace_id,
        type=type,
        start_date=start_date,
        end_date=end_date,
        occurred_from=occurred_from,
        occurred_to=occurred_to,
    )


ReportFilters = Annotated[service.MovementFilters, Depends(report_filters)]


def csv_export(request: Request, query: Select[Any]) -> CsvResponse:
    return CsvResponse(
        service.movements_csv(read_engine_of(request), query),
        media_type=f"{CSV_MEDIA_TYPE}; charset=utf-8",
        headers={"Content-Disposition": 'attachment; filename="movements.csv"'},
    )


@router.get(
    "",
    operation_id="listStockMovements",
    summary="Stock movements report",
    response_model=Page[Movement] | MovementCursorPage,
    responses=error_responses(401, 403, 422),
)
async def list_stock_movements(
    request: Request,
    session: ReadSession,
    principal: CurrentPrincipal,
    filters: ReportFilters,
    page: PageQuery | None = None,
    per_page: PerPageQuery | None = None,
    cursor: Annotated[
        str | None,
        Query(max_length=512, description="Keyset paging: `meta.next_cursor` of the last page."),
    ] = None,
    limit: LimitQuery | None = None,
    # The contract's `format=csv` (and `Accept: text/csv`) still answer CSV here; the
    # document shows the CSV as its own operation so that this one has one response type.
    format: Annotated[Literal["json", "csv"] | None, Query(include_in_schema=False)] = None,
) -> Response:
    """Movements at the sites you may read (or at one site), newest first, for auditing.

    Filters by `occurred_at` (when the movements happened): dates are inclusive calendar
    days in UTC; `from` (inclusive) and `to` (exclusive) are RFC 3339 instants. Page
    through with `page`/`per_page` (with a total) or with `cursor`/`limit` (no total;
    fast at any depth); with `cursor` or `limit`, `page`/`per_page` may only be sent at
    their defaults (1, 25), and are then ignored.
    The same rows as CSV: `exportStockMovements` (`/inventory/movements.csv`); this path
    also answers CSV to `Accept: text/csv` or `format=csv`.
    """
    await read_without_transaction(session)  # PostgreSQL: no BEGIN/COMMIT round trips
    report = await service.movement_report(session, principal, filters)
    if wants_csv(request, format):
        return csv_export(request, report.select())
    keyset = cursor is not None or limit is not None
    if keyset and (page not in (None, 1) or per_page not in (None, DEFAULT_PER_PAGE)):
        raise ValidationFailed(
            "Use either page/per_page or cursor/limit, not both.",
            [field_error("cursor", "cannot be combined with page/per_page")],
        )
    if keyset:
        size = limit or DEFAULT_PER_PAGE
        rows, next_cursor = await service.movements_after_cursor(
            session, report.select(), cursor, size
        )
        return _json(
            MovementCursorPage(data=rows, meta=CursorMeta(limit=size, next_cursor=next_cursor))
        )
    params = PageParams(page=page or 1, per_page=per_page or DEFAULT_PER_PAGE)
    data, meta = await service.movements_page(session, report, params)
    return _json(Page[Movement](data=data, meta=meta))


def _json(page: BaseModel) -> Response:
    """The page serialised once by its model (`response_model` documents it; FastAPI would
    validate the returned model against the union again before serialising it)."""
    return Response(page.model_dump_json(), media_type="application/json")


@router.get(
    ".csv",
    operation_id="exportStockMovements",
    summary="Export stock movements as CSV",
    response_class=CsvResponse,
    responses=error_responses(401, 403, 422)
    | {
        200: {
            "description": "Every matching movement, newest first, one per row, with a header "
            "row naming the movement's fields.",
            "content": {CSV_MEDIA_TYPE: {"schema": {"type": "string"}}},
        }
    },
)
async def export_stock_movements(
    request: Request, session: ReadSession, principal: CurrentPrincipal, filters: ReportFilters
) -> CsvResponse:
    """The movements report's rows as CSV, streamed without paging; the filters are the
    report's (`listStockMovements`)."""
    query = await service.movement_report_query(session, principal, filters)
    return csv_export(request, query)


@router.get(
    "/{movement_id}",
    operation_id="getStockMovement",
    summary="Get a stock movement",
    response_model=Movement,
    responses=error_responses(401, 404),
)
async def get_stock_movement(
    session: Session, principal: CurrentPrincipal, movement_id: uuid.UUID
) -> Movement:
    """One movement of your brand at a site you may read."""
    movement = await service.get_movement(session, principal, movement_id)
    if movement is None:
        raise NotFound(f"No movement {movement_id}.")
    return Movement.model_validate(movement)
