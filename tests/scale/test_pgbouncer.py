"""Behind PgBouncer in transaction pooling mode (Debian 12's 1.18): the service starts, its
timeouts hold per transaction, and its prepared statements survive shared server connections.

The concurrency (test_hammer.py) and idempotency suites also run on the `pgbouncer` backend
(tests/conftest.py); these tests pin down what makes that work.
"""

from __future__ import annotations

import asyncio
import uuid

import asyncpg
import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url

from stockroom.db.engine import create_engine
from stockroom.settings import Settings
from tests.factories import Database, create_brand_with_admin, create_product
from tests.server import running_server
from tests.services import running_pgbouncer


def _dsn(url: str) -> str:
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


async def test_pgbouncer_refuses_timeouts_as_startup_parameters_so_they_are_set_per_transaction(
    pgbouncer_url: str,
) -> None:
    # What the service used to do, and why it could not start behind PgBouncer.
    with pytest.raises(asyncpg.PostgresError, match="unsupported startup parameter"):
        await asyncpg.connect(_dsn(pgbouncer_url), server_settings={"lock_timeout": "5000"})

    engine = create_engine(
        Settings(
            database_url=pgbouncer_url,
            database_pooler="pgbouncer",
            lock_timeout_seconds=7,
            statement_timeout_seconds=11,
        )
    )
    try:
        async with engine.connect() as conn:
            lock = (await conn.execute(text("SHOW lock_timeout"))).scalar()
            statement = (await conn.execute(text("SHOW statement_timeout"))).scalar()
        assert (lock, statement) == ("7s", "11s")
    finally:
        await engine.dispose()


async def test_a_server_with_two_workers_serves_through_a_pgbouncer_of_two_server_connections(
    postgres_url: str,
) -> None:
    # Two server connections shared by two workers' pools: statements of different clients
    # meet on the same server connection, where asyncpg's default statement names collide.
    with running_pgbouncer(postgres_url, pool_size=2) as port:
        url = make_url(postgres_url).set(port=port).render_as_string(hide_password=False)
        engine = create_engine(Settings(database_url=url, database_pooler="pgbouncer"))
        from stockroom.db.engine import create_sessionmaker

        db = Database(engine, create_sessionmaker(engine))
        try:
            brand = await create_brand_with_admin(db)
            product = await create_product(brand)
            with running_server(url, workers=2) as server:
                async with httpx.AsyncClient(base_url=server.base_url, timeout=60) as client:

                    async def add_and_read(n: int) -> tuple[int, int]:
                        write = await client.post(
                            "/inventory/adjustments",
                            headers={
                                **brand.admin.headers,
                                "Idempotency-Key": str(uuid.uuid4()),
                            },
                            json={"product_id": str(product), "quantity": n},
                        )
                        read = await client.get("/inventory/movements", headers=brand.admin.headers)
                        return write.status_code, read.status_code

                    results = await asyncio.gather(*(add_and_read(1) for _ in range(40)))
                    stock = await client.get(
                        f"/inventory/products/{product}/stock", headers=brand.admin.headers
                    )
        finally:
            await engine.dispose()
    assert set(results) == {(201, 200)}
    assert stock.json()["total"] == 40
