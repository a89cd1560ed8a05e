"""The `stockroom` command: serve, migrate, demo data, brands, sites, locations, users, tokens,
CSV import and export, verify.

Every command has a table for people by default and `--json` for scripts (the JSON shapes are
relied on: change them only by adding keys).
"""

from __future__ import annotations

import asyncio
import atexit
import csv
import json
import os
import shutil
import sys
import tempfile
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import asynccontextmanager, contextmanager
from datetime import date, datetime
from enum import StrEnum
from pathlib import Path
from typing import IO, Annotated, Any, TypeVar

import typer
from rich.console import Console
from rich.progress import (
    BarColumn,
    Progress,
    TaskID,
    TaskProgressColumn,
    TextColumn,
    TimeElapsedColumn,
)
from rich.table import Table
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from stockroom.adjustments.schemas import BatchReason
from stockroom.auth.dependencies import load_principal
from stockroom.auth.principal import Principal, Role
from stockroom.auth.scope import brand_scoped
from stockroom.brands.service import create_brand
from stockroom.db.engine import WRITE, create_engine, create_sessionmaker
from stockroom.db.migrate import upgrade_database
from stockroom.db.models import ApiToken, Brand, Location, Site, User
from stockroom.db.models.ledger import MOVEMENT_TYPES
from stockroom.demo import Demo, create_demo
from stockroom.errors import NotFound, StockroomError, Unauthenticated
from stockroom.imports import (
    ImportRejected,
    StockMode,
    import_products,
    import_stock,
    read_products,
    read_stock,
)
from stockroom.ledger.verify import Report, verify_ledger
from stockroom.movements.service import (
    CSV_COLUMNS,
    MovementFilters,
    movement_report_query,
    movements_after_cursor,
)
from stockroom.observability.logs import log_config
from stockroom.observability.metrics import MULTIPROC_ENV
from stockroom.settings import get_settings
from stockroom.sites.service import add_location, create_site
from stockroom.users.service import create_token, create_user, granted_sites, revoke_tokens

app = typer.Typer(help="Stockroom: inventory from an append-only ledger.", no_args_is_help=True)
brands = typer.Typer(help="Brands (tenants).", no_args_is_help=True)
users = typer.Typer(help="Users of a brand.", no_args_is_help=True)
tokens = typer.Typer(help="API tokens.", no_args_is_help=True)
sites = typer.Typer(help="Sites (where stock is held) of a brand.", no_args_is_help=True)
locations = typer.Typer(help="Bin locations inside a site.", no_args_is_help=True)
importer = typer.Typer(
    help="Import CSV files: every row is checked first, then all are written or none.",
    no_args_is_help=True,
)
exporter = typer.Typer(help="Export CSV files.", no_args_is_help=True)
app.add_typer(brands, name="brands")
app.add_typer(sites, name="sites")
app.add_typer(locations, name="locations")
app.add_typer(users, name="users")
app.add_typer(tokens, name="tokens")
app.add_typer(importer, name="import")
app.add_typer(exporter, name="export")

console = Console()
err = Console(stderr=True)
T = TypeVar("T")

JsonFlag = Annotated[bool, typer.Option("--json", help="Print JSON for scripts.")]
BrandOption = Annotated[uuid.UUID, typer.Option("--brand", help="Brand id.")]
# Where `make serve` keeps the demo token between runs (the database only has its hash).
DEMO_STATE = Path(".stockroom/demo.json")


@asynccontextmanager
async def _transaction() -> AsyncIterator[AsyncSession]:
    engine = create_engine(get_settings(), pool=False)
    try:
        async with create_sessionmaker(engine)() as session:
            await session.connection(execution_options={WRITE: True})
            yield session
            await session.commit()
    finally:
        await engine.dispose()


def _run(work: Callable[[AsyncSession], Awaitable[T]]) -> T:
    async def go() -> T:
        async with _transaction() as session:
            return await work(session)

    try:
        return asyncio.run(go())
    except ImportRejected:
        raise  # listed line by line by the import commands
    except StockroomError as exc:
        details = "; ".join(f"{d['field']}: {d['message']}" for d in exc.details)
        err.print(f"[red]error:[/red] {exc.message}" + (f" ({details})" if details else ""))
        raise typer.Exit(2) from None


async def _read(work: Callable[[AsyncSession], Awaitable[T]]) -> T:
    """Run read-only work (no write lock on SQLite)."""
    engine = create_engine(get_settings(), pool=False)
    try:
        async with create_sessionmaker(engine)() as session:
            return await work(session)
    finally:
        await engine.dispose()


