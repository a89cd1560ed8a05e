"""Page/per_page paging and the `{"data", "meta"}` envelope every list answers with."""

from __future__ import annotations

import math
from functools import partial
from typing import Annotated, Any, Generic, TypeVar

from fastapi import Depends
from pydantic import BaseModel
from sqlalchemy import Select, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from stockroom.db.core import execute_core
from stockroom.fields import DEFAULT_PER_PAGE, MAX_PAGE, MAX_PER_PAGE, PageQuery, PerPageQuery

__all__ = [
    "MAX_PAGE",
    "MAX_PER_PAGE",
    "Page",
    "PageMeta",
    "PageParams",
    "Paging",
    "fetch_page",
    "fetch_rows_page",
    "page_params",
]

T = TypeVar("T")


class PageMeta(BaseModel):
    page: int
    per_page: int
    total: int
    total_pages: int


class Page(BaseModel, Generic[T]):
    data: list[T]
    meta: PageMeta


class PageParams(BaseModel):
    page: int
    per_page: int

    @property
    def offset(self) -> int:
        return (self.page - 1) * self.per_page


async def page_params(page: PageQuery = 1, per_page: PerPageQuery = DEFAULT_PER_PAGE) -> PageParams:
    return PageParams(page=page, per_page=per_page)


Paging = Annotated[PageParams, Depends(page_params)]


def page_meta(params: PageParams, total: int) -> PageMeta:
    """The `meta` of a numbered page of `total` rows."""
    return PageMeta(
        page=params.page,
        per_page=params.per_page,
        total=total,
        total_pages=math.ceil(total / params.per_page) if total else 0,
    )


async def fetch_page(
    session: AsyncSession, query: Select[Any], params: PageParams, *, scalars: bool = True
) -> tuple[list[Any], PageMeta]:
    """Run `query` for one page and count all its rows (the query carries its own ORDER BY).

    `scalars`: the query selects ORM entities (run through the session); else plain columns,
    run as Core on the session's connection (no ORM processing per execution).
    """
    run = session.execute if scalars else partial(execute_core, session)
    total = (
        await run(select(func.count()).select_from(query.order_by(None).subquery()))
    ).scalar_one()
    result = await run(query.limit(params.per_page).offset(params.offset))
    rows = list(result.scalars() if scalars else result.mappings())
    meta = page_meta(params, total)
    return rows, meta


async def fetch_rows_page(
    session: AsyncSession, query: Select[Any], params: PageParams
) -> tuple[list[dict[str, Any]], PageMeta]:
    """One page of plain rows and the total, in one query (`count(*) OVER ()`).

    For queries whose every row is costly to find (low stock computes each product's stock),
    counting separately would do all the work twice. Past the last page there are no rows to
    carry the total, so only then is it counted on its own.
    """
    counted = query.add_columns(func.count().over().label("_total"))
    result = await session.execute(counted.limit(params.per_page).offset(params.offset))
    rows = [dict(row) for row in result.mappings()]
    if rows:
        total = int(rows[0]["_total"])
    else:
        total = (
            await session.execute(select(func.count()).select_from(query.order_by(None).subquery()))
        ).scalar_one()
    for row in rows:
        del row["_total"]
    meta = page_meta(params, total)
    return rows, meta
