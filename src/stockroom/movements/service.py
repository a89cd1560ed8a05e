"""Reading the ledger's movements: one by id, and the filtered audit report.

The report has three ways out of one filtered query: numbered pages (with a total),
keyset pages (`cursor`/`limit`, no count, so deep pages stay fast on millions of rows),
and a CSV export read in keyset batches on its own connections — on PostgreSQL each batch
is one `COPY (…) TO STDOUT`, whose CSV the database writes cell for cell as Python's
`csv` module would (`_copy_cells`; a test compares the two byte for byte).
"""

from __future__ import annotations

import base64
import binascii
import csv
import functools
import io
import json
import re
import uuid
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any, cast

from sqlalchemy import (
    BigInteger,
    ColumnElement,
    Integer,
    Numeric,
    Select,
    String,
    Text,
    Uuid,
    bindparam,
    case,
    func,
    literal,
    select,
    tuple_,
)
from sqlalchemy import cast as sql_cast
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from stockroom.auth.current_site import Access, check_site_access, load_site
from stockroom.auth.principal import Principal
from stockroom.auth.scope import PRODUCT_OF_BRAND, brand_scoped
from stockroom.db.core import execute_core, prepared
from stockroom.db.models import StockMovement
from stockroom.db.models.base import MoneyType, UTCDateTime
from stockroom.errors import ValidationFailed, field_error
from stockroom.fields import FORMULA_PREFIXES, csv_row
from stockroom.ledger.timeline import MAX_AHEAD, MAX_BACKDATE_DAYS, parse_instant
from stockroom.movements.schemas import Movement
from stockroom.pagination import PageMeta, PageParams, fetch_page, page_meta

# Rows read per query when exporting CSV: the file is never held in memory whole.
CSV_BATCH_SIZE = 1000
# On PostgreSQL a batch is one COPY, held in memory (about 200 bytes a row) while the
# connection goes back to the pool, then sent: a slow reader never holds a connection.
COPY_BATCH_SIZE = 20_000
CSV_COLUMNS = tuple(Movement.model_fields)
# The columns a caller writes: escaped against formula injection in every CSV of movements.
CSV_TEXT_COLUMNS = ("reference", "notes", "reason_code", "reason_description")

_movement = StockMovement.__table__
_NEWEST_FIRST = (_movement.c.created_at.desc(), _movement.c.id.desc())
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


async def get_movement(
    session: AsyncSession, principal: Principal, movement_id: uuid.UUID
) -> StockMovement | None:
    """One movement of the brand at a site the caller may read (None when not visible)."""
    movement = (
        await session.execute(
            brand_scoped(StockMovement, principal).where(StockMovement.id == movement_id)
        )
    ).scalar()
    if movement is None or not principal.can_read(movement.site_id):
        return None
    return movement


@dataclass(frozen=True)
class MovementFilters:
    """The report's query filters as the caller sent them (dates still text)."""

    product_id: uuid.UUID | None = None
    site_id: uuid.UUID | None = None
    type: str | None = None
    start_date: str | None = None
    end_date: str | None = None
    occurred_from: str | None = None  # `from`: RFC 3339 instant, inclusive
    occurred_to: str | None = None  # `to`: RFC 3339 instant, exclusive


def _parse_date(value: str, field: str) -> date:
    try:
        if not _DATE.fullmatch(value):
            raise ValueError(value)
        return date.fromisoformat(value)
    except ValueError:
        raise ValidationFailed(
            "Dates are calendar days in the form YYYY-MM-DD.",
            [field_error(field, f"not a valid date (YYYY-MM-DD): {value!r}")],
        ) from None


def _day_start(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=UTC)


# The report's shape: which of site, product, type, lower and upper bound it filters on.
Shape = tuple[bool, bool, bool, bool, bool]


