"""SQL statements one write request sends, by kind of write (the writer's hot path).

    .venv/bin/python -m bench.statements postgresql://postgres@127.0.0.1:5432/postgres

Makes a scratch database (PostgreSQL: created and dropped; SQLite: a temporary file), a
brand with a product, and counts every statement the app sends (BEGIN/COMMIT included)
for one request of each kind, after a warm-up request of the same kind.
"""

from __future__ import annotations

import asyncio
import sys
import tempfile
from typing import Any

import httpx
from sqlalchemy import event
from tests.conftest import _create_postgres_database, _drop_postgres_database
from tests.factories import Database, create_brand_with_admin, create_product, create_site

from stockroom.app import create_app
from stockroom.db.engine import create_engine, create_sessionmaker
from stockroom.db.migrate import upgrade_database
from stockroom.settings import Settings


async def measure(url: str) -> None:
    settings = Settings(database_url=url)
    db_engine = create_engine(settings)
    db = Database(db_engine, create_sessionmaker(db_engine))
    brand = await create_brand_with_admin(db)
    lenient = await create_site(brand, name="Lenient", allow_negative_stock=True)
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        count = [0]

        def on_execute(*_: Any) -> None:
            count[0] += 1

        sync_engine = app.state.engine.sync_engine
        event.listen(sync_engine, "before_cursor_execute", on_execute)
        event.listen(sync_engine, "begin", on_execute)
        event.listen(sync_engine, "commit", on_execute)
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://x") as client:

            async def post(body: dict[str, Any]) -> int:
                count[0] = 0
                response = await client.post(
                    "/inventory/adjustments", headers=brand.admin.headers, json=body
                )
                assert response.status_code in (201, 409, 422), response.text
                return count[0]

            async def kind(name: str, make: Any) -> None:
                products = [str(await create_product(brand)) for _ in range(3)]
                counts = []
                for i in range(3):
                    counts.append(await post(make(products, i)))
                print(f"{name:<44} {counts[-1]:>3}   (first: {counts[0]})")

            print(f"{'request':<44} statements")
            await kind("+1", lambda p, i: {"product_id": p[0], "quantity": 1})
            await kind(
                "+5 then -1 (stays >= 0)",
                lambda p, i: {"product_id": p[0], "quantity": 5 if i == 0 else -1},
            )
            await kind(
                "-1 below zero, site allows it",
                lambda p, i: {"product_id": p[0], "quantity": -1, "site_id": str(lenient)},
            )
            await kind(
                "expected_on_hand (matches)",
                lambda p, i: {"product_id": p[0], "quantity": 1, "expected_on_hand": i},
            )
            await kind(
                "expected_on_hand (stale)",
                lambda p, i: {"product_id": p[0], "quantity": 1, "expected_on_hand": 99},
            )
            await kind(
                "batch of 3 products (+1 each)",
                lambda p, i: {
                    "reason": "recount",
                    "products": [{"product_id": q, "quantity": 1} for q in p],
                },
            )
    await db_engine.dispose()


def main() -> None:
    target = sys.argv[1] if len(sys.argv) > 1 else "sqlite"
    if target == "sqlite":
        with tempfile.TemporaryDirectory() as tmp:
            url = f"sqlite:///{tmp}/statements.db"
            upgrade_database(url)
            asyncio.run(measure(url))
        return
    url = _create_postgres_database(target)
    try:
        upgrade_database(url)
        asyncio.run(measure(url))
    finally:
        _drop_postgres_database(target, url)


if __name__ == "__main__":
    main()
