"""`stockroom reservations`: list and release reservations, as the API does, for operators."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

import typer
from sqlalchemy.ext.asyncio import AsyncSession

from stockroom.brands.service import get_brand
from stockroom.cli.common import BrandOption, JsonFlag, operator, print_json, run, run_read, show
from stockroom.pagination import PageParams
from stockroom.reservations import service
from stockroom.reservations.schemas import ReleaseLine, ReservationRelease

app = typer.Typer(
    name="reservations", help="Stock held for orders: list, release.", no_args_is_help=True
)


def _row(reservation: dict[str, Any]) -> dict[str, Any]:
    lines = [line | {"product_id": str(line["product_id"])} for line in reservation["lines"]]
    held = sum(line["remaining"] for line in lines)
    return {**reservation, "lines": lines, "held": held}


@app.command("list")
def reservations_list(
    brand: BrandOption,
    site: Annotated[uuid.UUID | None, typer.Option("--site", help="Only this site.")] = None,
    status: Annotated[
        str | None, typer.Option(help="active, consumed, released or expired.")
    ] = None,
    reference: Annotated[str | None, typer.Option(help="Only this reference.")] = None,
    product: Annotated[
        uuid.UUID | None, typer.Option("--product", help="Only with a line of this product.")
    ] = None,
    page: Annotated[int, typer.Option(min=1)] = 1,
    per_page: Annotated[int, typer.Option(min=1, max=100)] = 25,
    as_json: JsonFlag = False,
) -> None:
    """List a brand's reservations, newest first (status `expired` from expires_at on)."""
    if status not in (None, "active", "consumed", "released", "expired"):
        raise typer.BadParameter("active, consumed, released or expired", param_hint="--status")

    async def work(session: AsyncSession) -> list[dict[str, Any]]:
        await get_brand(session, brand)
        rows, _ = await service.list_reservations(
            session,
            operator(brand),
            PageParams(page=page, per_page=per_page),
            site_id=site,
            status=status,
            reference=reference,
            product_id=product,
        )
        return [_row(r) for r in rows]

    show(
        run_read(work),
        as_json,
        title="Reservations",
        for_people=("id", "status", "reference", "held", "expires_at", "site_id"),
    )


@app.command("release")
def reservations_release(
    reservation_id: Annotated[uuid.UUID, typer.Argument(help="The reservation's id.")],
    brand: BrandOption,
    product: Annotated[
        uuid.UUID | None,
        typer.Option("--product", help="Release only units of this product (with --quantity)."),
    ] = None,
    quantity: Annotated[int | None, typer.Option(min=1, help="Units to release.")] = None,
    location: Annotated[int | None, typer.Option("--location", help="Location id.")] = None,
    as_json: JsonFlag = False,
) -> None:
    """Release all that a reservation holds, or `--quantity` units of `--product`."""
    if (product is None) != (quantity is None):
        raise typer.BadParameter("give --product and --quantity together", param_hint="--quantity")
    lines = None
    if product is not None and quantity is not None:
        lines = [ReleaseLine(product_id=product, quantity=quantity, location_id=location)]

    async def work(session: AsyncSession) -> dict[str, Any]:
        await get_brand(session, brand)
        return await service.release_reservation(
            session, operator(brand), reservation_id, ReservationRelease(lines=lines)
        )

    released = _row(run(work))
    if as_json:
        print_json(
            {
                "id": str(released["id"]),
                "status": released["status"],
                "held": released["held"],
            }
        )
    else:
        typer.echo(
            f"reservation {released['id']}: {released['status']}, {released['held']} units held"
        )
