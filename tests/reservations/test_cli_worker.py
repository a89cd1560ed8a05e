"""`stockroom reservations list|release`, `stockroom worker`, the worker inside `serve`, and
`stockroom verify`'s reserved check — real processes on real databases."""

from __future__ import annotations

import asyncio
import json
import sqlite3
import time
import uuid
from typing import Any

import asyncpg
import httpx
from sqlalchemy.engine import make_url

from stockroom.app import create_app
from stockroom.settings import Settings
from tests.cli.test_cli import fresh_url, json_of, stockroom  # noqa: F401  (fixture)
from tests.factories import Database, create_brand_with_admin, create_product, put_stock
from tests.reservations.conftest import Clock
from tests.reservations.helpers import line, reserve
from tests.reservations.test_expiry import stored_status
from tests.server import running_server


async def add_to_reserved(url: str, product_id: str) -> None:
    """Change a level's reserved units behind the writer's back."""
    if url.startswith("sqlite"):
        with sqlite3.connect(make_url(url).database or "") as conn:
            conn.execute(
                "UPDATE stock_levels SET reserved = reserved + 1 WHERE product_id = ?",
                (uuid.UUID(product_id).hex,),
            )
        return

    conn = await asyncpg.connect(make_url(url).set(drivername="postgresql").render_as_string(False))
    try:
        await conn.execute(
            "UPDATE stock_levels SET reserved = reserved + 1 WHERE product_id = $1",
            uuid.UUID(product_id),
        )
    finally:
        await conn.close()


async def test_operators_list_release_and_sweep_from_the_command_line(
    fresh_url: str,  # noqa: F811
    frozen_clock: Clock,
) -> None:
    stockroom(fresh_url, "migrate")
    demo = json_of(stockroom(fresh_url, "demo", "--json"))
    brand, product = str(demo["brand_id"]), str(demo["product_ids"][0])  # type: ignore[index]
    headers = {"Authorization": f"Bearer {demo['token']}"}
    app = create_app(Settings(database_url=fresh_url))
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:

            async def hold(quantity: int, reference: str, ttl: int) -> dict[str, Any]:
                response = await client.post(
                    "/inventory/reservations",
                    headers=headers,
                    json={
                        "lines": [{"product_id": product, "quantity": quantity}],
                        "reference": reference,
                        "ttl_seconds": ttl,
                    },
                )
                assert response.status_code == 201, response.text
                return dict(response.json())

            start = frozen_clock.now
            frozen_clock.advance(hours=-1)  # made an hour ago: long expired on the wall clock
            old = await hold(1, "OLD", 60)
            frozen_clock.set(start)  # the CLI runs on the wall clock: this one stays live
            live = await hold(3, "LIVE", 30 * 24 * 3600)

    listed = json_of(stockroom(fresh_url, "reservations", "list", "--brand", brand, "--json"))
    by_ref = {r["reference"]: r for r in listed["data"]}  # type: ignore[attr-defined]
    assert (by_ref["OLD"]["status"], by_ref["LIVE"]["status"]) == ("expired", "active")
    assert by_ref["LIVE"]["held"] == 3

    swept = json_of(stockroom(fresh_url, "worker", "--once", "--json"))
    assert swept == {"expired_reservations": 1}

    part = json_of(
        stockroom(
            fresh_url,
            "reservations",
            "release",
            live["id"],
            "--brand",
            brand,
            "--product",
            product,
            "--quantity",
            "1",
            "--json",
        )
    )
    assert (part["status"], part["held"]) == ("active", 2)
    rest = json_of(
        stockroom(fresh_url, "reservations", "release", live["id"], "--brand", brand, "--json")
    )
    assert (rest["status"], rest["held"]) == ("released", 0)
    again = stockroom(
        fresh_url, "reservations", "release", live["id"], "--brand", brand, check=False
    )
    assert again.returncode == 2
    assert "released" in again.stderr
    assert json_of(stockroom(fresh_url, "verify", "--json"))["ok"] is True
    assert old["id"] != live["id"]  # (the old one was the one swept)

    await add_to_reserved(fresh_url, product)
    tampered = stockroom(fresh_url, "verify", "--json", check=False)
    failed = [c["name"] for c in json.loads(tampered.stdout)["checks"] if not c["ok"]]
    assert tampered.returncode == 1
    assert failed == ["levels' reserved equal what active reservations hold"]


async def test_serve_runs_the_sweeper_inside_by_default(
    client: httpx.AsyncClient, db: Database, database_url: str, frozen_clock: Clock
) -> None:
    brand = await create_brand_with_admin(db)
    product = await create_product(brand)
    await put_stock(brand, product, 5)
    frozen_clock.advance(hours=-1)
    reservation = (await reserve(client, brand, [line(product, 2)], ttl_seconds=60)).json()

    with running_server(database_url, workers=1):
        # The server's own worker records the expiry; wait for it (no timing asserted).
        deadline = time.monotonic() + 60
        while await stored_status(db, reservation["id"]) != "expired":
            assert time.monotonic() < deadline, "the server's worker never swept"
            await asyncio.sleep(0.2)
