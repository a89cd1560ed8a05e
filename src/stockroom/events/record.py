"""Write events into the outbox, in the caller's transaction (services never commit).

On PostgreSQL the rows arrive without a `position` (the feed numbers them once committed,
see feed.py); on SQLite, where one writer at a time holds the database until it commits,
the writer's numbers are already in commit order and are given here: the brand's highest
position plus one, plus two, ... The writer's events (`record_ledger_events`, the hot path)
take one statement, which also judges the threshold crossings — on PostgreSQL the same
statement also inserts the movements and adds the change to the stored shortfalls
(data-modifying WITHs; stock/shortfalls.py), so neither costs the adjustment a round trip of
its own; other services' events one INSERT (and, on SQLite, the read of the last position).
"""

from __future__ import annotations

import functools
import uuid
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any, cast

from pydantic import BaseModel
from sqlalchemy import (
    BindParameter,
    Table,
    TypeDecorator,
    Uuid,
    bindparam,
    func,
    insert,
    select,
    text,
)
from sqlalchemy.dialects import postgresql
from sqlalchemy.ext.asyncio import AsyncSession

from stockroom.db.core import execute_core, prepared
from stockroom.db.models import Event, StockMovement
from stockroom.db.models.base import UTCDateTime, new_id, utcnow
from stockroom.db.unnest import column_parameters, unnest_columns
from stockroom.events.rules import EVENT_TYPES
from stockroom.movements.schemas import encode_movement
from stockroom.stock.shortfalls import SiteChange, SiteKey, store, stored_cte

events = cast(Table, Event.__table__)
stock_movements = cast(Table, StockMovement.__table__)

# Rows per statement of the writer's events: at most 6 bound parameters a row, well within
# SQLite's 32,766 and PostgreSQL's 32,767.
CHUNK = 1000
# session.info: {movement id: its JSON} of the writer's last call, when it wrote at most
# _KEPT_JSON movements (`movement_json`: the answer reuses the events' text).
_MOVEMENT_JSON = "stockroom.movement_json"
_KEPT_JSON = 500
# Statements of at most this many movements, events and crossings are run on the driver
# (db/core.py `prepared`): a few dozen shapes, each kept for the life of the process.
_PREPARED_SHAPE = 6

_LAST_POSITION = select(func.coalesce(func.max(events.c.position), 0)).where(
    events.c.brand_id == bindparam("b_brand")
)


def movement_json(session: AsyncSession, rows: Sequence[Mapping[str, Any]]) -> list[str]:
    """The movements as the API answers them (`Movement` JSON): the text their
    `movement.created` events carry, made once by the writer for this request's rows."""
    known: dict[Any, str] = session.info.get(_MOVEMENT_JSON, {})
    return [known.get(row["id"]) or encode_movement(row) for row in rows]


def movement_list_json(movements: Sequence[str]) -> str:
    """`{"data": [...]}` (a `MovementList`) around movements already encoded."""
    return '{"data":[' + ",".join(movements) + "]}"


def api_data(schema: type[BaseModel], value: Any) -> dict[str, Any]:
    """`value` as the API answers it (validated and dumped through its response schema)."""
    return schema.model_validate(value).model_dump(mode="json")


async def record_events(
    session: AsyncSession,
    brand_id: uuid.UUID,
    typed: Sequence[tuple[str, Mapping[str, Any]]],
    *,
    now: datetime | None = None,
) -> None:
    """Append events `(type, JSON-ready data)` for the brand, in this order, in one INSERT."""
    if not typed:
        return
    now = now or utcnow()
    rows: list[dict[str, Any]] = []
    for type_, data in typed:
        if type_ not in EVENT_TYPES:
            raise ValueError(f"unknown event type {type_!r}")
        rows.append(
            {"brand_id": brand_id, "id": new_id(), "type": type_, "data": data, "created_at": now}
        )
    if session.get_bind().dialect.name == "sqlite":
        last = (await execute_core(session, _LAST_POSITION, {"b_brand": brand_id})).scalar_one()
        for i, row in enumerate(rows, start=1):
            row["position"] = row["seq"] = int(last) + i
    await execute_core(session, insert(events), rows)