@functools.lru_cache(maxsize=64)
def _report_statement(shape: Shape) -> Select[Any]:
    """The report's rows for a shape of filters, newest first, with bind parameters:
    `brand`, and `site`, `product`, `type`, `lower` (+ `lower_created`), `upper`
    (+ `upper_created`) as the shape has them. At most 32 shapes, built once each."""
    site, product, type_, lower, upper = shape
    c = _movement.c
    query = select(*c).where(c.brand_id == bindparam("brand"))
    if site:
        query = query.where(c.site_id == bindparam("site"))
    if product:
        query = query.where(c.product_id == bindparam("product"))
    if type_:
        query = query.where(c.type == bindparam("type"))
    # The report filters by when movements occurred; dates are inclusive UTC days, `to` and
    # the end day's next midnight are exclusive. The created_at bounds follow from the
    # backdating window (ledger/timeline.py) and let the (…, created_at) indexes and
    # created_at partitions narrow the scan; they never exclude a matching row.
    if lower:
        query = query.where(
            c.occurred_at >= bindparam("lower"), c.created_at >= bindparam("lower_created")
        )
    if upper:
        query = query.where(
            c.occurred_at < bindparam("upper"), c.created_at < bindparam("upper_created")
        )
    return query.order_by(*_NEWEST_FIRST)


@functools.lru_cache(maxsize=64)
def _report_page_statements(shape: Shape) -> tuple[Any, Any]:
    """(count, one page with `limit`/`offset`) for a shape, marked to run on the driver."""
    query = _report_statement(shape)
    count = select(func.count()).select_from(query.order_by(None).subquery())
    page = query.limit(bindparam("limit")).offset(bindparam("offset"))
    return prepared(count), prepared(page)


@dataclass(frozen=True, slots=True)
class Report:
    """The report's checked filters: a shape of statement and the values of its parameters."""

    shape: Shape
    values: dict[str, Any]
    # The sites a caller who may read only some of them reads (None: every site, or the one
    # of the `site` filter). An `IN` list: such a report is built per request.
    sites: tuple[uuid.UUID, ...] | None = None

    def select(self) -> Select[Any]:
        """The report's rows as one statement with its values bound (CSV export, keyset)."""
        query = _report_statement(self.shape)
        if self.sites is not None:
            query = query.where(_movement.c.site_id.in_(self.sites))
        return query.params(self.values)


async def movement_report_query(
    session: AsyncSession, principal: Principal, filters: MovementFilters
) -> Select[Any]:
    """The report's rows, newest first: checked filters over the sites the caller may read."""
    return (await movement_report(session, principal, filters)).select()


async def movement_report(
    session: AsyncSession, principal: Principal, filters: MovementFilters
) -> Report:
    """The report's checked filters over the sites the caller may read."""
    start = _parse_date(filters.start_date, "start_date") if filters.start_date else None
    end = _parse_date(filters.end_date, "end_date") if filters.end_date else None
    if start and end and end < start:
        raise ValidationFailed(
            "end_date is before start_date.",
            [field_error("end_date", f"must be on or after start_date ({start.isoformat()})")],
        )
    lower = _day_start(start) if start is not None else None
    upper = _day_start(end + timedelta(days=1)) if end is not None and end < date.max else None
    if filters.occurred_from is not None:
        instant = parse_instant(filters.occurred_from, "from")
        lower = instant if lower is None else max(lower, instant)
    if filters.occurred_to is not None:
        instant = parse_instant(filters.occurred_to, "to")
        upper = instant if upper is None else min(upper, instant)
        if filters.occurred_from is not None and instant < parse_instant(
            filters.occurred_from, "from"
        ):
            raise ValidationFailed(
                "to is before from.", [field_error("to", "must be at or after from")]
            )
    values: dict[str, Any] = {"brand": principal.brand_id}
    sites = None
    if filters.site_id is not None:
        site = await load_site(session, principal, filters.site_id)
        check_site_access(principal, site, Access.read)
        values["site"] = site.id
    elif not principal.is_admin:
        sites = tuple(sorted(principal.site_ids))
    if filters.product_id is not None:
        known = (
            await execute_core(
                session,
                PRODUCT_OF_BRAND,
                {"brand": principal.brand_id, "product": filters.product_id},
            )
        ).first()
        if known is None:
            raise ValidationFailed(
                "The product does not exist in your brand.",
                [field_error("product_id", f"unknown product {filters.product_id}")],
            )
        values["product"] = filters.product_id
    if filters.type is not None:
        values["type"] = filters.type
    if lower is not None:
        values["lower"], values["lower_created"] = lower, _plus(lower, -MAX_AHEAD)
    if upper is not None:
        values["upper"] = upper
        values["upper_created"] = _plus(upper, timedelta(days=MAX_BACKDATE_DAYS))
    shape = tuple(name in values for name in ("site", "product", "type", "lower", "upper"))
    return Report(cast(Shape, shape), values, sites)


