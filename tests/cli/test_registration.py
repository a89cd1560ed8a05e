"""Every module of the `stockroom.cli` package is a registered command or group."""

from __future__ import annotations

import pkgutil

import typer

import stockroom.cli
from stockroom.cli import MODULES, app

HELPERS = {"common", "__main__"}


def test_every_command_module_is_registered_once() -> None:
    found = {m.name for m in pkgutil.iter_modules(stockroom.cli.__path__)} - HELPERS
    assert sorted(MODULES) == sorted(found)


def test_groups_and_commands_are_reachable_by_their_names() -> None:
    commands = getattr(typer.main.get_command(app), "commands", {})
    assert set(commands) == {
        "serve",
        "migrate",
        "demo",
        "verify",
        "brands",
        "sites",
        "locations",
        "users",
        "tokens",
        "counts",
        "import",
        "export",
        "reservations",
        "worker",
        "maintain",
        "webhooks",
    }
