"""`stockroom serve`: migrate, then run the HTTP API under uvicorn."""

from __future__ import annotations

import atexit
import os
import shutil
import tempfile
from pathlib import Path
from typing import Annotated

import typer

from stockroom.cli.common import console
from stockroom.cli.demo import demo_token
from stockroom.db.migrate import upgrade_database
from stockroom.observability.logs import log_config
from stockroom.observability.metrics import MULTIPROC_ENV
from stockroom.serving import uvicorn_options
from stockroom.settings import get_settings


def serve(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8000,
    workers: Annotated[int, typer.Option(help="Worker processes.")] = 1,
    seed_demo: Annotated[
        bool, typer.Option("--seed-demo", help="Create a demo brand on first run; print its token.")
    ] = False,
    access_log: Annotated[bool, typer.Option(help="Log one line per request (stderr).")] = True,
    worker: Annotated[
        bool,
        typer.Option(
            help="Run the background worker (reservation expiry) inside each server process; "
            "--no-worker leaves it to `stockroom worker` processes."
        ),
    ] = True,
) -> None:
    """Migrate, then serve the HTTP API (docs at /docs), with the worker inside by default."""
    import uvicorn

    # The server processes read their settings from the environment (they inherit it).
    os.environ["STOCKROOM_WORKER_IN_PROCESS"] = "true" if worker else "false"
    get_settings.cache_clear()
    settings = get_settings()
    upgrade_database(settings.database_url)
    base = f"http://{host}:{port}"
    if seed_demo:
        token = demo_token()
        # soft_wrap: a link must stay on one line, however narrow the terminal.
        console.print(
            f"\n[bold]Stockroom[/bold] on {base}  —  interactive docs: {base}/docs", soft_wrap=True
        )
        console.print(f"Dashboard: {base}/  (sign in with the token)", soft_wrap=True)
        console.print(f"Demo admin token: [bold]{token}[/bold]", soft_wrap=True)
        console.print("Try it:")
        typer.echo(f'  curl -H "Authorization: Bearer {token}" {base}/inventory/adjustments\n')
    prepare_metrics_dir(workers)
    uvicorn.run(
        "stockroom.app:create_app",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        # Lines on stderr in every worker (JSON, or text at a terminal: STOCKROOM_LOG_FORMAT);
        # Stockroom writes the access line itself.
        log_config=log_config(access=access_log, log_format=settings.log_format),
        log_level="info",
        access_log=False,
        **uvicorn_options(settings),  # timeouts: idle and half-sent requests are closed
    )


def prepare_metrics_dir(workers: int) -> None:
    """Several workers share their metrics through files in PROMETHEUS_MULTIPROC_DIR.

    With more than one worker and no directory set, one is made for this run. Files left by
    an earlier run's processes are removed (prometheus-client asks for a clean directory);
    this process's own are kept, as its metrics are already open in them.
    """
    directory = os.environ.get(MULTIPROC_ENV)
    if not directory:
        if workers <= 1:
            return
        _remove_orphaned_metrics_dirs()
        directory = tempfile.mkdtemp(prefix=f"{_AUTO_METRICS_PREFIX}{os.getpid()}-")
        os.environ[MULTIPROC_ENV] = directory  # the workers inherit it
        atexit.register(shutil.rmtree, directory, ignore_errors=True)
    path = Path(directory)
    path.mkdir(parents=True, exist_ok=True)
    own = f"_{os.getpid()}.db"
    for stale in path.glob("*.db"):
        if not stale.name.endswith(own):
            stale.unlink(missing_ok=True)


_AUTO_METRICS_PREFIX = "stockroom-metrics-"


def _remove_orphaned_metrics_dirs() -> None:
    """Directories of earlier runs that were killed before they could remove their own."""
    for found in Path(tempfile.gettempdir()).glob(f"{_AUTO_METRICS_PREFIX}*-*"):
        owner = found.name.removeprefix(_AUTO_METRICS_PREFIX).split("-", 1)[0]
        if owner.isdigit() and not _process_exists(int(owner)):
            shutil.rmtree(found, ignore_errors=True)


def _process_exists(pid: int) -> bool:
    try:
        os.kill(pid, 0)  # signal 0: only asks whether the process is there
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


command = serve
