"""Core statements on hot paths, run on the session's connection (same transaction).

`AsyncSession.execute` sends even a plain Core statement through the ORM's per-execute
processing; on the ledger's hot path that cost more than the statement itself. So hot
statements go through `execute_core`, and the ones built once at import (module-level
constants with bind parameters) are marked with `prepared(...)`: on PostgreSQL, connected
directly, such a statement is compiled once per dialect and run on the session's asyncpg
connection, inside the transaction SQLAlchemy holds there — no per-execution compile-cache
lookup, execution context or result metadata, which cost several times the round trip.
SQLAlchemy stays the builder of the SQL, its bind and result types, and the error types
callers see (a raw driver error is raised as the `sqlalchemy.exc` error SQLAlchemy would
raise). Everywhere else (SQLite, PgBouncer, `STOCKROOM_LOG_SQL`, an engine with cursor
event listeners — a tracer's, a test's —, several parameter sets, a statement built per
call) `execute_core` runs the statement through SQLAlchemy Core.
"""

from __future__ import annotations

from collections import namedtuple
from collections.abc import Iterator, Mapping, Sequence
from typing import Any, TypeVar

from sqlalchemy import exc as sa_exc
from sqlalchemy.engine import Dialect
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from stockroom.db.engine import POOLER

# id(statement) -> the statement, for the statements marked with `prepared`. They are
# module-level constants: they live as long as the process, so their ids never recur.
_PREPARED: dict[int, Any] = {}
# (id(statement), dialect class) -> its plan.
_PLANS: dict[tuple[int, type], _Plan] = {}
_MISSING = object()
# session.info key: (the session's transaction, its connection), see `_connection`.
_CONNECTION = "stockroom.core_connection"
S = TypeVar("S")


def prepared(statement: S) -> S:
    """Mark a statement built once (at import) as one `execute_core` may run on the driver."""
    _PREPARED[id(statement)] = statement
    return statement


class _Plan:
    """A statement compiled for one dialect: its SQL, its parameters in order, its types."""

    __slots__ = ("binds", "columns", "eligible", "processors", "row", "sql")

    def __init__(self, statement: Any, dialect: Dialect) -> None:
        compiled = statement.compile(dialect=dialect)
        if any(bind.expanding for bind in compiled.binds.values()):
            raise ValueError("a prepared statement cannot hold an expanding IN parameter")
        self.sql: str = compiled.string
        # Column defaults computed in Python at execution (an INSERT leaving out a column with
        # `default=`, an UPDATE of one with `onupdate=`) need SQLAlchemy's execution context.
        self.eligible = not (compiled.insert_prefetch or compiled.update_prefetch)
        bind_processors = compiled._bind_processors
        # (name, value when the caller gives none or _MISSING, bind processor)
        self.binds: list[tuple[str, Any, Any]] = []
        for name in compiled.positiontup or ():
            bind = compiled.binds[name]
            default = _MISSING if bind.required else bind.effective_value
            self.binds.append((name, default, bind_processors.get(name)))
        self.columns: list[tuple[str, Any]] = [
            (entry.keyname, entry.type) for entry in compiled._result_columns
        ]
        self.row: Any = namedtuple(  # type: ignore[misc]
            "Row", [name for name, _ in self.columns], rename=True
        )
        self.processors: list[Any] | None = None  # known at the first execution (type oids)

    def arguments(self, params: Mapping[str, Any] | None) -> list[Any]:
        values = []
        for name, default, process in self.binds:
            value = default if params is None else params.get(name, default)
            if value is _MISSING:
                raise sa_exc.ArgumentError(f"A value is required for bind parameter {name!r}")
            values.append(value if process is None else process(value))
        return values

    def result_processors(self, attributes: Sequence[Any], dialect: Dialect) -> list[Any]:
        if self.processors is None:
            self.processors = [
                type_._cached_result_processor(dialect, attribute.type.oid)
                for (_, type_), attribute in zip(self.columns, attributes, strict=True)
            ]
        return self.processors


