"""`stockroom maintain`: the ledger's housekeeping (its monthly partitions on PostgreSQL)."""

from __future__ import annotations

import asyncio
from typing import Annotated

import typer

from stockroom import clock
from stockroom.cli.common import JsonFlag, print_json
from stockroom.db.engine import create_engine
from stockroom.ledger.partitions import MONTHS_AHEAD, Maintenance, describe, maintain_partitions
from stockroom.settings import get_settings


def maintain(
    months_ahead: Annotated[
        int, typer.Option(min=0, max=120, help="Months past the current one to have ready.")
    ] = MONTHS_AHEAD,
    as_json: JsonFlag = False,
) -> None:
    """Create the ledger's partitions for this month and the next ones (idempotent)."""

    async def work() -> Maintenance:
        engine = create_engine(get_settings(), pool=False)
        try:
            async with engine.begin() as conn:
                return await maintain_partitions(
                    conn, clock.now().date(), months_ahead=months_ahead
                )
        finally:
            await engine.dispose()

    result = asyncio.run(work())
    if as_json:
        print_json(describe(result))
    elif not result.partitioned:
        typer.echo("nothing to do: the ledger is not partitioned (SQLite)")
    elif result.skipped:
        typer.echo(f"skipped: {result.skipped}")
    else:
        created = ", ".join(result.created) or "none (all in place)"
        typer.echo(
            f"partitions created: {created}; rows moved from the default: {result.moved_rows}"
        )


command = maintain