async def record_event(
    session: AsyncSession,
    brand_id: uuid.UUID,
    type: str,
    data: Mapping[str, Any],
    *,
    now: datetime | None = None,
) -> None:
    """Append one event (see record_events)."""
    await record_events(session, brand_id, [(type, data)], now=now)


async def record_ledger_events(
    session: AsyncSession,
    brand_id: uuid.UUID,
    movements: Sequence[Mapping[str, Any]],
    site_changes: Mapping[SiteKey, SiteChange],
    now: datetime,
    *,
    insert_movements: bool = False,
) -> None:
    """The writer's events, in ONE statement: `movement.created` per movement, then
    `stock.low` / `stock.replenished` for each product and site whose available units
    crossed min_stock. The request's `site_changes` (net change of on hand and reserved per
    product and site, in sorted key order) are added to the stored shortfalls: on PostgreSQL
    by the same statement, whose rows' new figures judge the crossings, else just before
    (and the statement reads the rows). With `insert_movements` the movement rows
    themselves are inserted too: on PostgreSQL by the same statement, else just before.

    Called after the levels changed, under their row locks: the stored figures are this
    transaction's, and the change gives the figure before it. The crossing is judged in SQL
    (low: from ≥ min_stock to below; replenished: back), so a change that crosses nothing
    costs no more than the insert of its movements' events and its shortfall rows.
    """
    # Crossings follow the lines' order (as their movements' events do); the shortfall rows
    # themselves are written in sorted key order, whatever the order here.
    first: dict[SiteKey, int] = {}
    for row in movements:
        first.setdefault((row["product_id"], row["site_id"]), len(first))
    moved = sorted(site_changes.items(), key=lambda item: first.get(item[0], len(first)))
    data = [encode_movement(row) for row in movements]
    if len(data) <= _KEPT_JSON:
        session.info[_MOVEMENT_JSON] = {
            row["id"]: text for row, text in zip(movements, data, strict=True)
        }
    postgres = session.get_bind().dialect.name == "postgresql"
    if postgres and len(movements) > 1:
        # Many rows (a batch, an initial stock, an import): the shortfall rows' upsert, then
        # one statement fed by arrays, judging crossings on the levels' new figures.
        await store(session, brand_id, site_changes)
        available = [(key, on_hand - reserved) for key, (on_hand, reserved) in moved]
        await _insert_many_ledger_events(
            session,
            brand_id,
            data,
            [(key, delta) for key, delta in available if delta],
            now,
            movements if insert_movements else (),
        )
        return
    fits = len(data) + len(moved) <= CHUNK
    if fits and postgres:
        carried = movements if insert_movements else ()
        await _insert_ledger_events(session, brand_id, data, moved, now, carried, stored=True)
        return
    await store(session, brand_id, site_changes)
    if insert_movements and movements:
        await execute_core(session, insert(stock_movements), list(movements))
    if fits:
        await _insert_ledger_events(session, brand_id, data, moved, now, ())
        return
    # A large write (an import, a count of a whole site): statements within the databases'
    # bound-parameter limits, the movements' events first, in order, then the crossings.
    for start in range(0, len(data), CHUNK):
        await _insert_ledger_events(session, brand_id, data[start : start + CHUNK], [], now, ())
    for start in range(0, len(moved), CHUNK):
        await _insert_ledger_events(session, brand_id, [], moved[start : start + CHUNK], now, ())


