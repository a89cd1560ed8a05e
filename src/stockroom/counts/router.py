"""`/inventory/counts`: physical counts fed by several devices, applied as recount adjustments."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Body, Query

from stockroom.auth.current_site import explicit_site
from stockroom.auth.dependencies import CurrentPrincipal, CurrentSiteChoice, Session
from stockroom.counts import service
from stockroom.counts.schemas import Count, CountComplete, CountLinesIn, CountStart, CountStatus
from stockroom.http.errors import error_responses
from stockroom.http.params import OnlySiteQuery, WorkspaceAliasQuery
from stockroom.pagination import Page, Paging

router = APIRouter(prefix="/inventory/counts", tags=["Stock counts"])

_PRODUCT = "3f0c2d1e-8b7a-4c55-9e21-6a1f0b9d4e10"
_LOCATED = "7b1e2d3c-4a5b-4c6d-8e9f-0a1b2c3d4e5f"
START_EXAMPLES: dict[str, Any] = {
    "site": {
        "summary": "Count every product at the current site",
        "value": {"notes": "Monthly count"},
    },
    "location": {
        "summary": "Count one shelf",
        "value": {"location_id": 12, "notes": "Aisle B, shelf 3"},
    },
    "apply": {
        "summary": "Count and apply in one call",
        "value": {
            "product_ids": [_PRODUCT],
            "lines": [{"product_id": _PRODUCT, "counted_quantity": 37}],
            "complete": True,
        },
    },
}
LINES_EXAMPLES: dict[str, Any] = {
    "lines": {
        "summary": "What one device counted",
        "value": {
            "lines": [
                {"product_id": _PRODUCT, "counted_quantity": 37},
                {"product_id": _LOCATED, "location_id": 12, "counted_quantity": 0},
            ]
        },
    }
}
COMPLETE_EXAMPLES: dict[str, Any] = {
    "counted": {"summary": "Apply what was counted", "value": {}},
    "zero": {
        "summary": "Also set everything not counted to 0",
        "value": {"zero_uncounted": True},
    },
}

CountId = Annotated[uuid.UUID, "the count's id"]


@router.get(
    "",
    operation_id="listCounts",
    summary="List stock counts",
    response_model=Page[Count],
    responses=error_responses(401, 403, 422),
)
async def list_counts(
    session: Session,
    principal: CurrentPrincipal,
    paging: Paging,
    site_id: OnlySiteQuery = None,
    workspace_id: WorkspaceAliasQuery = None,
    status: Annotated[CountStatus | None, Query(description="Only counts in this status.")] = None,
) -> Page[Count]:
    """Counts at every site you may read (or at one site), newest first; `uncounted` is null."""
    rows, meta = await service.list_counts(
        session, principal, paging, site_id=site_id or workspace_id, status=status
    )
    return Page[Count](data=[Count.model_validate(r) for r in rows], meta=meta)


@router.post(
    "",
    operation_id="startCount",
    summary="Start a stock count",
    status_code=201,
    response_model=Count,
    responses=error_responses(401, 403, 409, 422),
)
async def start_count(
    session: Session,
    principal: CurrentPrincipal,
    site_choice: CurrentSiteChoice,
    body: Annotated[CountStart, Body(openapi_examples=START_EXAMPLES)],
) -> Count:
    """Open a count of a site (or one location of it), for every product or `product_ids`.

    With `lines` the first counts are recorded at once; with `"complete": true` the count is
    applied in the same call (count-and-apply).
    """
    return Count.model_validate(
        await service.start_count(
            session,
            principal,
            # The current site of the body or the query (one resolver: auth/current_site.py).
            body.model_copy(update={"site_id": explicit_site(body.site_id, site_choice.query)}),
            site_choice.header,
            user_id=principal.user_id,
        )
    )


@router.get(
    "/{count_id}",
    operation_id="getCount",
    summary="Get a stock count",
    response_model=Count,
    responses=error_responses(401, 404, 422),
)
async def get_count(session: Session, principal: CurrentPrincipal, count_id: uuid.UUID) -> Count:
    """The count with each line's counted quantity, expected and variance, and what is left."""
    return Count.model_validate(await service.get_count(session, principal, count_id))


@router.put(
    "/{count_id}/lines",
    operation_id="recordCountLines",
    summary="Record counted quantities",
    response_model=Count,
    responses=error_responses(401, 403, 404, 422),
)
async def record_count_lines(
    session: Session,
    principal: CurrentPrincipal,
    count_id: uuid.UUID,
    body: Annotated[CountLinesIn, Body(openapi_examples=LINES_EXAMPLES)],
) -> Count:
    """Record what was counted; the latest entry for a product and location wins.

    Each line's `expected` is the on hand at the instant it is recorded. Naturally
    idempotent (no Idempotency-Key needed): an entry that repeats a line's figure leaves the
    line, and the instant it was counted, as it is.
    A count that is completed or cancelled answers 422 `count_closed`.
    """
    return Count.model_validate(
        await service.record_lines(
            session, principal, count_id, body.lines, user_id=principal.user_id
        )
    )


@router.post(
    "/{count_id}/complete",
    operation_id="completeCount",
    summary="Complete a stock count",
    response_model=Count,
    responses=error_responses(401, 403, 404, 409, 422),
)
async def complete_count(
    session: Session,
    principal: CurrentPrincipal,
    count_id: uuid.UUID,
    body: Annotated[CountComplete | None, Body(openapi_examples=COMPLETE_EXAMPLES)] = None,
) -> Count:
    """Apply the count: one `recount` adjustment per line whose count differs from `expected`.

    Stock sold or received after a line was counted is kept. `zero_uncounted` counts what
    has no line as 0. A closed count answers 422 `count_closed`.
    """
    zero = body.zero_uncounted if body is not None else False
    return Count.model_validate(
        await service.complete_count(
            session, principal, count_id, zero_uncounted=zero, user_id=principal.user_id
        )
    )


@router.post(
    "/{count_id}/cancel",
    operation_id="cancelCount",
    summary="Cancel a stock count",
    response_model=Count,
    responses=error_responses(401, 403, 404, 422),
)
async def cancel_count(session: Session, principal: CurrentPrincipal, count_id: uuid.UUID) -> Count:
    """Close an open count without changing stock (422 `count_closed` if already closed)."""
    return Count.model_validate(await service.cancel_count(session, principal, count_id))
