"""`stockroom locations`: bin locations inside a site."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

import typer
from sqlalchemy.ext.asyncio import AsyncSession

from stockroom.cli.common import JsonFlag, created, operator, run, run_read, show
from stockroom.db.models import Location
from stockroom.sites.service import add_location, find_site, locations_by_name

app = typer.Typer(name="locations", help="Bin locations inside a site.", no_args_is_help=True)

SiteOption = Annotated[uuid.UUID, typer.Option(help="Site id.")]


@app.command("list")
def locations_list(site: SiteOption, as_json: JsonFlag = False) -> None:
    """List the bin locations of a site, by name."""

    async def work(session: AsyncSession) -> list[dict[str, Any]]:
        found_site = await find_site(session, site)
        return [
            {"id": loc.id, "name": loc.name, "created_at": loc.created_at}
            for loc in await locations_by_name(session, found_site)
        ]

    show(run_read(work), as_json, title="Locations")


@app.command("create")
def locations_create(
    site: SiteOption,
    name: Annotated[str, typer.Option(help="Location name (unique in the site).")],
    as_json: JsonFlag = False,
) -> None:
    """Create a bin location inside a site."""

    async def work(session: AsyncSession) -> Location:
        found_site = await find_site(session, site)
        return await add_location(session, operator(found_site.brand_id), found_site.id, name)

    location = run(work)
    created(as_json, "location", location.name, location.id)
