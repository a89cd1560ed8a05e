"""`stockroom users`: the users of a brand."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

import typer
from sqlalchemy.ext.asyncio import AsyncSession

from stockroom.auth.principal import Role
from stockroom.brands.service import get_brand
from stockroom.cli.common import BrandOption, JsonFlag, console, print_json, run, run_read, show
from stockroom.db.models import User
from stockroom.users.service import create_user, granted_sites, users_by_email

app = typer.Typer(name="users", help="Users of a brand.", no_args_is_help=True)


@app.command("list")
def users_list(brand: BrandOption, as_json: JsonFlag = False) -> None:
    """List the users of a brand, by email, with their granted sites."""

    async def work(session: AsyncSession) -> list[dict[str, Any]]:
        await get_brand(session, brand)
        found = await users_by_email(session, brand)
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

    show(
        run_read(work),
        as_json,
        title="Users",
        for_people=("id", "email", "role", "default_site_id", "site_ids"),
    )


@app.command("create")
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

    user = run(work)
    if as_json:
        print_json({"id": str(user.id)})
    else:
        console.print(f"user [bold]{user.email}[/bold] ({user.role}) created: {user.id}")
