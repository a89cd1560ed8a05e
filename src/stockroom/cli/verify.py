"""`stockroom verify`: check the ledger."""

from __future__ import annotations

import asyncio

import typer
from rich.table import Table
from sqlalchemy import text

from stockroom.cli.common import JsonFlag, console, print_json
from stockroom.db.engine import create_engine
from stockroom.ledger.verify import Report, verify_ledger
from stockroom.settings import get_settings


def verify(as_json: JsonFlag = False) -> None:
    """Check the ledger: levels equal their movements, no forbidden negatives, transfers pair up."""

    async def work() -> Report:
        engine = create_engine(get_settings(), pool=False)
        try:
            async with engine.connect() as conn:
                if conn.dialect.name == "postgresql":
                    # Summing millions of movements is one long statement: the API's
                    # statement timeout (STOCKROOM_STATEMENT_TIMEOUT_SECONDS) is not for it.
                    await conn.execute(text("SELECT set_config('statement_timeout', '0', true)"))
                return await verify_ledger(conn)
        finally:
            await engine.dispose()

    report = asyncio.run(work())
    if as_json:
        print_json(
            {
                "ok": report.ok,
                "levels": report.levels,
                "movements": report.movements,
                "checks": [
                    {"name": c.name, "ok": c.ok, "count": c.count, "examples": c.examples}
                    for c in report.checks
                ],
            }
        )
    else:
        table = Table("check", "result", "problems", title="Ledger verification")
        for check in report.checks:
            mark = "[green]ok[/green]" if check.ok else "[red]FAILED[/red]"
            table.add_row(check.name, mark, str(check.count))
        console.print(table)
        console.print(f"{report.levels} levels, {report.movements} movements checked")
        for check in report.checks:
            for example in check.examples[:10]:
                console.print(f"  [red]{check.name}[/red]: {example}")
    raise typer.Exit(0 if report.ok else 1)


command = verify
