"""Reads on PostgreSQL run in autocommit (`db.session.read_without_transaction`), and leave
their pooled connection transactional for whoever gets it next: a write after a read on the
same connection is still one transaction, all or nothing. Behind PgBouncer a read keeps its
transaction (the timeouts and prepared statements need one). SQLite keeps its BEGIN too, and
has no transaction ids to show it with: skipped there.
"""

from __future__ import annotations

import pytest
from sqlalchemy import text

from stockroom.db.engine import create_engine, create_sessionmaker
from stockroom.db.session import read_without_transaction
from stockroom.settings import Settings

# The first assigns the transaction an id; the second answers it, or NULL in a new one.
ASSIGN, ASSIGNED = text("SELECT txid_current()"), text("SELECT txid_current_if_assigned()")


async def test_a_read_runs_each_statement_alone_and_the_next_session_is_one_transaction(
    settings: Settings, backend: str
) -> None:
    if backend == "sqlite":
        pytest.skip("SQLite reads keep their BEGIN (their WAL snapshot); no txid there")
    engine = create_engine(settings.model_copy(update={"pool_size": 1, "pool_max_overflow": 0}))
    sessions = create_sessionmaker(engine)
    try:
        async with sessions() as read:
            await read_without_transaction(read)
            first, second = await read.scalar(ASSIGN), await read.scalar(ASSIGNED)
            await read.commit()
        async with sessions() as write:  # the same, only connection
            then, still = await write.scalar(ASSIGN), await write.scalar(ASSIGNED)
            await write.rollback()
    finally:
        await engine.dispose()

    if backend == "pgbouncer":
        assert second == first  # behind the pooler the read keeps its transaction
    else:
        assert second is None  # autocommit: the second statement ran in a new transaction
    assert still == then  # the connection went back transactional
