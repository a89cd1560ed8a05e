"""`stockroom webhooks create|list|deliveries` and `stockroom worker --once`, as real commands."""

from __future__ import annotations

import asyncio
import json
import uuid

from standardwebhooks.webhooks import Webhook

from stockroom.db.engine import create_engine, create_sessionmaker
from stockroom.settings import Settings
from tests.cli.test_cli import fresh_url, json_of, stockroom  # noqa: F401  (fixture)
from tests.factories import Database
from tests.webhooks.helpers import Receiver, insert_events


async def test_operators_create_list_and_follow_deliveries_from_the_command_line(
    fresh_url: str,  # noqa: F811
) -> None:
    stockroom(fresh_url, "migrate")
    brand = str(json_of(stockroom(fresh_url, "demo", "--json"))["brand_id"])
    receiver = Receiver().start()
    try:
        created = json_of(
            stockroom(
                fresh_url,
                "webhooks",
                "create",
                "--brand",
                brand,
                "--url",
                receiver.url,
                "--event",
                "stock.low",
                "--json",
            )
        )
        assert str(created["secret"]).startswith("whsec_")
        listed = json_of(stockroom(fresh_url, "webhooks", "list", "--brand", brand, "--json"))
        assert [w["id"] for w in listed["data"]] == [created["id"]]  # type: ignore[index]
        assert "secret" not in json.dumps(listed)
        engine = create_engine(Settings(database_url=fresh_url))
        try:
            db = Database(engine, create_sessionmaker(engine))
            low, _ = await insert_events(db, uuid.UUID(brand), ["stock.low", "invoice.created"])
        finally:
            await engine.dispose()
        swept = json_of(await asyncio.to_thread(stockroom, fresh_url, "worker", "--once", "--json"))
        assert swept["webhook_attempts"] == 1
        assert receiver.delivered_ids() == [str(low)]
        Webhook(str(created["secret"])).verify(receiver.seen[0].body, receiver.seen[0].headers)
        log = json_of(
            stockroom(
                fresh_url, "webhooks", "deliveries", str(created["id"]), "--brand", brand, "--json"
            )
        )
        (delivery,) = log["data"]  # type: ignore[misc]
        assert delivery["status"] == "delivered" and delivery["event_id"] == str(low)
        assert delivery["attempts"][0]["status_code"] == 204
        people = stockroom(
            fresh_url, "webhooks", "deliveries", str(created["id"]), "--brand", brand
        )
        assert str(delivery["id"]) in people.stdout
        bad_url = stockroom(
            fresh_url,
            "webhooks",
            "create",
            "--brand",
            brand,
            "--url",
            "ftp://127.0.0.1/",
            check=False,
        )
        assert bad_url.returncode == 2 and "not allowed" in bad_url.stderr
        bad_type = stockroom(
            fresh_url,
            "webhooks",
            "create",
            "--brand",
            brand,
            "--url",
            receiver.url,
            "--event",
            "stock.nope",
            check=False,
        )
        assert bad_type.returncode == 2
    finally:
        receiver.stop()