async def _insert_ledger_events(
    session: AsyncSession,
    brand_id: uuid.UUID,
    rows: Sequence[str],
    moved: Sequence[tuple[SiteKey, SiteChange]],
    now: datetime,
    carried: Sequence[Mapping[str, Any]],
    *,
    stored: bool = False,
) -> None:
    """One statement: these events (and, on PostgreSQL, the `carried` movements' INSERT and,
    `stored`, the shortfall rows' upsert)."""
    if not rows and not moved:
        return
    dialect = session.get_bind().dialect.name
    params: dict[str, Any] = {"brand": brand_id, "now": now}
    columns: tuple[str, ...] = tuple(carried[0]) if carried else ()
    for i, movement in enumerate(carried):
        for j, column in enumerate(columns):
            params[f"m{i}c{j}"] = movement[column]
    for i, data in enumerate(rows):
        params[f"me{i}"], params[f"md{i}"] = new_id(), data
    for i, ((product_id, site_id), (on_hand, reserved)) in enumerate(moved):
        params |= {
            f"e{i}": new_id(),
            f"p{i}": product_id,
            f"s{i}": site_id,
            f"pt{i}": str(product_id),
            f"st{i}": str(site_id),
            f"h{i}": on_hand,
            f"r{i}": reserved,
        }
    statement = _ledger_events(dialect, len(rows), len(moved), len(carried), columns, stored)
    if len(rows) + len(moved) + len(carried) <= _PREPARED_SHAPE:
        prepared(statement)  # the shapes of single-line writes, compiled once each
    await execute_core(session, statement, params)


# PostgreSQL base types of stock_movements' columns, for db/unnest.py.
_PG_TYPES = {"Uuid": "uuid", "String": "text", "Text": "text", "Integer": "integer"}
_PG_TYPES |= {"BigInteger": "bigint", "MoneyType": "numeric", "UTCDateTime": "timestamptz"}
_POSTGRES_DIALECT = postgresql.dialect()  # type: ignore[no-untyped-call]


def _column_values(column: str, movements: Sequence[Mapping[str, Any]]) -> list[Any]:
    """One column of the movements as the driver takes it (money quantized as on insert)."""
    values = [movement[column] for movement in movements]
    sql_type = stock_movements.c[column].type
    if isinstance(sql_type, TypeDecorator):
        dialect = _POSTGRES_DIALECT
        return [sql_type.process_bind_param(value, dialect) for value in values]
    return values


async def _insert_many_ledger_events(
    session: AsyncSession,
    brand_id: uuid.UUID,
    rows: Sequence[str],
    moved: Sequence[tuple[SiteKey, int]],
    now: datetime,
    carried: Sequence[Mapping[str, Any]],
) -> None:
    """`_insert_ledger_events` for many rows on PostgreSQL: the same statement, but every
    list is given column by column (db/unnest.py), so its size and its parameters do not
    grow with the rows, and the bound-parameter limit needs no chunks."""
    if not rows and not moved:
        return
    columns: tuple[str, ...] = tuple(carried[0]) if carried else ()
    carried_single, carried_params = (
        column_parameters([_column_values(column, carried) for column in columns])
        if carried
        else ((), [])
    )
    moved_single, moved_params = (
        column_parameters(
            [
                [product_id for (product_id, _), _ in moved],
                [site_id for (_, site_id), _ in moved],
                [delta for _, delta in moved],
            ]
        )
        if moved
        else ((False, False, False), [[], [], []])
    )
    statement = _many_ledger_events(columns, carried_single, moved_single)
    params = (brand_id, now, *carried_params, list(rows), *moved_params)
    connection = await session.connection()
    await connection.exec_driver_sql(statement, params)


