"""`stockroom webhooks`: create and list a brand's webhook endpoints, read their delivery log."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any

import typer
from sqlalchemy.ext.asyncio import AsyncSession

from stockroom.brands.service import get_brand
from stockroom.cli.common import (
    BrandOption,
    JsonFlag,
    console,
    operator,
    print_json,
    run,
    run_read,
    show,
)
from stockroom.events.rules import EVENT_TYPES
from stockroom.fields import rfc3339_utc
from stockroom.pagination import PageParams
from stockroom.settings import get_settings
from stockroom.webhooks import service
from stockroom.webhooks.schemas import WebhookCreate

app = typer.Typer(
    name="webhooks",
    help="Webhook endpoints: create, list, and their deliveries.",
    no_args_is_help=True,
)


def _plain(value: Any) -> Any:
    """JSON-ready: ids and times as text (RFC 3339), nested lists and objects too."""
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, datetime):
        return rfc3339_utc(value)
    return value


@app.command("create")
def webhooks_create(
    brand: BrandOption,
    url: Annotated[str, typer.Option(help="http(s) URL that receives the events.")],
    event: Annotated[
        list[str] | None,
        typer.Option("--event", help="An event type to send (repeatable); default every type."),
    ] = None,
    description: Annotated[str | None, typer.Option(help="What the endpoint is for.")] = None,
    as_json: JsonFlag = False,
) -> None:
    """Create an endpoint; prints its signing secret, which is shown only this once."""
    events = event or ["*"]
    unknown = sorted(set(events) - {"*", *EVENT_TYPES})
    if unknown:
        raise typer.BadParameter(f"unknown event type {unknown[0]}", param_hint="--event")
    body = WebhookCreate.model_validate({"url": url, "events": events, "description": description})

    async def work(session: AsyncSession) -> dict[str, Any]:
        await get_brand(session, brand)
        return await service.create_webhook(session, operator(brand), body, get_settings())

    created = run(work)
    if as_json:
        print_json({"id": str(created["id"]), "secret": created["secret"]})
    else:
        console.print(f"webhook [bold]{created['url']}[/bold] created: {created['id']}")
        console.print(f"signing secret (shown once): [bold]{created['secret']}[/bold]")


@app.command("list")
def webhooks_list(brand: BrandOption, as_json: JsonFlag = False) -> None:
    """List a brand's endpoints, newest first (never their secrets)."""

    async def work(session: AsyncSession) -> list[dict[str, Any]]:
        await get_brand(session, brand)
        rows, _ = await service.list_webhooks(
            session, operator(brand), PageParams(page=1, per_page=100)
        )
        return rows

    show(
        run_read(work),
        as_json,
        title="Webhooks",
        for_people=("id", "url", "events", "enabled", "failing_since"),
    )


@app.command("deliveries")
def webhooks_deliveries(
    webhook_id: Annotated[uuid.UUID, typer.Argument(help="The endpoint's id.")],
    brand: BrandOption,
    status: Annotated[str | None, typer.Option(help="pending, delivered or failed.")] = None,
    page: Annotated[int, typer.Option(min=1)] = 1,
    per_page: Annotated[int, typer.Option(min=1, max=100)] = 25,
    as_json: JsonFlag = False,
) -> None:
    """An endpoint's deliveries, newest event first, with their attempts."""
    if status not in (None, "pending", "delivered", "failed"):
        raise typer.BadParameter("pending, delivered or failed", param_hint="--status")

    async def work(session: AsyncSession) -> list[dict[str, Any]]:
        await get_brand(session, brand)
        rows, _ = await service.list_deliveries(
            session,
            operator(brand),
            webhook_id,
            PageParams(page=page, per_page=per_page),
            status=status,
        )
        return rows

    rows = run_read(work)
    if as_json:
        print_json({"data": [_plain(row) for row in rows]})
        return
    people = []
    for row in rows:
        last = row["attempts"][-1] if row["attempts"] else None
        people.append(
            {
                "id": row["id"],
                "event_type": row["event_type"],
                "status": row["status"],
                "attempts": row["attempt_count"],
                "last_status": last["status_code"] if last else None,
                "last_error": last["error"] if last else None,
                "next_attempt_at": row["next_attempt_at"],
            }
        )
    show(people, False, title="Deliveries")
