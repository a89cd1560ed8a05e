"""What every command group shares: running work in a transaction, printing for people
(a Rich table) or for scripts (`--json`), and the operator's principal."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from datetime import datetime
from typing import Annotated, Any, TypeVar

import typer
from rich.console import Console
from rich.table import Table
from sqlalchemy.ext.asyncio import AsyncSession

from stockroom.auth.principal import Principal, Role
from stockroom.db.engine import WRITE, create_engine, create_sessionmaker
from stockroom.errors import StockroomError
from stockroom.imports import ImportRejected
from stockroom.settings import get_settings

console = Console()
err = Console(stderr=True)
T = TypeVar("T")

JsonFlag = Annotated[bool, typer.Option("--json", help="Print JSON for scripts.")]
BrandOption = Annotated[uuid.UUID, typer.Option("--brand", help="Brand id.")]


@asynccontextmanager
async def transaction() -> AsyncIterator[AsyncSession]:
    engine = create_engine(get_settings(), pool=False)
    try:
        async with create_sessionmaker(engine)() as session:
            await session.connection(execution_options={WRITE: True})
            yield session
            await session.commit()
    finally:
        await engine.dispose()


def run(work: Callable[[AsyncSession], Awaitable[T]]) -> T:
    """Run work in one write transaction; a Stockroom error is printed and exits 2."""

    async def go() -> T:
        async with transaction() as session:
            return await work(session)

    try:
        return asyncio.run(go())
    except ImportRejected:
        raise  # listed line by line by the import commands
    except StockroomError as exc:
        details = "; ".join(f"{d['field']}: {d['message']}" for d in exc.details)
        err.print(f"[red]error:[/red] {exc.message}" + (f" ({details})" if details else ""))
        raise typer.Exit(2) from None


async def read(work: Callable[[AsyncSession], Awaitable[T]]) -> T:
    """Run read-only work (no write lock on SQLite)."""
    engine = create_engine(get_settings(), pool=False)
    try:
        async with create_sessionmaker(engine)() as session:
            return await work(session)
    finally:
        await engine.dispose()


def run_read(work: Callable[[AsyncSession], Awaitable[T]]) -> T:
    try:
        return asyncio.run(read(work))
    except StockroomError as exc:
        err.print(f"[red]error:[/red] {exc.message}")
        raise typer.Exit(2) from None


def print_json(value: Any) -> None:
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


def show(
    rows: list[dict[str, Any]],
    as_json: bool,
    *,
    title: str,
    for_people: tuple[str, ...] | None = None,
) -> None:
    """`{"data": [...]}` for scripts (RFC 3339 times); a table (of `for_people`) for people."""
    if as_json:
        print_json({"data": [{k: _json_value(v) for k, v in row.items()} for row in rows]})
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


def created(as_json: bool, what: str, label: str, new_id: uuid.UUID | int) -> None:
    """`{"id": ...}` for scripts; one line for people."""
    if as_json:
        print_json({"id": _json_value(new_id)})
    else:
        console.print(f"{what} [bold]{label}[/bold] created: {new_id}")


# The operator at the command line acts as an admin of the brand it names. It is no user, so
# what it writes carries no user id; this id only fills the field and is never stored.
_OPERATOR = uuid.UUID(int=0)


def operator(brand_id: uuid.UUID) -> Principal:
    return Principal(
        user_id=_OPERATOR,
        brand_id=brand_id,
        role=Role.admin,
        site_ids=frozenset(),
        default_site_id=None,
    )