@functools.lru_cache(maxsize=32)
def _many_ledger_events(
    columns: tuple[str, ...], carried_single: tuple[bool, ...], moved_single: tuple[bool, ...]
) -> str:
    """The events statement of `_ledger_events` (PostgreSQL) fed column by column: $1 brand,
    $2 now, the movement columns (if the movements ride along), the events' data texts (an
    array), then the moved (product, site)s' product ids, site ids and deltas."""
    if not set(columns) <= set(stock_movements.c.keys()):
        raise ValueError(f"not columns of stock_movements: {columns!r}")
    # Only fixed names and numbers are interpolated: every value is a bound parameter.
    data = f"${3 + len(columns)}"
    ctes = []
    if columns:
        types = [_PG_TYPES[type(stock_movements.c[c].type).__name__] for c in columns]
        carried = unnest_columns(types, carried_single, 3)
        names, values = ", ".join(columns), ", ".join(carried.values)
        # A data-modifying WITH runs exactly once, whether or not the INSERT below reads it.
        insert_ = f"INSERT INTO stock_movements ({names}) SELECT {values} FROM {carried.source}"  # noqa: S608
        ctes.append(f"new_movements AS ({insert_})")
    ctes.append(f"""movement AS (
            SELECT ord, gen_random_uuid() AS event_id, 'movement.created' AS type,
                   CAST(data AS json) AS data
            FROM unnest(CAST({data} AS text[])) WITH ORDINALITY AS m(data, ord)
        )""")  # noqa: S608
    moved = unnest_columns(("uuid", "uuid", "bigint"), moved_single, 4 + len(columns))
    product, site, delta = moved.values
    ctes.append(f"""moved AS (
            SELECT cardinality(CAST({data} AS text[])) + u.ord AS ord,
                   {product} AS product_id, {site} AS site_id, {delta} AS delta
            FROM {moved.source}
        )""")  # noqa: S608
    ctes.append("""figures AS (
            SELECT m.ord, m.product_id, m.site_id, m.delta, p.min_stock,
                   CAST(sum(l.on_hand) AS bigint) AS on_hand,
                   CAST(sum(l.reserved) AS bigint) AS reserved
            FROM moved AS m
            JOIN products AS p ON p.brand_id = $1 AND p.id = m.product_id
            JOIN stock_levels AS l
              ON l.brand_id = $1 AND l.product_id = m.product_id AND l.site_id = m.site_id
            GROUP BY m.ord, m.product_id, m.site_id, m.delta, p.min_stock
        )""")
    ctes.append("""crossed AS (
            SELECT ord, gen_random_uuid() AS event_id,
                   CASE WHEN on_hand - reserved < min_stock THEN 'stock.low'
                        ELSE 'stock.replenished' END AS type,
                   json_build_object(
                       'product_id', CAST(product_id AS text), 'site_id', CAST(site_id AS text),
                       'min_stock', min_stock, 'on_hand', on_hand, 'reserved', reserved,
                       'available', on_hand - reserved,
                       'previous_available', on_hand - reserved - delta
                   ) AS data
            FROM figures
            WHERE (on_hand - reserved - delta >= min_stock) <> (on_hand - reserved >= min_stock)
        )""")
    ctes.append("""new_events AS (
            SELECT ord, event_id, type, data FROM movement
            UNION ALL SELECT ord, event_id, type, data FROM crossed
        )""")
    # Positions come later (feed.py); the identity `seq` follows the ORDER BY.
    with_ = "WITH " + ",\n".join(ctes)
    return f"""{with_}
        INSERT INTO events (brand_id, id, type, data, created_at)
        SELECT $1, event_id, type, data, $2 FROM new_events ORDER BY ord"""  # noqa: S608


