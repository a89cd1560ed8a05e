"""The `stockroom` command: serve, migrate, demo data, brands, sites, locations, users, tokens,
CSV import and export, stock counts, verify, reservations,
the background worker, the ledger's maintenance, webhooks.

Every command has a table for people by default and `--json` for scripts (the JSON shapes are
relied on: change them only by adding keys).

One module of this package per command group or top-level command, registered by one line
in MODULES below: a group module has `app = typer.Typer(name=...)` (`stockroom <name> ...`);
a top-level command's module has `command`, a function named as the command. Shared helpers
(transactions, tables, `--json`) are in `common`.
"""

from __future__ import annotations

from importlib import import_module

import typer

MODULES = (
    "migrate",
    "serve",
    "demo",
    "verify",
    "brands",
    "sites",
    "locations",
    "users",
    "tokens",
    "counts",
    "importer",
    "exporter",
    "reservations",
    "worker",
    "maintain",
    "webhooks",
)

app = typer.Typer(help="Stockroom: inventory from an append-only ledger.", no_args_is_help=True)
for _name in MODULES:
    _module = import_module(f"{__name__}.{_name}")
    if isinstance(getattr(_module, "app", None), typer.Typer):
        app.add_typer(_module.app)
    else:
        app.command()(_module.command)

__all__ = ["app"]