def _run_read(work: Callable[[AsyncSession], Awaitable[T]]) -> T:
    try:
        return asyncio.run(_read(work))
    except StockroomError as exc:
        err.print(f"[red]error:[/red] {exc.message}")
        raise typer.Exit(2) from None


def _print_json(value: Any) -> None:
    typer.echo(json.dumps(value))


def _json_value(value: Any) -> Any:
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, datetime):
        return value.isoformat().replace("+00:00", "Z")
    if isinstance(value, list):
        return [_json_value(v) for v in value]
    return value


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M")
    if isinstance(value, list):
        return "\n".join(str(v) for v in value)
    return str(value)


def _show(
    rows: list[dict[str, Any]],
    as_json: bool,
    *,
    title: str,
    for_people: tuple[str, ...] | None = None,
) -> None:
    """`{"data": [...]}` for scripts (RFC 3339 times); a table (of `for_people`) for people."""
    if as_json:
        _print_json({"data": [{k: _json_value(v) for k, v in row.items()} for row in rows]})
        return
    if not rows:
        console.print(f"{title}: none")
        return
    if for_people is not None:
        rows = [{k: row[k] for k in for_people} for row in rows]
    table = Table(title=title)
    for name in rows[0]:
        # The row's id is what people copy from here: never cut it; fold the rest if need be.
        if name == "id":
            table.add_column(name, no_wrap=True, min_width=len(str(rows[0][name])))
        else:
            table.add_column(name.replace("_", " "), overflow="fold")
    for row in rows:
        table.add_row(*(_cell(v) for v in row.values()))
    console.print(table)


async def _require_brand(session: AsyncSession, brand_id: uuid.UUID) -> Brand:
    brand = await session.get(Brand, brand_id)
    if brand is None:
        raise NotFound(f"no brand {brand_id}")
    return brand


async def _require_site(session: AsyncSession, site_id: uuid.UUID) -> Site:
    site = await session.get(Site, site_id)
    if site is None:
        raise NotFound(f"no site {site_id}")
    return site


# The operator at the command line acts as an admin of the brand it names. It is no user, so
# what it writes carries no user id; this id only fills the field and is never stored.
_OPERATOR = uuid.UUID(int=0)


def _operator(brand_id: uuid.UUID) -> Principal:
    return Principal(
        user_id=_OPERATOR,
        brand_id=brand_id,
        role=Role.admin,
        site_ids=frozenset(),
        default_site_id=None,
    )


@app.command()
def migrate() -> None:
    """Apply database migrations (safe to run again)."""
    upgrade_database(get_settings().database_url)
    console.print("[green]database is up to date[/green]")


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8000,
    workers: Annotated[int, typer.Option(help="Worker processes.")] = 1,
    seed_demo: Annotated[
        bool, typer.Option("--seed-demo", help="Create a demo brand on first run; print its token.")
    ] = False,
    access_log: Annotated[
        bool, typer.Option(help="Log one JSON line per request (stderr).")
    ] = True,
) -> None:
    """Migrate, then serve the HTTP API (docs at /docs)."""
    import uvicorn

    from stockroom.serving import uvicorn_options

    settings = get_settings()
    upgrade_database(settings.database_url)
    base = f"http://{host}:{port}"
    if seed_demo:
        token = _demo_token()
        # soft_wrap: a link must stay on one line, however narrow the terminal.
        console.print(
            f"\n[bold]Stockroom[/bold] on {base}  —  interactive docs: {base}/docs", soft_wrap=True
        )
        console.print(f"Dashboard: {base}/  (sign in with the token)", soft_wrap=True)
        console.print(f"Demo admin token: [bold]{token}[/bold]", soft_wrap=True)
        console.print("Try it:")
        typer.echo(f'  curl -H "Authorization: Bearer {token}" {base}/inventory/adjustments\n')
    _prepare_metrics_dir(workers)
    uvicorn.run(
        "stockroom.app:create_app",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        # JSON lines on stderr in every worker; Stockroom writes the access line itself.
        log_config=log_config(access=access_log),
        log_level="info",
        access_log=False,
        **uvicorn_options(settings),  # timeouts: idle and half-sent requests are closed
    )