@functools.lru_cache(maxsize=64)
def _ledger_events(
    dialect: str,
    movements: int,
    moved: int,
    carried: int = 0,
    columns: tuple[str, ...] = (),
    stored: bool = False,
) -> Any:
    """The writer's events statement for this many movements and moved (product, site)s;
    with `carried` movements (PostgreSQL), their INSERT into stock_movements rides along;
    `stored` (PostgreSQL), the upsert of the moved shortfall rows, whose RETURNING gives
    the figures (else they are read from the rows)."""
    postgres = dialect == "postgresql"

    def cast(name: str, sql_type: str) -> str:
        return f"CAST(:{name} AS {sql_type})" if postgres else f":{name}"

    # Only integers and fixed names are interpolated: every value is a bound parameter.
    ctes, parts = [], []
    if (carried or stored) and not postgres:
        raise ValueError("only PostgreSQL writes other tables within the events statement")
    if carried:
        if not set(columns) <= set(stock_movements.c.keys()):
            raise ValueError(f"not columns of stock_movements: {columns!r}")
        # A data-modifying WITH runs exactly once, whether or not the INSERT below reads it.
        values = ", ".join(
            "(" + ", ".join(f":m{i}c{j}" for j in range(len(columns))) + ")" for i in range(carried)
        )
        ctes.append(
            f"new_movements AS (INSERT INTO stock_movements ({', '.join(columns)}) VALUES {values})"  # noqa: S608
        )
    if movements:
        rows = ", ".join(
            f"({i}, {cast(f'me{i}', 'uuid')}, 'movement.created', {cast(f'md{i}', 'json')})"
            for i in range(movements)
        )
        ctes.append(f"movement(ord, event_id, type, data) AS (VALUES {rows})")
        parts.append("SELECT ord, event_id, type, data FROM movement")
    if moved:
        rows = ", ".join(
            f"({movements + i}, {cast(f'e{i}', 'uuid')}, {cast(f'p{i}', 'uuid')}, "
            f"{cast(f's{i}', 'uuid')}, {cast(f'pt{i}', 'text')}, {cast(f'st{i}', 'text')}, "
            f"{cast(f'h{i}', 'bigint')}, {cast(f'r{i}', 'bigint')})"
            for i in range(moved)
        )
        build = "json_build_object" if postgres else "json_object"
        ctes.append(
            "moved(ord, event_id, product_id, site_id, product_text, site_text, "
            f"on_hand_delta, reserved_delta) AS (VALUES {rows})"
        )
        # The product's figures at the site after the change: the stored shortfall row's.
        if stored:
            ctes.append(stored_cte("moved"))
            row = "stored AS st ON st.product_id = m.product_id AND st.site_id = m.site_id"
        else:
            row = (
                "site_shortfalls AS st ON st.brand_id = :brand AND st.site_id = m.site_id "
                "AND st.product_id = m.product_id"
            )
        ctes.append(f"""figures AS (
            SELECT m.ord, m.event_id, m.product_text, m.site_text,
                   m.on_hand_delta - m.reserved_delta AS delta,
                   st.min_stock, st.on_hand, st.reserved
            FROM moved AS m JOIN {row}
        )""")  # noqa: S608
        ctes.append(f"""crossed AS (
            SELECT ord, event_id,
                   CASE WHEN on_hand - reserved < min_stock THEN 'stock.low'
                        ELSE 'stock.replenished' END AS type,
                   {build}(
                       'product_id', product_text, 'site_id', site_text,
                       'min_stock', min_stock, 'on_hand', on_hand, 'reserved', reserved,
                       'available', on_hand - reserved,
                       'previous_available', on_hand - reserved - delta
                   ) AS data
            FROM figures
            WHERE (on_hand - reserved - delta >= min_stock) <> (on_hand - reserved >= min_stock)
        )""")  # noqa: S608
        parts.append("SELECT ord, event_id, type, data FROM crossed")
    ctes.append(f"new_events AS ({' UNION ALL '.join(parts)})")
    with_ = "WITH " + ",\n".join(ctes)
    if postgres:
        # Positions come later (feed.py); the identity `seq` follows the ORDER BY.
        sql = f"""{with_}
        INSERT INTO events (brand_id, id, type, data, created_at)
        SELECT :brand, event_id, type, data, :now FROM new_events ORDER BY ord"""  # noqa: S608
    else:
        # One writer at a time: number them now, after the brand's last position.
        sql = f"""{with_}
        INSERT INTO events (brand_id, id, type, data, created_at, position, seq)
        SELECT :brand, event_id, type, data, :now,
               last.position + row_number() OVER (ORDER BY ord),
               last.position + row_number() OVER (ORDER BY ord)
        FROM new_events,
             (SELECT coalesce(max(position), 0) AS position FROM events
              WHERE brand_id = :brand) AS last
        ORDER BY ord"""  # noqa: S608
    binds: list[BindParameter[Any]] = [
        bindparam("brand", type_=Uuid()),
        bindparam("now", type_=UTCDateTime()),
    ]
    binds += [bindparam(f"me{i}", type_=Uuid()) for i in range(movements)]
    for i in range(moved):
        binds += [
            bindparam(f"e{i}", type_=Uuid()),
            bindparam(f"p{i}", type_=Uuid()),
            bindparam(f"s{i}", type_=Uuid()),
        ]
    for i in range(carried):
        binds += [
            bindparam(f"m{i}c{j}", type_=stock_movements.c[column].type)
            for j, column in enumerate(columns)
        ]
    return text(sql).bindparams(*binds)