def _plus(moment: datetime, delta: timedelta) -> datetime:
    """`moment + delta`, clamped at the ends of the calendar (a bound, never an error)."""
    try:
        return moment + delta
    except OverflowError:
        return (datetime.max if delta > timedelta(0) else datetime.min).replace(tzinfo=UTC)


async def movements_page(
    session: AsyncSession, report: Report, params: PageParams
) -> tuple[list[Movement], PageMeta]:
    """One numbered page of the report, with the total count."""
    if report.sites is not None:
        rows, meta = await fetch_page(session, report.select(), params, scalars=False)
        return [Movement.model_validate(row) for row in rows], meta
    count, page = _report_page_statements(report.shape)
    total = (await execute_core(session, count, report.values)).scalar_one()
    limits = {"limit": params.per_page, "offset": params.offset}
    result = await execute_core(session, page, report.values | limits)
    return [Movement.model_validate(row) for row in result], page_meta(params, total)


# --- keyset paging ---------------------------------------------------------------------------


def encode_cursor(created_at: datetime, movement_id: uuid.UUID) -> str:
    """An opaque cursor naming the last row a page showed: (created_at, id)."""
    raw = json.dumps([created_at.astimezone(UTC).isoformat(), str(movement_id)])
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[datetime, uuid.UUID]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        stamp, movement_id = json.loads(raw)
        created_at = datetime.fromisoformat(stamp)
        if created_at.tzinfo is None:
            raise ValueError("naive timestamp")
        return created_at.astimezone(UTC), uuid.UUID(movement_id)
    except (ValueError, TypeError, OverflowError, binascii.Error):
        raise ValidationFailed(
            "The cursor is not one this API handed out.",
            [field_error("cursor", "invalid cursor; pass meta.next_cursor of a previous page")],
        ) from None


def _after(query: Select[Any], created_at: datetime, movement_id: uuid.UUID) -> Select[Any]:
    # Rows strictly older than the cursor in (created_at desc, id desc) order: one row-value
    # comparison, which both databases answer from the (brand_id, created_at, id) index.
    # The plain `created_at <=` beside it lets PostgreSQL skip the newer months' partitions
    # (it does not prune on a row-value comparison).
    key = tuple_(_movement.c.created_at, _movement.c.id)
    return query.where(
        _movement.c.created_at <= created_at,
        key < tuple_(created_at, movement_id, types=key.type.types),
    )


async def movements_after_cursor(
    session: AsyncSession, query: Select[Any], cursor: str | None, limit: int
) -> tuple[list[Movement], str | None]:
    """Up to `limit` rows after the cursor, and the next cursor (None after the last row)."""
    if cursor is not None:
        query = _after(query, *decode_cursor(cursor))
    rows = (await session.execute(query.limit(limit + 1))).mappings().all()
    page = [Movement.model_validate(row) for row in rows[:limit]]
    next_cursor = None
    if len(rows) > limit:
        last = page[-1]
        next_cursor = encode_cursor(last.created_at, last.id)
    return page, next_cursor


# --- CSV export ------------------------------------------------------------------------------


def movement_csv_row(movement: dict[str, Any]) -> list[Any]:
    """One movement (its JSON form) as the cells of a CSV row, caller text escaped.

    Used by the API's CSV and by `stockroom export movements`: one rule for both.
    """
    return csv_row(movement, CSV_COLUMNS, CSV_TEXT_COLUMNS)


def _csv_text(rows: Sequence[dict[str, Any]], *, header: bool) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    if header:
        writer.writerow(CSV_COLUMNS)
    for row in rows:
        writer.writerow(movement_csv_row(row))
    return buffer.getvalue()


async def movements_csv(
    engine: AsyncEngine, query: Select[Any], *, batch_size: int | None = None
) -> AsyncIterator[bytes]:
    """The report's rows as CSV text, read in keyset batches.

    Each batch uses its own short-lived connection: the request's session is closed once
    the route returns, and a slow reader must not hold a pooled connection for the whole
    download.
    """
    yield _csv_text((), header=True).encode()
    if engine.dialect.name == "postgresql":
        async for chunk in _movements_copy(engine, query, batch_size or COPY_BATCH_SIZE):
            yield chunk
        return
    batch_size = batch_size or CSV_BATCH_SIZE
    batch_query = query
    while True:
        async with engine.connect() as conn:
            rows = (await conn.execute(batch_query.limit(batch_size))).mappings().all()
        if not rows:
            return
        movements = [Movement.model_validate(row).model_dump(mode="json") for row in rows]
        yield _csv_text(movements, header=False).encode()
        if len(rows) < batch_size:
            return
        batch_query = _after(query, rows[-1]["created_at"], rows[-1]["id"])


