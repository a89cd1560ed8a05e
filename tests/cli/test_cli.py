"""The `stockroom` command as scripts use it: exact `--json` outputs, exit codes, real databases."""

from __future__ import annotations

import asyncio
import json
import os
import sqlite3
import subprocess
import sys
import traceback
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import asyncpg
import httpx
import pytest
from sqlalchemy.engine import make_url
from typer.testing import CliRunner

from stockroom import clock
from stockroom.app import create_app
from stockroom.cli import app as cli_app
from stockroom.db.migrate import upgrade_database
from stockroom.settings import Settings, get_settings
from tests.conftest import _create_postgres_database, _drop_postgres_database

STOCKROOM = [sys.executable, "-m", "stockroom.cli"]


@pytest.fixture(params=["sqlite", "postgres"])
def fresh_url(
    request: pytest.FixtureRequest, tmp_path: Path, postgres_server: str | None
) -> Iterator[str]:
    """A database of its own (verify looks at every brand, so it must not share one)."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'cli.db'}"
        return
    if postgres_server is None:
        pytest.skip("PostgreSQL does not answer")
    url = _create_postgres_database(postgres_server)
    try:
        yield url
    finally:
        _drop_postgres_database(postgres_server, url)


@dataclass
class Ran:
    """What a script sees of one `stockroom` command: exit code, stdout, stderr."""

    args: list[str]
    returncode: int
    stdout: str
    stderr: str


def stockroom(url: str, *args: str, check: bool = True) -> Ran:
    """Run `stockroom ARGS` against `url` as a script would, in this process.

    The command is the installed Typer app, run by Click's test runner in a thread of its own
    (so its `asyncio.run` never meets the test's event loop), with `STOCKROOM_DATABASE_URL`
    set, fresh settings, and the wall clock (a test's fixed clock stays the test's, as it
    would for another process). Same exit codes, stdout and stderr as the real command, without
    a Python start-up and import per call (about 1.4 s of CPU each); `stockroom_process` runs
    the real executable where the process itself is what is tested."""

    def invoke() -> Ran:
        get_settings.cache_clear()
        try:
            result = CliRunner().invoke(
                cli_app,
                list(args),
                env={"STOCKROOM_DATABASE_URL": url},
                prog_name="stockroom",
            )
        finally:
            get_settings.cache_clear()
        stderr = result.stderr
        if result.exception is not None and not isinstance(result.exception, SystemExit):
            trace = "".join(traceback.format_exception(result.exception))
            stderr = f"{stderr}{trace}"
        return Ran(list(args), result.exit_code, result.stdout, stderr)

    frozen = clock.fixed()
    clock.set_now(None)
    try:
        with ThreadPoolExecutor(max_workers=1) as pool:
            ran = pool.submit(invoke).result(timeout=120)
    finally:
        clock.set_now(frozen)
    if check and ran.returncode != 0:
        raise AssertionError(f"stockroom {args} failed: {ran.stdout}\n{ran.stderr}")
    return ran


def stockroom_process(url: str, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    """Run the real `python -m stockroom.cli ARGS` in a process of its own."""
    env = {**os.environ, "STOCKROOM_DATABASE_URL": url}
    result = subprocess.run(
        [*STOCKROOM, *args], env=env, capture_output=True, text=True, timeout=120
    )
    if check and result.returncode != 0:
        raise AssertionError(f"stockroom {args} failed: {result.stdout}\n{result.stderr}")
    return result


def json_of(result: Ran | subprocess.CompletedProcess[str]) -> dict[str, object]:
    value = json.loads(result.stdout)
    assert isinstance(value, dict)
    return value


def tamper_with_level(url: str, product_id: str) -> None:
    """Change a level behind the ledger's back, as a buggy writer or a hand edit would."""
    if url.startswith("sqlite"):
        with sqlite3.connect(make_url(url).database or "") as conn:
            conn.execute(
                "UPDATE stock_levels SET on_hand = on_hand + 1 WHERE product_id = ?",
                (uuid.UUID(product_id).hex,),
            )
        return

    async def update() -> None:
        conn = await asyncpg.connect(
            make_url(url).set(drivername="postgresql").render_as_string(False)
        )
        try:
            await conn.execute(
                "UPDATE stock_levels SET on_hand = on_hand + 1 WHERE product_id = $1",
                uuid.UUID(product_id),
            )
        finally:
            await conn.close()

    asyncio.run(update())


async def test_demo_prints_a_working_token_and_a_new_brand_each_call(fresh_url: str) -> None:
    # The real executable, in processes of their own (the other CLI tests run it in process).
    stockroom_process(fresh_url, "migrate")
    first = json_of(stockroom_process(fresh_url, "demo", "--json"))
    second = json_of(stockroom_process(fresh_url, "demo", "--json"))

    assert set(first) == {"brand_id", "user_id", "token", "site_ids", "product_ids"}
    assert first["brand_id"] != second["brand_id"]
    assert len(first["site_ids"]) == 2  # type: ignore[arg-type]
    app = create_app(Settings(database_url=fresh_url))
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
            headers = {"Authorization": f"Bearer {first['token']}"}
            product = first["product_ids"][0]  # type: ignore[index]
            stock = await client.get(f"/inventory/products/{product}/stock", headers=headers)
            listed = await client.get("/inventory/adjustments", headers=headers)
    assert listed.status_code == 200
    assert listed.json()["meta"]["total"] >= 1
    assert stock.status_code in (200, 404)  # 404 until the stock endpoint exists


def test_brand_user_token_commands_chain_and_revoke_takes_effect(fresh_url: str) -> None:
    upgrade_database(fresh_url)
    brand = json_of(stockroom(fresh_url, "brands", "create", "--name", "Corner shop", "--json"))
    user = json_of(
        stockroom(
            fresh_url,
            "users",
            "create",
            "--brand",
            str(brand["id"]),
            "--email",
            "owner@example.com",
            "--role",
            "admin",
            "--json",
        )
    )
    token = json_of(stockroom(fresh_url, "tokens", "create", "--user", str(user["id"]), "--json"))

    assert str(token["token"]).startswith("sr_")
    revoked = stockroom(fresh_url, "tokens", "revoke", str(token["token"])[:11])
    assert "revoked 1" in revoked.stdout
    again = stockroom(fresh_url, "tokens", "revoke", str(token["token"])[:11], check=False)
    assert again.returncode == 1


def test_users_create_refuses_a_site_of_another_brand(fresh_url: str) -> None:
    upgrade_database(fresh_url)
    other = json_of(stockroom(fresh_url, "demo", "--json"))
    brand = json_of(stockroom(fresh_url, "brands", "create", "--name", "B", "--json"))
    result = stockroom(
        fresh_url,
        "users",
        "create",
        "--brand",
        str(brand["id"]),
        "--email",
        "x@example.com",
        "--role",
        "manager",
        "--site",
        str(other["site_ids"][0]),
        "--json",  # type: ignore[index]
        check=False,
    )
    assert result.returncode != 0
    assert "unknown site" in result.stderr


def test_verify_passes_on_a_sound_ledger_and_fails_on_a_tampered_level(fresh_url: str) -> None:
    upgrade_database(fresh_url)
    demo = json_of(stockroom(fresh_url, "demo", "--json"))
    sound = stockroom(fresh_url, "verify", "--json")
    assert json.loads(sound.stdout)["ok"] is True

    tamper_with_level(fresh_url, str(demo["product_ids"][0]))  # type: ignore[index]
    tampered = stockroom(fresh_url, "verify", "--json", check=False)
    report = json.loads(tampered.stdout)

    assert tampered.returncode == 1
    assert report["ok"] is False
    failed = [c for c in report["checks"] if not c["ok"]]
    assert [c["name"] for c in failed] == ["levels equal the sum of their movements"]
