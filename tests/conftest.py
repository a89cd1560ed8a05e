"""Test databases: a real SQLite file and a real PostgreSQL database, each made by migrations.

Every test runs on both backends (the `backend` parameter). PostgreSQL is used when
STOCKROOM_TEST_POSTGRES_URL is set or a server answers at 127.0.0.1:5432; under CI=true a
missing PostgreSQL fails the run instead of skipping. Each run creates its own database
and drops it at the end. Tests isolate themselves by making their own brand.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import asyncpg
import httpx
import pytest
from cryptography.fernet import Fernet
from sqlalchemy.engine import make_url

from stockroom.app import create_app
from stockroom.db.engine import create_engine, create_sessionmaker
from stockroom.db.migrate import upgrade_database
from stockroom.settings import Settings
from tests.factories import Database

# No test may send a webhook anywhere but loopback: every Settings of the run, and every
# server and worker process a test starts (they inherit the environment), refuse any other
# address, even a URL saved by a fuzzer. Loopback URLs are allowed, so tests can receive.
os.environ["STOCKROOM_WEBHOOK_LOOPBACK_ONLY"] = "true"
os.environ["STOCKROOM_WEBHOOK_ALLOW_PRIVATE"] = "true"
os.environ.setdefault("STOCKROOM_SECRET_KEY", Fernet.generate_key().decode())

DEFAULT_POSTGRES_URL = "postgresql://postgres@127.0.0.1:5432/test"
# "pgbouncer" is the postgres database reached through a PgBouncer in transaction pooling
# mode (tests/services.py); only the suites below (and tests marked `pgbouncer`) run on it.
BACKENDS = ["sqlite", "postgres", "pgbouncer"]
PGBOUNCER_SUITES = ("tests/idempotency/", "tests/concurrency/test_hammer.py")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Keep the pgbouncer backend for the suites that run through PgBouncer; drop it elsewhere."""
    root = Path(str(config.rootpath))
    kept, dropped = [], []
    for item in items:
        callspec = getattr(item, "callspec", None)
        if callspec is None or callspec.params.get("backend") != "pgbouncer":
            kept.append(item)
            continue
        path = Path(str(item.path)).relative_to(root).as_posix()
        wanted = path.startswith(PGBOUNCER_SUITES) or item.get_closest_marker("pgbouncer")
        (kept if wanted else dropped).append(item)
    if dropped:
        config.hook.pytest_deselected(items=dropped)
        items[:] = kept


def postgres_admin_url() -> str:
    return os.environ.get("STOCKROOM_TEST_POSTGRES_URL", DEFAULT_POSTGRES_URL)


def _asyncpg_dsn(url: str) -> str:
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


async def _postgres_answers(url: str) -> bool:
    try:
        conn = await asyncpg.connect(_asyncpg_dsn(url), timeout=3)
    except (OSError, asyncpg.PostgresError, TimeoutError):
        return False
    await conn.close()
    return True


@pytest.fixture(scope="session")
def postgres_server() -> str | None:
    url = postgres_admin_url()
    if asyncio.run(_postgres_answers(url)):
        return url
    if os.environ.get("CI") == "true" or "STOCKROOM_TEST_POSTGRES_URL" in os.environ:
        pytest.fail(f"PostgreSQL is required (CI=true) but does not answer at {url}")
    return None


def _create_postgres_database(admin_url: str) -> str:
    name = f"stockroom_test_{os.getpid()}_{uuid.uuid4().hex[:8]}"

    async def create() -> None:
        conn = await asyncpg.connect(_asyncpg_dsn(admin_url))
        try:
            await conn.execute(f'CREATE DATABASE "{name}"')
        finally:
            await conn.close()

    asyncio.run(create())
    return make_url(admin_url).set(database=name).render_as_string(hide_password=False)


def _drop_postgres_database(admin_url: str, url: str) -> None:
    name = make_url(url).database

    async def drop() -> None:
        conn = await asyncpg.connect(_asyncpg_dsn(admin_url))
        try:
            await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        finally:
            await conn.close()

    asyncio.run(drop())


@contextlib.contextmanager
def own_database(
    backend: str, tmp_path: Path, postgres_server: str | None, revision: str = "head"
) -> Iterator[str]:
    """A database of one test's own, migrated to `revision`, dropped after: for tests that
    read every brand (`verify`) or migrate (the suite's shared database stays at head)."""
    if backend == "sqlite":
        url = f"sqlite:///{tmp_path / 'own.db'}"
        upgrade_database(url, revision)
        yield url
        return
    if postgres_server is None:
        pytest.skip("PostgreSQL does not answer")
    url = _create_postgres_database(postgres_server)
    try:
        upgrade_database(url, revision)
        yield url
    finally:
        _drop_postgres_database(postgres_server, url)


@pytest.fixture
def own_url(backend: str, tmp_path: Path, postgres_server: str | None) -> Iterator[str]:
    """A migrated database of this test's own (verify looks at every brand)."""
    with own_database(backend, tmp_path, postgres_server) as url:
        yield url


@pytest.fixture(scope="session")
def sqlite_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    path: Path = tmp_path_factory.mktemp("db") / "stockroom.db"
    url = f"sqlite:///{path}"
    upgrade_database(url)
    return url


@pytest.fixture(scope="session")
def postgres_url(postgres_server: str | None) -> Iterator[str]:
    if postgres_server is None:
        pytest.skip(
            "PostgreSQL does not answer at 127.0.0.1:5432 (set STOCKROOM_TEST_POSTGRES_URL)"
        )
    url = _create_postgres_database(postgres_server)
    try:
        upgrade_database(url)
        yield url
    finally:
        _drop_postgres_database(postgres_server, url)


@pytest.fixture(scope="session")
def pgbouncer_url(postgres_url: str) -> Iterator[str]:
    """The test database through a PgBouncer (transaction pooling) started for this run."""
    from tests.services import running_pgbouncer

    with running_pgbouncer(postgres_url) as port:
        yield make_url(postgres_url).set(port=port).render_as_string(hide_password=False)


@pytest.fixture(scope="session", params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture(scope="session")
def database_url(backend: str, request: pytest.FixtureRequest) -> str:
    return str(request.getfixturevalue(f"{backend}_url"))


@pytest.fixture(scope="session")
def settings(database_url: str, backend: str) -> Settings:
    # Small idle pools (xdist workers and test servers share PostgreSQL's 100 connections)
    # and a patient lock timeout: a loaded CI machine must not turn a queue into a 503.
    return Settings(
        database_url=database_url,
        pool_size=5,
        pool_max_overflow=25,
        lock_timeout_seconds=30,
        pool_timeout_seconds=30,
        database_pooler="pgbouncer" if backend == "pgbouncer" else "none",
    )


@pytest.fixture(scope="session")
async def db(settings: Settings) -> AsyncIterator[Database]:
    """Direct access to the test database, for setting up what a test reads."""
    engine = create_engine(settings)
    try:
        yield Database(engine, create_sessionmaker(engine))
    finally:
        await engine.dispose()


@pytest.fixture(scope="session")
async def app(settings: Settings):  # type: ignore[no-untyped-def]
    application = create_app(settings)
    async with application.router.lifespan_context(application):
        yield application


@pytest.fixture
async def client(app) -> AsyncIterator[httpx.AsyncClient]:  # type: ignore[no-untyped-def]
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://stockroom.test") as c:
        yield c
