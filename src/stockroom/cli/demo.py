"""`stockroom demo`, and the demo token `stockroom serve --seed-demo` keeps between runs."""

from __future__ import annotations

import json
from pathlib import Path

from rich.table import Table
from sqlalchemy.ext.asyncio import AsyncSession

from stockroom.auth.tokens import load_principal
from stockroom.cli.common import JsonFlag, console, print_json, run
from stockroom.demo import Demo, create_demo
from stockroom.errors import Unauthenticated

# Where `make serve` keeps the demo token between runs (the database only has its hash).
DEMO_STATE = Path(".stockroom/demo.json")


def demo(as_json: JsonFlag = False) -> None:
    """Create a new demo brand (two sites, locations, products, stock, an admin and a token)."""
    made: Demo = run(create_demo)
    if as_json:
        print_json(made.as_json())
        return
    table = Table("", "value", title="Demo brand")
    for key, value in made.as_json().items():
        table.add_row(key, ", ".join(value) if isinstance(value, list) else str(value))
    console.print(table)


def demo_token() -> str:
    """The saved demo token if it still works on this database, else a new demo brand's."""
    if DEMO_STATE.exists():
        saved = json.loads(DEMO_STATE.read_text()).get("token", "")

        async def still_valid(session: AsyncSession) -> bool:
            try:
                await load_principal(session, saved)
            except Unauthenticated:
                return False
            return True

        if saved and run(still_valid):
            return str(saved)
    made = run(create_demo)
    DEMO_STATE.parent.mkdir(exist_ok=True)
    DEMO_STATE.write_text(json.dumps(made.as_json(), indent=2))
    return made.token


command = demo