class RawResult:
    """The rows of a statement run on the driver, read the ways the callers read a Result."""

    __slots__ = ("_rows",)

    def __init__(self, rows: list[Any]) -> None:
        self._rows = rows

    def __iter__(self) -> Iterator[Any]:
        return iter(self._rows)

    def all(self) -> list[Any]:
        return self._rows

    def first(self) -> Any:
        return self._rows[0] if self._rows else None

    def scalar(self) -> Any:
        return self._rows[0][0] if self._rows else None

    def scalar_one(self) -> Any:
        if not self._rows:
            raise sa_exc.NoResultFound("No row was found when one was required")
        if len(self._rows) > 1:
            raise sa_exc.MultipleResultsFound("Multiple rows were found when one was required")
        return self._rows[0][0]

    def scalars(self) -> Iterator[Any]:
        return (row[0] for row in self._rows)


async def execute_core(
    session: AsyncSession, statement: Any, parameters: Any = None
) -> Any:  # a Result (or RawResult); its column types depend on the statement
    connection = await _connection(session)
    if id(statement) in _PREPARED and connection.dialect.driver == "asyncpg":
        if isinstance(parameters, list) and len(parameters) == 1:
            parameters = parameters[0]  # one parameter set: the same statement, run once
        if parameters is None or isinstance(parameters, Mapping):
            raw = await _run_on_driver(connection, statement, parameters)
            if raw is not None:
                return raw
    return await connection.execute(statement, parameters)


async def _connection(session: AsyncSession) -> AsyncConnection:
    """The session's connection in its current transaction, looked up once per transaction
    (`AsyncSession.connection` crosses into SQLAlchemy's greenlet on every call)."""
    transaction = session.sync_session.get_transaction()
    cached = session.info.get(_CONNECTION)
    if transaction is not None and cached is not None and cached[0] is transaction:
        connection: AsyncConnection = cached[1]
        return connection
    connection = await session.connection()
    session.info[_CONNECTION] = (session.sync_session.get_transaction(), connection)
    return connection


async def _run_on_driver(
    connection: AsyncConnection, statement: Any, params: Mapping[str, Any] | None
) -> RawResult | None:
    """Run a prepared statement on the asyncpg connection; None when it must go the usual way."""
    sync = connection.sync_connection
    assert sync is not None
    engine = sync.engine
    if (
        engine.echo  # the statement log shows every statement
        or engine.get_execution_options().get(POOLER)  # per-transaction statement names
        # Someone watches statements (a tracer, a test): they go where the events fire.
        or sync.dispatch.before_cursor_execute
        or sync.dispatch.after_cursor_execute
    ):
        return None
    dialect = sync.dialect
    key = (id(statement), type(dialect))
    plan = _PLANS.get(key)
    if plan is None:
        plan = _PLANS[key] = _Plan(statement, dialect)
    if not plan.eligible:
        return None
    adapted: Any = sync.connection.dbapi_connection  # the dialect's asyncpg adapter
    args = plan.arguments(params)
    try:
        if adapted._transaction is None:
            await adapted._start_transaction()  # BEGIN, as SQLAlchemy's first statement would
        prepared_statement, attributes = await adapted._prepare(plan.sql, 0)
        records = await prepared_statement.fetch(*args)
    except Exception as error:
        await _raise_as_sqlalchemy(connection, adapted, dialect, plan.sql, args, error)
        raise  # not reached
    if not attributes:
        return RawResult([])
    processors = plan.result_processors(attributes, dialect)
    make = plan.row._make
    if any(processors):
        return RawResult(
            [
                make(
                    value if process is None else process(value)
                    for value, process in zip(record, processors, strict=True)
                )
                for record in records
            ]
        )
    return RawResult([make(record) for record in records])


async def _raise_as_sqlalchemy(
    connection: AsyncConnection,
    adapted: Any,
    dialect: Dialect,
    sql: str,
    args: list[Any],
    error: Exception,
) -> None:
    """Raise what SQLAlchemy would: the driver's error translated, wrapped in sqlalchemy.exc."""
    try:
        adapted._handle_exception(error)  # raises the DBAPI-style translation
    except Exception as translated:
        dbapi = dialect.loaded_dbapi
        if not isinstance(translated, dbapi.Error):
            raise
        if dialect.is_disconnect(translated, adapted, None):
            await connection.invalidate()
        raise sa_exc.DBAPIError.instance(
            sql, args, translated, dbapi.Error, dialect=dialect
        ) from translated
