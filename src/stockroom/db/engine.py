"""Engines and sessions for SQLite (the embedded default) and PostgreSQL."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import URL, make_url
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker, create_async_engine
from sqlalchemy.pool import NullPool

from stockroom.settings import Settings

# Execution option that marks a session as a writer; on SQLite it takes the write lock
# up front (BEGIN IMMEDIATE) so a read-then-write transaction never hits SQLITE_BUSY.
WRITE = "stockroom_write"
# An engine-wide execution option naming the connection pooler in front (read by
# `db.session.read_without_transaction`): behind PgBouncer every statement needs a transaction.
POOLER = "stockroom_pooler"


def async_url(url: str) -> URL:
    """The async-driver form of a database URL (sqlite → aiosqlite, postgresql → asyncpg)."""
    parsed = make_url(url)
    backend = parsed.get_backend_name()
    if backend == "sqlite":
        return parsed.set(drivername="sqlite+aiosqlite")
    if backend in {"postgresql", "postgres"}:
        return parsed.set(drivername="postgresql+asyncpg")
    raise ValueError(f"unsupported database URL {url!r}: use sqlite:/// or postgresql://")


def is_sqlite(engine: AsyncEngine) -> bool:
    return engine.dialect.name == "sqlite"


def create_engine(settings: Settings, *, pool: bool = True, url: str | None = None) -> AsyncEngine:
    """The engine for `settings.database_url` (or `url`, e.g. the read replica's)."""
    target = async_url(url or settings.database_url)
    kwargs: dict[str, Any] = {"echo": settings.log_sql}
    if target.get_backend_name() == "sqlite":
        return _create_sqlite_engine(target, settings, kwargs)
    if pool:
        kwargs |= {
            "pool_size": settings.pool_size,
            "max_overflow": settings.pool_max_overflow,
            # A request waits this long for a connection, then gets 503 `unavailable`
            # (sqlalchemy.exc.TimeoutError, mapped in stockroom.http.errors).
            "pool_timeout": settings.pool_timeout_seconds,
            # No pre-ping round trip per request: SQLAlchemy invalidates the pool when a
            # query meets a dead connection (e.g. PostgreSQL restarted), so it recovers.
            "pool_pre_ping": False,
        }
    else:
        kwargs["poolclass"] = NullPool
    timeouts = _timeouts(settings)
    if settings.database_pooler == "pgbouncer":
        return _create_pooled_engine(target, kwargs, timeouts, settings.database_application_name)
    kwargs["connect_args"] = {
        "server_settings": {**timeouts, "application_name": settings.database_application_name},
        # asyncpg's per-connection statement cache works with SQLAlchemy's prepared statements.
        "prepared_statement_cache_size": 500,
    }
    return create_async_engine(target, **kwargs)


def _timeouts(settings: Settings) -> dict[str, str]:
    lock_ms = int(settings.lock_timeout_seconds * 1000)
    statement_ms = int(settings.statement_timeout_seconds * 1000)
    return {
        "lock_timeout": str(lock_ms),
        "statement_timeout": str(statement_ms),
        "idle_in_transaction_session_timeout": str(max(statement_ms, 60_000)),
    }


def _prepared_statement_name() -> str:
    return f"__stockroom_{uuid.uuid4().hex}__"


def _create_pooled_engine(
    url: URL, kwargs: dict[str, Any], timeouts: dict[str, str], application_name: str
) -> AsyncEngine:
    """An engine for PostgreSQL behind PgBouncer in transaction pooling mode.

    PgBouncer (1.18, Debian 12's) refuses startup parameters other than a few
    (`lock_timeout` among the refused), hands each transaction any server connection, and
    keeps no prepared statements from one transaction to the next. So: the timeouts are set
    per transaction (`set_config(..., true)` = SET LOCAL, all three in one SELECT right after
    BEGIN: one round trip per transaction); asyncpg's and SQLAlchemy's statement caches are
    off; and every prepared statement gets a unique name, so two clients sharing a server
    connection never collide on asyncpg's `__asyncpg_stmt_N__` names. Every statement
    SQLAlchemy sends runs inside a transaction (it always BEGINs), so a statement is prepared
    and executed on the same server connection.
    """
    kwargs["connect_args"] = {
        "statement_cache_size": 0,
        "prepared_statement_cache_size": 0,
        "prepared_statement_name_func": _prepared_statement_name,
        "server_settings": {"application_name": application_name},
    }
    engine = create_async_engine(url, execution_options={POOLER: "pgbouncer"}, **kwargs)
    assignments = ", ".join(
        f"set_config('{name}', '{value}', true)" for name, value in timeouts.items()
    )
    set_local = f"SELECT {assignments}"

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(conn: Any) -> None:
        conn.exec_driver_sql(set_local)

    return engine


def _create_sqlite_engine(url: URL, settings: Settings, kwargs: dict[str, Any]) -> AsyncEngine:
    kwargs["connect_args"] = {"timeout": settings.sqlite_busy_timeout_ms / 1000}
    engine = create_async_engine(url, **kwargs)
    busy_ms = settings.sqlite_busy_timeout_ms

    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Let us issue BEGIN ourselves (pysqlite's implicit transactions defer the write lock).
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={int(busy_ms)}")
        cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(conn: Any) -> None:
        writer = conn.get_execution_options().get(WRITE, False)
        conn.exec_driver_sql("BEGIN IMMEDIATE" if writer else "BEGIN")

    return engine


def create_sessionmaker(engine: AsyncEngine) -> async_sessionmaker[Any]:
    return async_sessionmaker(engine, expire_on_commit=False, autoflush=False)
