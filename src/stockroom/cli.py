"""The `stockroom` command: serve, migrate, demo data, brands, users, tokens, verify."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer
from rich.console import Console
from rich.table import Table
from sqlalchemy.ext.asyncio import AsyncSession

from stockroom.auth.dependencies import load_principal
from stockroom.auth.principal import Role
from stockroom.brands.service import create_brand
from stockroom.db.engine import WRITE, create_engine, create_sessionmaker
from stockroom.db.migrate import upgrade_database
from stockroom.db.models import User
from stockroom.demo import Demo, create_demo
from stockroom.errors import StockroomError, Unauthenticated
from stockroom.ledger.verify import Report, verify_ledger
from stockroom.settings import get_settings
from stockroom.users.service import create_token, create_user, revoke_tokens

app = typer.Typer(help="Stockroom: inventory from an append-only ledger.", no_args_is_help=True)
brands = typer.Typer(help="Brands (tenants).", no_args_is_help=True)
users = typer.Typer(help="Users of a brand.", no_args_is_help=True)
tokens = typer.Typer(help="API tokens.", no_args_is_help=True)
app.add_typer(brands, name="brands")
app.add_typer(users, name="users")
app.add_typer(tokens, name="tokens")

console = Console()
err = Console(stderr=True)
T = TypeVar("T")

JsonFlag = Annotated[bool, typer.Option("--json", help="Print JSON for scripts.")]
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
    except StockroomError as exc:
        details = "; ".join(f"{d['field']}: {d['message']}" for d in exc.details)
        err.print(f"[red]error:[/red] {exc.message}" + (f" ({details})" if details else ""))
        raise typer.Exit(2) from None


def _print_json(value: Any) -> None:
    typer.echo(json.dumps(value))


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
) -> None:
    """Migrate, then serve the HTTP API (docs at /docs)."""
    import uvicorn

    settings = get_settings()
    upgrade_database(settings.database_url)
    base = f"http://{host}:{port}"
    if seed_demo:
        token = _demo_token()
        console.print(f"\n[bold]Stockroom[/bold] on {base}  —  interactive docs: {base}/docs")
        console.print(f"Demo admin token: [bold]{token}[/bold]")
        console.print("Try it:")
        typer.echo(f'  curl -H "Authorization: Bearer {token}" {base}/inventory/adjustments\n')
    uvicorn.run(
        "stockroom.app:create_app",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        log_level="info",
        access_log=False,
    )


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
