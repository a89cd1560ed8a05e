"""`stockroom migrate`."""

from __future__ import annotations

from stockroom.cli.common import console
from stockroom.db.migrate import upgrade_database
from stockroom.settings import get_settings


def migrate() -> None:
    """Apply database migrations (safe to run again)."""
    upgrade_database(get_settings().database_url)
    console.print("[green]database is up to date[/green]")


command = migrate
