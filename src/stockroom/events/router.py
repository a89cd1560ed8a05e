"""`GET /events`: the brand's feed (admin), in commit order, each event exactly once."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from pydantic import Field

from stockroom.auth.dependencies import CurrentPrincipal, Session
from stockroom.errors import ValidationFailed, field_error
from stockroom.events.feed import number_events, read_events_page
from stockroom.events.rules import EVENT_TYPES
from stockroom.events.schemas import EventFeedMeta, EventFeedPage, EventOut
from stockroom.http.errors import error_responses

router = APIRouter(tags=["Events"])

MAX_EVENTS_PER_PAGE = 1000


def _types(values: list[str] | None) -> list[str] | None:
    if not values:
        return None
    types = [t.strip() for value in values for t in value.split(",") if t.strip()]
    unknown = [t for t in types if t not in EVENT_TYPES]
    if unknown:
        raise ValidationFailed(
            "Unknown event type.",
            [field_error("type", f"unknown event type {t!r}") for t in unknown],
        )
    return types or None


@router.get(
    "/events",
    operation_id="listEvents",
    summary="The brand's event feed",
    response_model=EventFeedPage,
    responses=error_responses(401, 403, 422),
)
async def list_events(
    session: Session,
    principal: CurrentPrincipal,
    after: Annotated[
        str | None,
        Query(
            max_length=18,
            pattern=r"^[0-9]+$",
            description="A cursor: `meta.next_cursor` of the previous page (omit to start).",
        ),
    ] = None,
    limit: Annotated[
        int, Field(ge=1, le=MAX_EVENTS_PER_PAGE, description="Events per page, 1–1000.")
    ] = 100,
    type: Annotated[
        list[str] | None,
        Query(description="Only these types (repeat, or separate by commas)."),
    ] = None,
) -> EventFeedPage:
    """Every change of the brand, oldest first (admin: events span every site).

    A reader that keeps passing `meta.next_cursor` as `after` sees every event exactly once,
    in commit order, including events of transactions that committed out of order.
    """
    principal.require_admin()
    types = _types(type)
    # Number what has committed since the last reader (PostgreSQL); the lock it takes is
    # released when this request's transaction ends.
    await number_events(session, principal.brand_id)
    rows, reached = await read_events_page(
        session,
        principal.brand_id,
        after=None if after is None else int(after),
        limit=limit,
        types=types,
    )
    return EventFeedPage(
        data=[EventOut(id=r.id, type=r.type, created_at=r.created_at, data=r.data) for r in rows],
        meta=EventFeedMeta(
            limit=limit,
            next_cursor=None if reached is None else str(reached),
            has_more=len(rows) == limit,
        ),
    )
