"""`stockroom import`: CSV files of products and stock; every row is checked, then all are
written or none."""

from __future__ import annotations

import time
import uuid
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated

import typer
from rich.progress import (
    BarColumn,
    Progress,
    TaskID,
    TaskProgressColumn,
    TextColumn,
    TimeElapsedColumn,
)
from rich.table import Table
from sqlalchemy.ext.asyncio import AsyncSession

from stockroom.adjustments.schemas import BatchReason
from stockroom.brands.service import get_brand
from stockroom.cli.common import BrandOption, JsonFlag, console, err, print_json, run
from stockroom.imports import (
    ImportRejected,
    StockMode,
    import_products,
    import_stock,
    read_products,
    read_stock,
)

app = typer.Typer(
    name="import",
    help="Import CSV files: every row is checked first, then all are written or none.",
    no_args_is_help=True,
)

# Files at least this big (about five thousand rows) get a progress bar.
PROGRESS_BAR_BYTES = 256 * 1024
# Errors listed in the table for people (`--json` lists them all).
SHOWN_ERRORS = 50

CsvFile = Annotated[
    Path,
    typer.Argument(
        exists=True, dir_okay=False, readable=True, metavar="FILE.csv", help="The CSV file (UTF-8)."
    ),
]
ImportProgress = Callable[[str, int, int | None], None]

_STAGES = {
    "reading": "reading and checking rows",
    "checking": "checking against the database",
    "writing": "writing",
}


@contextmanager
def _progress_bar(path: Path, enabled: bool) -> Iterator[ImportProgress | None]:
    """A Rich progress bar (on stderr) for big files; None (no reports) otherwise."""
    if not enabled or path.stat().st_size < PROGRESS_BAR_BYTES:
        yield None
        return
    columns = (
        TextColumn("{task.description}"),
        BarColumn(),
        TaskProgressColumn(),
        TimeElapsedColumn(),
    )
    with Progress(*columns, console=err) as bar:
        tasks: dict[str, TaskID] = {}

        def report(stage: str, done: int, total: int | None) -> None:
            task = tasks.get(stage)
            if task is None:
                task = tasks[stage] = bar.add_task(_STAGES.get(stage, stage), total=total)
            bar.update(task, completed=done if total is None else min(done, total), total=total)

        yield report


def _report_import(
    outcome: int | ImportRejected, *, what: str, as_json: bool, seconds: float
) -> None:
    """The count imported, or every error (then exit 1)."""
    if isinstance(outcome, ImportRejected):
        rejected = outcome
        if as_json:
            print_json({"errors": [e.as_json() for e in rejected.errors]})
        else:
            table = Table("line", "problem", title=rejected.message)
            for error in rejected.errors[:SHOWN_ERRORS]:
                table.add_row(str(error.line), error.message)
            err.print(table)
            hidden = len(rejected.errors) - SHOWN_ERRORS
            if hidden > 0:
                err.print(f"… and {hidden} more (--json lists them all)")
        raise typer.Exit(1)
    if as_json:
        print_json({"imported": outcome})
    else:
        console.print(f"[green]imported {outcome} {what}[/green] in {seconds:.1f} s")


def _run_import(work: Callable[[AsyncSession], Awaitable[int]]) -> int | ImportRejected:
    """Run an import in one write transaction: the count, or the file's errors."""
    try:
        return run(work)
    except ImportRejected as rejected:
        return rejected


@app.command("products")
def import_products_command(brand: BrandOption, file: CsvFile, as_json: JsonFlag = False) -> None:
    """Add products to a brand's catalogue from a CSV file.

    Columns (header first): sku,name,unit,min_stock,location_aware,cost_per_unit.
    sku and name are required; empty cells take the defaults (unit, 0, false, 0).
    Every SKU must be new to the brand. Errors are listed by line; any error imports nothing.
    """
    started = time.perf_counter()
    with _progress_bar(file, not as_json) as progress:
        parsed = read_products(file, progress)

        async def work(session: AsyncSession) -> int:
            await get_brand(session, brand)
            return await import_products(session, brand, parsed, progress)

        outcome = _run_import(work)
    seconds = time.perf_counter() - started
    _report_import(outcome, what="products", as_json=as_json, seconds=seconds)


@app.command("stock")
def import_stock_command(
    brand: BrandOption,
    site: Annotated[uuid.UUID, typer.Option(help="Site whose stock the file counts.")],
    file: CsvFile,
    mode: Annotated[
        StockMode,
        typer.Option(
            help="initial: opening stock of products not yet tracked at the site; "
            "adjust: signed changes (adjustments)."
        ),
    ] = StockMode.initial,
    reason: Annotated[
        BatchReason | None,
        typer.Option(help="Reason of the adjustments (--mode adjust; default recount)."),
    ] = None,
    as_json: JsonFlag = False,
) -> None:
    """Write stock at a site from a CSV file, through the ledger.

    Columns (header first): sku,quantity[,location_id][,cost_per_unit].
    location_id: required for location-aware products. cost_per_unit: --mode initial only.
    Errors are listed by line; any error imports nothing.
    """
    if reason is not None and mode is not StockMode.adjust:
        err.print("[red]error:[/red] --reason applies to --mode adjust only")
        raise typer.Exit(2)
    started = time.perf_counter()
    with _progress_bar(file, not as_json) as progress:
        parsed = read_stock(file, mode, progress)

        async def work(session: AsyncSession) -> int:
            await get_brand(session, brand)
            return await import_stock(
                session,
                brand,
                site,
                parsed,
                reason=reason or BatchReason.recount,
                reference=f"import {file.name}"[:255],
                progress=progress,
            )

        outcome = _run_import(work)
    seconds = time.perf_counter() - started
    _report_import(outcome, what="stock lines", as_json=as_json, seconds=seconds)