def _prepare_metrics_dir(workers: int) -> None:
    """Several workers share their metrics through files in PROMETHEUS_MULTIPROC_DIR.

    With more than one worker and no directory set, one is made for this run. Files left by
    an earlier run's processes are removed (prometheus-client asks for a clean directory);
    this process's own are kept, as its metrics are already open in them.
    """
    directory = os.environ.get(MULTIPROC_ENV)
    if not directory:
        if workers <= 1:
            return
        _remove_orphaned_metrics_dirs()
        directory = tempfile.mkdtemp(prefix=f"{_AUTO_METRICS_PREFIX}{os.getpid()}-")
        os.environ[MULTIPROC_ENV] = directory  # the workers inherit it
        atexit.register(shutil.rmtree, directory, ignore_errors=True)
    path = Path(directory)
    path.mkdir(parents=True, exist_ok=True)
    own = f"_{os.getpid()}.db"
    for stale in path.glob("*.db"):
        if not stale.name.endswith(own):
            stale.unlink(missing_ok=True)


_AUTO_METRICS_PREFIX = "stockroom-metrics-"


def _remove_orphaned_metrics_dirs() -> None:
    """Directories of earlier runs that were killed before they could remove their own."""
    for found in Path(tempfile.gettempdir()).glob(f"{_AUTO_METRICS_PREFIX}*-*"):
        owner = found.name.removeprefix(_AUTO_METRICS_PREFIX).split("-", 1)[0]
        if owner.isdigit() and not _process_exists(int(owner)):
            shutil.rmtree(found, ignore_errors=True)


def _process_exists(pid: int) -> bool:
    try:
        os.kill(pid, 0)  # signal 0: only asks whether the process is there
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _demo_token() -> str:
    """The saved demo token if it still works on this database, else a new demo brand's."""
    if DEMO_STATE.exists():
        saved = json.loads(DEMO_STATE.read_text()).get("token", "")

        async def still_valid(session: AsyncSession) -> bool:
            try:
                await load_principal(session, saved)
            except Unauthenticated:
                return False
            return True

        if saved and _run(still_valid):
            return str(saved)
    demo = _run(create_demo)
    DEMO_STATE.parent.mkdir(exist_ok=True)
    DEMO_STATE.write_text(json.dumps(demo.as_json(), indent=2))
    return demo.token


@app.command()
def demo(as_json: JsonFlag = False) -> None:
    """Create a new demo brand (two sites, locations, products, stock, an admin and a token)."""
    created: Demo = _run(create_demo)
    if as_json:
        _print_json(created.as_json())
        return
    table = Table("", "value", title="Demo brand")
    for key, value in created.as_json().items():
        table.add_row(key, ", ".join(value) if isinstance(value, list) else str(value))
    console.print(table)


@brands.command("create")
def brands_create(
    name: Annotated[str, typer.Option(help="Brand name.")], as_json: JsonFlag = False
) -> None:
    """Create a brand."""
    brand = _run(lambda s: create_brand(s, name))
    if as_json:
        _print_json({"id": str(brand.id)})
    else:
        console.print(f"brand [bold]{brand.name}[/bold] created: {brand.id}")


@brands.command("list")
def brands_list(as_json: JsonFlag = False) -> None:
    """List every brand, oldest first."""

    async def work(session: AsyncSession) -> list[dict[str, Any]]:
        found = await session.execute(select(Brand).order_by(Brand.created_at, Brand.id))
        return [{"id": b.id, "name": b.name, "created_at": b.created_at} for b in found.scalars()]

    _show(_run_read(work), as_json, title="Brands")


@sites.command("list")
def sites_list(brand: BrandOption, as_json: JsonFlag = False) -> None:
    """List the sites of a brand, by name."""

    async def work(session: AsyncSession) -> list[dict[str, Any]]:
        await _require_brand(session, brand)
        found = await session.execute(brand_scoped(Site, brand).order_by(Site.name, Site.id))
        return [
            {
                "id": s.id,
                "name": s.name,
                "allow_negative_stock": s.allow_negative_stock,
                "created_at": s.created_at,
            }
            for s in found.scalars()
        ]

    _show(
        _run_read(work),
        as_json,
        title="Sites",
        for_people=("id", "name", "allow_negative_stock"),
    )


@sites.command("create")
def sites_create(
    brand: BrandOption,
    name: Annotated[str, typer.Option(help="Site name.")],
    allow_negative: Annotated[
        bool, typer.Option("--allow-negative", help="Let stock at this site go below zero.")
    ] = False,
    as_json: JsonFlag = False,
) -> None:
    """Create a site of a brand."""

    async def work(session: AsyncSession) -> Site:
        await _require_brand(session, brand)
        return await create_site(session, brand, name, allow_negative_stock=allow_negative)

    site = _run(work)
    if as_json:
        _print_json({"id": str(site.id)})
    else:
        console.print(f"site [bold]{site.name}[/bold] created: {site.id}")