# --- CSV export on PostgreSQL: COPY --------------------------------------------------------


def _copy_cell(name: str) -> ColumnElement[Any]:
    """The SQL that renders one column as the cell `movement_csv_row` writes (NULL: empty).

    Timestamps as `rfc3339_utc` (microseconds only when there are any), money as
    `money_text` (no trailing zeros), caller text with the formula escape of
    `fields.csv_text_cell`. An empty string is written as NULL, since COPY would quote it
    (`""`) where Python's csv leaves the cell empty. A column type this does not know is an
    error at import, not a cell that silently differs.
    """
    column = _movement.c[name]
    kind = column.type
    if isinstance(kind, UTCDateTime):
        utc = column.op("AT TIME ZONE")(literal("UTC", Text))
        micro = case(
            (func.date_trunc("second", column) == column, literal("", Text)),
            else_=func.to_char(utc, ".US"),
        )
        return func.to_char(utc, 'YYYY-MM-DD"T"HH24:MI:SS') + micro + literal("Z", Text)
    if isinstance(kind, Uuid):
        return sql_cast(column, Text)
    if isinstance(kind, MoneyType | Numeric):
        return sql_cast(func.trim_scale(column), Text)
    if isinstance(kind, Integer | BigInteger):
        return column
    if isinstance(kind, String):
        text = func.nullif(column, literal("", Text))
        if name not in CSV_TEXT_COLUMNS:
            return text
        first = func.substr(column, 1, 1)
        return case(
            (first.in_([literal(p, Text) for p in FORMULA_PREFIXES]), literal("'", Text) + column),
            else_=text,
        )
    raise TypeError(f"no CSV rendering for stock_movements.{name} ({kind!r})")


_COPY_CELLS = [_copy_cell(name).label(name) for name in CSV_COLUMNS]
_ID, _CREATED_AT = CSV_COLUMNS.index("id"), CSV_COLUMNS.index("created_at")


def _crlf_rows(data: bytes) -> tuple[bytes, bytes, int]:
    """COPY's CSV (rows end in LF) with rows ending in CRLF as Python's csv writes them, its
    last row and its number of rows. An LF inside a quoted cell stays as it is: a row ends
    at an LF that follows an even number of quotes (COPY doubles a quote inside a cell)."""
    if b'"' not in data:
        body = data[:-1]
        return data.replace(b"\n", b"\r\n"), body[body.rfind(b"\n") + 1 :], data.count(b"\n")
    rows: list[bytes] = []
    pending: list[bytes] = []
    quoted = False
    for piece in data.split(b"\n")[:-1]:
        pending.append(piece)
        if piece.count(b'"') % 2:
            quoted = not quoted
        if not quoted:
            rows.append(b"\n".join(pending))
            pending = []
    return b"\r\n".join(rows) + b"\r\n", rows[-1], len(rows)


def _key_of(row: bytes) -> tuple[datetime, uuid.UUID]:
    """The keyset position (created_at, id) of one row of the export's CSV."""
    cells = next(csv.reader(io.StringIO(row.decode())))
    return datetime.fromisoformat(cells[_CREATED_AT]), uuid.UUID(cells[_ID])


async def _copy_batch(engine: AsyncEngine, sql: str) -> bytes:
    chunks: list[bytes] = []

    async def collect(chunk: bytes) -> None:
        chunks.append(chunk)

    async with engine.connect() as conn:
        raw = await conn.get_raw_connection()
        driver: Any = raw.driver_connection  # asyncpg's connection
        # One statement outside any transaction (so also through a transaction pooler).
        await driver.copy_from_query(sql, output=collect, format="csv")
    return b"".join(chunks)


async def _movements_copy(
    engine: AsyncEngine, query: Select[Any], batch_size: int
) -> AsyncIterator[bytes]:
    batch_query = query
    while True:
        statement = batch_query.with_only_columns(*_COPY_CELLS, maintain_column_froms=True)
        sql = str(
            statement.limit(batch_size).compile(
                dialect=engine.dialect, compile_kwargs={"literal_binds": True}
            )
        )
        data = await _copy_batch(engine, sql)
        if not data:
            return
        text, last, count = _crlf_rows(data)
        yield text
        if count < batch_size:
            return
        batch_query = _after(query, *_key_of(last))
