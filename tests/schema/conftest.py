"""Scratch databases for schema tests: each test migrates (or breaks) its own."""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import pytest
from alembic import command
from alembic.config import Config

from stockroom.db.engine import create_engine, create_sessionmaker
from stockroom.db.migrate import MIGRATIONS, alembic_config
from stockroom.settings import Settings
from tests.conftest import _create_postgres_database, _drop_postgres_database
from tests.factories import Database


@pytest.fixture
def scratch_url(backend: str, tmp_path: Path, request: pytest.FixtureRequest) -> str:
    """An empty database of the test's backend (no migrations applied), dropped afterwards."""
    if backend == "sqlite":
        return f"sqlite:///{tmp_path / 'scratch.db'}"
    server = request.getfixturevalue("postgres_server")
    if server is None:
        pytest.skip("PostgreSQL does not answer at 127.0.0.1:5432")
    url = _create_postgres_database(server)
    request.addfinalizer(lambda: _drop_postgres_database(server, url))
    return url


def _config(url: str, extra_versions: Path | None) -> Config:
    config = alembic_config(url)
    if extra_versions is not None:
        # A test's own revisions beside the real ones (the config's path_separator is "os").
        config.set_main_option(
            "version_locations", f"{MIGRATIONS / 'versions'}{os.pathsep}{extra_versions}"
        )
    return config


async def upgrade(url: str, revision: str = "head", *, extra_versions: Path | None = None) -> None:
    # Alembic's env runs its own event loop: not on the test's.
    await asyncio.to_thread(command.upgrade, _config(url, extra_versions), revision)


async def downgrade(url: str, revision: str) -> None:
    await asyncio.to_thread(command.downgrade, _config(url, None), revision)


@asynccontextmanager
async def opened(url: str) -> AsyncIterator[Database]:
    """The database through the application's own engine (SQLite: foreign keys enforced)."""
    engine = create_engine(Settings(database_url=url))
    try:
        yield Database(engine, create_sessionmaker(engine))
    finally:
        await engine.dispose()