@locations.command("list")
def locations_list(
    site: Annotated[uuid.UUID, typer.Option(help="Site id.")], as_json: JsonFlag = False
) -> None:
    """List the bin locations of a site, by name."""

    async def work(session: AsyncSession) -> list[dict[str, Any]]:
        found_site = await _require_site(session, site)
        found = await session.execute(
            brand_scoped(Location, found_site.brand_id)
            .where(Location.site_id == found_site.id)
            .order_by(Location.name, Location.id)
        )
        return [
            {"id": loc.id, "name": loc.name, "created_at": loc.created_at}
            for loc in found.scalars()
        ]

    _show(_run_read(work), as_json, title="Locations")


@locations.command("create")
def locations_create(
    site: Annotated[uuid.UUID, typer.Option(help="Site id.")],
    name: Annotated[str, typer.Option(help="Location name (unique in the site).")],
    as_json: JsonFlag = False,
) -> None:
    """Create a bin location inside a site."""

    async def work(session: AsyncSession) -> Location:
        found_site = await _require_site(session, site)
        return await add_location(session, _operator(found_site.brand_id), found_site.id, name)

    location = _run(work)
    if as_json:
        _print_json({"id": location.id})
    else:
        console.print(f"location [bold]{location.name}[/bold] created: {location.id}")


@users.command("list")
def users_list(brand: BrandOption, as_json: JsonFlag = False) -> None:
    """List the users of a brand, by email, with their granted sites."""

    async def work(session: AsyncSession) -> list[dict[str, Any]]:
        await _require_brand(session, brand)
        found = list(
            (await session.execute(brand_scoped(User, brand).order_by(User.email, User.id)))
            .scalars()
            .all()
        )
        grants = await granted_sites(session, brand, [u.id for u in found])
        return [
            {
                "id": u.id,
                "email": u.email,
                "role": u.role,
                "default_site_id": u.default_site_id,
                "site_ids": grants[u.id],
                "created_at": u.created_at,
            }
            for u in found
        ]

    _show(
        _run_read(work),
        as_json,
        title="Users",
        for_people=("id", "email", "role", "default_site_id", "site_ids"),
    )


@users.command("create")
def users_create(
    brand: Annotated[uuid.UUID, typer.Option(help="Brand id.")],
    email: Annotated[str, typer.Option(help="Email (unique in the brand).")],
    role: Annotated[Role, typer.Option(help="admin, manager or viewer.")],
    site: Annotated[
        list[uuid.UUID] | None, typer.Option("--site", help="Granted site (repeatable).")
    ] = None,
    default_site: Annotated[uuid.UUID | None, typer.Option(help="Default site.")] = None,
    as_json: JsonFlag = False,
) -> None:
    """Create a user of a brand."""

    async def work(session: AsyncSession) -> User:
        return await create_user(
            session,
            brand,
            email=email,
            role=role,
            site_ids=site or [],
            default_site_id=default_site,
        )

    user = _run(work)
    if as_json:
        _print_json({"id": str(user.id)})
    else:
        console.print(f"user [bold]{user.email}[/bold] ({user.role}) created: {user.id}")


@tokens.command("create")
def tokens_create(
    user: Annotated[uuid.UUID, typer.Option(help="User id.")], as_json: JsonFlag = False
) -> None:
    """Issue a bearer token for a user; it is shown once and stored only as a hash."""

    async def work(session: AsyncSession) -> str:
        found = await session.get(User, user)
        if found is None:
            raise StockroomError(f"no user {user}")
        _, token = await create_token(session, found)
        return token

    token = _run(work)
    if as_json:
        _print_json({"token": token})
    else:
        console.print(f"token (shown once): [bold]{token}[/bold]")


@tokens.command("list")
def tokens_list(
    user: Annotated[uuid.UUID, typer.Option(help="User id.")], as_json: JsonFlag = False
) -> None:
    """List a user's tokens: prefix, created, revoked (the tokens themselves are never kept)."""

    async def work(session: AsyncSession) -> list[dict[str, Any]]:
        found_user = await session.get(User, user)
        if found_user is None:
            raise NotFound(f"no user {user}")
        found = await session.execute(
            brand_scoped(ApiToken, found_user.brand_id)
            .where(ApiToken.user_id == found_user.id)
            .order_by(ApiToken.created_at, ApiToken.id)
        )
        return [
            {
                "id": t.id,
                "prefix": t.prefix,
                "created_at": t.created_at,
                "revoked_at": t.revoked_at,
            }
            for t in found.scalars()
        ]

    _show(_run_read(work), as_json, title="Tokens")


