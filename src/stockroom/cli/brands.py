"""`stockroom brands`: the tenants."""

from __future__ import annotations

from typing import Annotated, Any

import typer
from sqlalchemy.ext.asyncio import AsyncSession

from stockroom.brands.service import create_brand, list_brands
from stockroom.cli.common import JsonFlag, created, run, run_read, show

app = typer.Typer(name="brands", help="Brands (tenants).", no_args_is_help=True)


@app.command("create")
def brands_create(
    name: Annotated[str, typer.Option(help="Brand name.")], as_json: JsonFlag = False
) -> None:
    """Create a brand."""
    brand = run(lambda s: create_brand(s, name))
    created(as_json, "brand", brand.name, brand.id)


@app.command("list")
def brands_list(as_json: JsonFlag = False) -> None:
    """List every brand, oldest first."""

    async def work(session: AsyncSession) -> list[dict[str, Any]]:
        return [
            {"id": b.id, "name": b.name, "created_at": b.created_at}
            for b in await list_brands(session)
        ]

    show(run_read(work), as_json, title="Brands")
