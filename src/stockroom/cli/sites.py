"""`stockroom sites`: where a brand holds stock."""

from __future__ import annotations

from typing import Annotated, Any

import typer
from sqlalchemy.ext.asyncio import AsyncSession

from stockroom.brands.service import get_brand
from stockroom.cli.common import BrandOption, JsonFlag, created, run, run_read, show
from stockroom.db.models import Site
from stockroom.sites.service import create_site, sites_by_name

app = typer.Typer(
    name="sites", help="Sites (where stock is held) of a brand.", no_args_is_help=True
)


@app.command("list")
def sites_list(brand: BrandOption, as_json: JsonFlag = False) -> None:
    """List the sites of a brand, by name."""

    async def work(session: AsyncSession) -> list[dict[str, Any]]:
        await get_brand(session, brand)
        return [
            {
                "id": s.id,
                "name": s.name,
                "allow_negative_stock": s.allow_negative_stock,
                "created_at": s.created_at,
            }
            for s in await sites_by_name(session, brand)
        ]

    show(
        run_read(work),
        as_json,
        title="Sites",
        for_people=("id", "name", "allow_negative_stock"),
    )


@app.command("create")
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
        await get_brand(session, brand)
        return await create_site(session, brand, name, allow_negative_stock=allow_negative)

    site = run(work)
    created(as_json, "site", site.name, site.id)
