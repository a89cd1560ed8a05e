"""Core statements on hot paths, run on the session's connection (same transaction).

`AsyncSession.execute` sends even a plain Core statement through the ORM's per-execute
processing; on the ledger's hot path that cost more than the statement itself.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession


async def execute_core(
    session: AsyncSession, statement: Any, parameters: Any = None
) -> Any:  # a Result; its column types depend on the statement
    connection = await session.connection()
    return await connection.execute(statement, parameters)
