"""The `stockroom` command: serve, migrate, demo data, brands, sites, locations, users, tokens,
CSV import and export, verify.

Every command has a table for people by default and `--json` for scripts (the JSON shapes are
relied on: change them only by adding keys).

One module per command group. A group module has `app = typer.Typer(name=...)`; adding one is
one entry in GROUPS below (and its import). A top-level command is a function in COMMANDS.
"""

from __future__ import annotations

import typer

from stockroom.cli import (
    brands,
    demo,
    exporter,
    importer,
    locations,
    migrate,
    serve,
    sites,
    tokens,
    users,
    verify,
)

COMMANDS = (migrate.migrate, serve.serve, demo.demo, verify.verify)
GROUPS = (brands, sites, locations, users, tokens, importer, exporter)

app = typer.Typer(help="Stockroom: inventory from an append-only ledger.", no_args_is_help=True)
for command in COMMANDS:
    app.command()(command)
for group in GROUPS:
    app.add_typer(group.app)

__all__ = ["app"]