@tokens.command("revoke")
def tokens_revoke(
    token: Annotated[str, typer.Argument(help="Token display prefix (sr_xxxxxxxx), token or id.")],
) -> None:
    """Revoke a token; requests with it get 401 from then on."""
    count = _run(lambda s: revoke_tokens(s, token))
    if count == 0:
        err.print("[red]no live token matches[/red]")
        raise typer.Exit(1)
    console.print(f"revoked {count} token(s)")


# --- CSV import and export ---------------------------------------------------------------------

# Files at least this big (about five thousand rows) get a progress bar.
PROGRESS_BAR_BYTES = 256 * 1024
# Errors listed in the table for people (`--json` lists them all).
SHOWN_ERRORS = 50
EXPORT_BATCH = 1000

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
            _print_json({"errors": [e.as_json() for e in rejected.errors]})
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
        _print_json({"imported": outcome})
    else:
        console.print(f"[green]imported {outcome} {what}[/green] in {seconds:.1f} s")


def _run_import(work: Callable[[AsyncSession], Awaitable[int]]) -> int | ImportRejected:
    """Run an import in one write transaction: the count, or the file's errors."""
    try:
        return _run(work)
    except ImportRejected as rejected:
        return rejected


@importer.command("products")
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
            await _require_brand(session, brand)
            return await import_products(session, brand, parsed, progress)

        outcome = _run_import(work)
    seconds = time.perf_counter() - started
    _report_import(outcome, what="products", as_json=as_json, seconds=seconds)


@importer.command("stock")
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
            await _require_brand(session, brand)
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


MovementTypeChoice = StrEnum("MovementTypeChoice", {t: t for t in MOVEMENT_TYPES})  # type: ignore[misc]


def _day(value: str) -> str:
    try:
        date.fromisoformat(value)
    except ValueError:
        raise typer.BadParameter(f"{value!r} is not a day in the form YYYY-MM-DD") from None
    return value


@exporter.command("movements")
def export_movements(
    brand: BrandOption,
    start: Annotated[
        str, typer.Option("--from", callback=_day, help="First day, YYYY-MM-DD (UTC), inclusive.")
    ],
    end: Annotated[
        str, typer.Option("--to", callback=_day, help="Last day, YYYY-MM-DD (UTC), inclusive.")
    ],
    file: Annotated[
        Path,
        typer.Argument(dir_okay=False, metavar="FILE.csv", help="Where to write; - for stdout."),
    ],
    site: Annotated[uuid.UUID | None, typer.Option(help="Only this site.")] = None,
    movement_type: Annotated[
        MovementTypeChoice | None, typer.Option("--type", help="Only this movement type.")
    ] = None,
    as_json: JsonFlag = False,
) -> None:
    """Write a brand's stock movements to CSV, newest first, read in keyset batches.

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
            await _require_brand(session, brand)
            query = await movement_report_query(session, _operator(brand), filters)
            return await _write_movements(session, query, out)

        return export

    started = time.perf_counter()
    if to_stdout:
        _run_read(work(sys.stdout))
        return
    # Written beside the target and renamed at the end: a failed export leaves no half file.
    handle, partial = tempfile.mkstemp(dir=file.parent, prefix=f".{file.name}.")
    try:
        with os.fdopen(handle, "w", newline="", encoding="utf-8") as out:
            count = _run_read(work(out))
        Path(partial).replace(file)
    finally:
        Path(partial).unlink(missing_ok=True)
    if as_json:
        _print_json({"exported": count, "file": str(file)})
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
            writer.writerow("" if row[c] is None else row[c] for c in CSV_COLUMNS)
        count += len(page)
        if cursor is None:
            return count


@app.command()
def verify(as_json: JsonFlag = False) -> None:
    """Check the ledger: levels equal their movements, no forbidden negatives, transfers pair up."""

    async def work() -> Report:
        engine = create_engine(get_settings(), pool=False)
        try:
            async with engine.connect() as conn:
                return await verify_ledger(conn)
        finally:
            await engine.dispose()

    report = asyncio.run(work())
    if as_json:
        _print_json(
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


if __name__ == "__main__":
    app()
