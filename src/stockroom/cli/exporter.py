"""`stockroom export`: CSV files of movements."""

from __future__ import annotations

import csv
import os
import sys
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable
from datetime import date
from enum import StrEnum
from pathlib import Path
from typing import IO, Annotated, Any

import typer
from sqlalchemy.ext.asyncio import AsyncSession

from stockroom.brands.service import get_brand
from stockroom.cli.common import BrandOption, JsonFlag, console, operator, print_json, run_read
from stockroom.db.models.ledger import MOVEMENT_TYPES
from stockroom.movements.service import (
    CSV_COLUMNS,
    MovementFilters,
    movement_csv_row,
    movement_report_query,
    movements_after_cursor,
)

app = typer.Typer(name="export", help="Export CSV files.", no_args_is_help=True)

EXPORT_BATCH = 1000

MovementTypeChoice = StrEnum("MovementTypeChoice", {t: t for t in MOVEMENT_TYPES})  # type: ignore[misc]


def _day(value: str | None) -> str | None:
    if value is None:
        return None
    try:
        date.fromisoformat(value)
    except ValueError:
        raise typer.BadParameter(f"{value!r} is not a day in the form YYYY-MM-DD") from None
    return value


@app.command("movements")
def export_movements(
    brand: BrandOption,
    file: Annotated[
        Path,
        typer.Argument(dir_okay=False, metavar="FILE.csv", help="Where to write; - for stdout."),
    ],
    start: Annotated[
        str | None,
        typer.Option(
            "--from",
            callback=_day,
            help="First day, YYYY-MM-DD (UTC), inclusive; default: the first.",
        ),
    ] = None,
    end: Annotated[
        str | None,
        typer.Option(
            "--to", callback=_day, help="Last day, YYYY-MM-DD (UTC), inclusive; default: today."
        ),
    ] = None,
    site: Annotated[uuid.UUID | None, typer.Option(help="Only this site.")] = None,
    movement_type: Annotated[
        MovementTypeChoice | None, typer.Option("--type", help="Only this movement type.")
    ] = None,
    as_json: JsonFlag = False,
) -> None:
    """Write a brand's stock movements to CSV, newest first, read in keyset batches.

    Without --from and --to, every movement of the brand; with one, open at the other end.

    Columns: the API's movement fields, as GET /inventory/movements?format=csv has them.
    """
    to_stdout = str(file) == "-"
    filters = MovementFilters(
        site_id=site,
        type=None if movement_type is None else str(movement_type.value),
        start_date=start,
        end_date=end,
    )

    def work(out: IO[str]) -> Callable[[AsyncSession], Awaitable[int]]:
        async def export(session: AsyncSession) -> int:
            await get_brand(session, brand)
            query = await movement_report_query(session, operator(brand), filters)
            return await _write_movements(session, query, out)

        return export

    started = time.perf_counter()
    if to_stdout:
        run_read(work(sys.stdout))
        return
    # Written beside the target and renamed at the end: a failed export leaves no half file.
    handle, partial = tempfile.mkstemp(dir=file.parent, prefix=f".{file.name}.")
    try:
        with os.fdopen(handle, "w", newline="", encoding="utf-8") as out:
            count = run_read(work(out))
        Path(partial).replace(file)
    finally:
        Path(partial).unlink(missing_ok=True)
    if as_json:
        print_json({"exported": count, "file": str(file)})
    else:
        seconds = time.perf_counter() - started
        console.print(f"[green]exported {count} movements[/green] to {file} in {seconds:.1f} s")


async def _write_movements(session: AsyncSession, query: Any, out: IO[str]) -> int:
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    count = 0
    cursor: str | None = None
    while True:
        page, cursor = await movements_after_cursor(session, query, cursor, EXPORT_BATCH)
        for movement in page:
            row = movement.model_dump(mode="json")
            writer.writerow(movement_csv_row(row))
        count += len(page)
        if cursor is None:
            return count
