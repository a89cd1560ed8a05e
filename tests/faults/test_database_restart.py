"""PostgreSQL restarting (`-m immediate`) under load: no acknowledged write lost, pool recovers.

It uses a private PostgreSQL instance (initdb in a temporary directory, its own port), so
restarting it disturbs nothing else on the machine.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import subprocess
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy import select

from stockroom.db.engine import create_engine, create_sessionmaker
from stockroom.db.models import StockMovement
from stockroom.ledger.verify import verify_ledger
from stockroom.settings import Settings
from tests.factories import Database, create_brand_with_admin, create_product
from tests.server import free_port, start_server

PG_BIN = Path("/usr/lib/postgresql")


def _pg_tool(name: str) -> str | None:
    found = sorted(PG_BIN.glob(f"*/bin/{name}"))
    return str(found[-1]) if found else shutil.which(name)


def _as_postgres(*command: str) -> list[str]:
    # initdb refuses to run as root; run the private instance as the postgres user.
    return ["runuser", "-u", "postgres", "--", *command] if os.geteuid() == 0 else list(command)


class PrivatePostgres:
    def __init__(self, root: Path) -> None:
        self.data = root / "data"
        self.port = free_port()
        self.socket_dir = root
        self.pg_ctl = _pg_tool("pg_ctl")
        self.initdb = _pg_tool("initdb")

    @property
    def url(self) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    def _ctl(self, *args: str) -> None:
        assert self.pg_ctl
        options = f"-p {self.port} -k {self.socket_dir} -c listen_addresses=127.0.0.1 -c fsync=on"
        subprocess.run(
            _as_postgres(self.pg_ctl, "-D", str(self.data), "-o", options, "-w", "-t", "60", *args),
            check=True,
            capture_output=True,
        )

    def init(self) -> None:
        assert self.initdb
        subprocess.run(
            _as_postgres(self.initdb, "-D", str(self.data), "-A", "trust", "-U", "postgres"),
            check=True,
            capture_output=True,
        )
        self._ctl("-l", str(self.socket_dir / "log"), "start")

    def restart_immediately(self) -> None:
        self._ctl("-m", "immediate", "-l", str(self.socket_dir / "log"), "restart")

    def stop(self) -> None:
        self._ctl("-m", "immediate", "stop")


@pytest.fixture
def private_postgres() -> Iterator[PrivatePostgres]:
    if not (_pg_tool("initdb") and _pg_tool("pg_ctl")):
        if os.environ.get("CI") == "true":
            pytest.fail("initdb/pg_ctl are needed for the database-restart test")
        pytest.skip("no PostgreSQL server binaries here")
    # Not under pytest's private (0700, root-owned) temp tree: the postgres user must reach it.
    root = Path(tempfile.mkdtemp(prefix="stockroom-pg-"))
    if os.geteuid() == 0:
        shutil.chown(root, "postgres")
    instance = PrivatePostgres(root)
    instance.init()
    try:
        yield instance
    finally:
        instance.stop()
        shutil.rmtree(root, ignore_errors=True)


async def test_postgres_restart_under_load_loses_no_acknowledged_write_and_the_pool_recovers(
    private_postgres: PrivatePostgres,
) -> None:
    url = private_postgres.url
    server = start_server(url, workers=2)
    engine = create_engine(Settings(database_url=url))
    db = Database(engine, create_sessionmaker(engine))
    acknowledged: set[str] = set()
    statuses: list[int] = []
    try:
        brand = await create_brand_with_admin(db)
        product = await create_product(brand)
        stop = asyncio.Event()

        async def writer(client: httpx.AsyncClient) -> None:
            while not stop.is_set():
                try:
                    response = await client.post(
                        f"{server.base_url}/inventory/adjustments",
                        headers=brand.admin.headers,
                        json={"product_id": str(product), "quantity": 1},
                    )
                except httpx.HTTPError:
                    continue
                statuses.append(response.status_code)
                if response.status_code == 201:
                    acknowledged.add(response.json()["id"])
                else:
                    assert response.json()["error"]["code"] == "unavailable"
                    await asyncio.sleep(0.05)

        async with httpx.AsyncClient(timeout=30) as client:
            tasks = [asyncio.create_task(writer(client)) for _ in range(8)]
            await asyncio.sleep(1.0)
            before_restart = len(acknowledged)
            await asyncio.to_thread(private_postgres.restart_immediately)
            await asyncio.sleep(3.0)
            stop.set()
            await asyncio.gather(*tasks)
            after = await client.post(
                f"{server.base_url}/inventory/adjustments",
                headers={**brand.admin.headers, "Idempotency-Key": str(uuid.uuid4())},
                json={"product_id": str(product), "quantity": 1},
            )

        await engine.dispose()  # its connections died with the restart
        assert before_restart > 0
        assert after.status_code == 201, after.text
        assert len(acknowledged) > before_restart, "the service never recovered after the restart"
        assert set(statuses) <= {201, 503}
        async with db.sessionmaker() as session:
            stored = {
                str(i)
                for i in (
                    await session.execute(
                        select(StockMovement.id).where(StockMovement.brand_id == brand.id)
                    )
                ).scalars()
            }
        assert acknowledged <= stored
        async with engine.connect() as conn:
            assert (await verify_ledger(conn)).ok
    finally:
        server.stop()
        await engine.dispose()
