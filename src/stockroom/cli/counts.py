"""`stockroom counts`: physical counts for operators, through the same service as the API."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

import typer
from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncSession

from stockroom.cli.common import JsonFlag, console, created, err, operator, print_json, run, show
from stockroom.counts import service
from stockroom.counts.schemas import CountLineIn, CountStart
from stockroom.errors import ValidationFailed, field_error
from stockroom.sites.service import find_site

app = typer.Typer(name="counts", help="Physical stock counts.", no_args_is_help=True)

CountArgument = Annotated[uuid.UUID, typer.Argument(help="Count id.")]
LINE_HELP = (
    "PRODUCT=QUANTITY or PRODUCT@LOCATION=QUANTITY (PRODUCT: id or SKU; LOCATION: location id "
    "of a location-aware product). Repeat for more lines."
)


@app.command("start")
def counts_start(
    site: Annotated[uuid.UUID, typer.Option(help="Site to count.")],
    location: Annotated[
        int | None, typer.Option(help="Count only this location (location-aware products).")
    ] = None,
    product: Annotated[
        list[str] | None,
        typer.Option(help="A product to count (id or SKU); repeat. Default: every product."),
    ] = None,
    notes: Annotated[
        str | None, typer.Option(help="Notes, kept on the recount adjustments.")
    ] = None,
    as_json: JsonFlag = False,
) -> None:
    """Open a count of a site (or one of its locations); prints its id."""

    async def work(session: AsyncSession) -> dict[str, Any]:
        found = await find_site(session, site)
        principal = operator(found.brand_id)
        product_ids = None
        if product:
            product_ids = await _resolve(session, found.brand_id, product, "--product")
        body = _validated(
            CountStart,
            {
                "site_id": site,
                "location_id": location,
                "product_ids": product_ids,
                "notes": notes,
            },
        )
        return await service.start_count(session, principal, body, None, user_id=None)

    count = run(work)
    created(as_json, "count at site", str(site), count["id"])


@app.command("record")
def counts_record(
    count_id: CountArgument,
    line: Annotated[list[str], typer.Option("--line", help=LINE_HELP)],
    as_json: JsonFlag = False,
) -> None:
    """Record counted quantities (the latest entry per product and location wins)."""

    async def work(session: AsyncSession) -> dict[str, Any]:
        count = await service.find_count(session, count_id)
        parsed = [_parse_line(i, text) for i, text in enumerate(line)]
        ids = await _resolve(session, count.brand_id, [p for p, _, _ in parsed], "--line")
        lines = [
            _validated(
                CountLineIn,
                {"product_id": pid, "location_id": loc, "counted_quantity": qty},
            )
            for pid, (_, loc, qty) in zip(ids, parsed, strict=True)
        ]
        return await service.record_lines(
            session, operator(count.brand_id), count.id, lines, user_id=None
        )

    count = run(work)
    _show_lines(count, as_json)


@app.command("complete")
def counts_complete(
    count_id: CountArgument,
    zero_uncounted: Annotated[
        bool, typer.Option("--zero-uncounted", help="Count what has no line as 0.")
    ] = False,
    as_json: JsonFlag = False,
) -> None:
    """Apply the count: one `recount` adjustment per line whose count differs."""

    async def work(session: AsyncSession) -> dict[str, Any]:
        count = await service.find_count(session, count_id)
        return await service.complete_count(
            session,
            operator(count.brand_id),
            count.id,
            zero_uncounted=zero_uncounted,
            user_id=None,
        )

    count = run(work)
    adjustments = [
        {
            "id": m["id"],
            "product_id": m["product_id"],
            "location_id": m["location_id"],
            "quantity": m["quantity"],
        }
        for m in count["movements"]
    ]
    if as_json:
        print_json(
            {
                "id": str(count["id"]),
                "status": count["status"],
                "movements": [
                    {k: (str(v) if isinstance(v, uuid.UUID) else v) for k, v in m.items()}
                    for m in adjustments
                ],
            }
        )
        return
    console.print(f"count {count['id']} completed: {len(adjustments)} recount adjustment(s)")
    if adjustments:
        show(adjustments, False, title="Recount adjustments")


def _parse_line(index: int, text: str) -> tuple[str, int | None, int]:
    target, sep, quantity = text.rpartition("=")
    product, at, location = target.partition("@")
    try:
        if not sep or not product:
            raise ValueError
        return product, int(location) if at else None, int(quantity)
    except ValueError:
        raise ValidationFailed(
            "A line is not PRODUCT=QUANTITY or PRODUCT@LOCATION=QUANTITY.",
            [field_error(f"--line[{index}]", f"cannot read {text!r}")],
        ) from None


async def _resolve(
    session: AsyncSession, brand_id: uuid.UUID, references: list[str], option: str
) -> list[uuid.UUID]:
    found = await service.products_by_reference(session, brand_id, references)
    missing = [
        field_error(f"{option}[{i}]", f"no product {ref!r} in the brand")
        for i, ref in enumerate(references)
        if ref not in found
    ]
    if missing:
        raise ValidationFailed("Some products are unknown.", missing)
    return [found[ref] for ref in references]


def _validated(model: Any, values: dict[str, Any]) -> Any:
    try:
        return model.model_validate(values)
    except ValidationError as exc:
        raise ValidationFailed(
            "Invalid input.",
            [
                field_error(".".join(str(p) for p in e["loc"]) or "input", e["msg"])
                for e in exc.errors()
            ],
        ) from None


def _show_lines(count: dict[str, Any], as_json: bool) -> None:
    rows = [
        {
            "product_id": line["product_id"],
            "location_id": line["location_id"],
            "counted_quantity": line["counted_quantity"],
            "expected": line["expected"],
            "variance": line["variance"],
            "counted_at": line["counted_at"],
        }
        for line in count["lines"]
    ]
    if not as_json:
        err.print(f"count {count['id']} ({count['status']})")
    show(rows, as_json, title="Count lines")
