"""`stockroom worker`: the background jobs (worker/jobs.py) in a process of their own."""

from __future__ import annotations

import asyncio
import contextlib
import signal
from typing import Annotated

import typer

from stockroom.cli.common import print_json
from stockroom.db.engine import create_engine, create_sessionmaker
from stockroom.settings import get_settings
from stockroom.webhooks.delivery import WebhookSender
from stockroom.worker import run_round, run_worker


def worker(
    interval: Annotated[
        float, typer.Option(min=0.05, help="Seconds between rounds when there is nothing to do.")
    ] = 1.0,
    once: Annotated[bool, typer.Option("--once", help="Run one round, then exit.")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="With --once: print JSON.")] = False,
) -> None:
    """Expire reservations, number committed events, deliver webhooks (safe to run many);
    `serve` runs one inside. SIGINT/SIGTERM: the running job finishes its transaction (a
    webhook request in flight is finished and recorded), then the worker exits."""

    async def go() -> dict[str, int]:
        engine = create_engine(get_settings())
        sessionmaker = create_sessionmaker(engine)
        try:
            if once:
                done = await run_round(sessionmaker)
                sender = WebhookSender(sessionmaker, get_settings())
                try:
                    done["webhook_attempts"] = (await sender.run_once())[0]
                finally:
                    await sender.aclose()
                return done
            stop = asyncio.Event()
            loop = asyncio.get_running_loop()
            for sig in (signal.SIGINT, signal.SIGTERM):
                with contextlib.suppress(NotImplementedError):
                    loop.add_signal_handler(sig, stop.set)
            await run_worker(
                sessionmaker, interval_seconds=interval, stop=stop, settings=get_settings()
            )
            return {}
        finally:
            await engine.dispose()

    done = asyncio.run(go())
    if once:
        if as_json:
            print_json(done)
        else:
            for name, count in done.items():
                typer.echo(f"{name.replace('_', ' ')}: {count}")


command = worker
