"""CPU per request of the app alone: the ASGI app called directly, one request at a time.

    .venv/bin/python -m bench.inprocess a|e4|e1|... [requests] [--profile FILE]

No server, no sockets, no load generator: each request of a scenario's request file
(`bench/results/requests-servers-<key>.tsv`, written by `python -m bench.servers` with
BENCH_KEEP_DATABASE=1, which also keeps the database and its brand) is sent to the app in
process and awaited before the next, so `time.process_time` counts this process's CPU only —
the database's time does not count. Prints CPU ms per request; with `--profile`, the run is
profiled by cProfile (on CPU time) and the number of Python function calls per request is
printed: unlike seconds, it does not move with the machine's load, which makes it the
figure to compare two versions of the code by. The database: STOCKROOM_DATABASE_URL
(default the bench database `stockroom_bench_<BENCH_DATABASE>` of bench.servers).
"""

from __future__ import annotations

import asyncio
import cProfile
import json
import logging.config
import os
import pstats
import sys
import time
from typing import Any

import uvloop

from bench.run import RESULTS
from stockroom.app import create_app
from stockroom.observability.logs import log_config
from stockroom.settings import get_settings

WARM_UP = 200


def _scope(method: str, target: str, body: bytes, token: str) -> dict[str, Any]:
    path, _, query = target.partition("?")
    headers = [(b"host", b"127.0.0.1"), (b"authorization", b"Bearer " + token.encode())]
    if body:
        headers += [(b"content-type", b"application/json"), (b"content-length", b"%d" % len(body))]
    return {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": method,
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": query.encode(),
        "root_path": "",
        "headers": headers,
        "client": ("127.0.0.1", 1),
        "server": ("127.0.0.1", 8000),
        "state": {},
    }


async def measure(key: str, requests: int, profile: str | None) -> None:
    token = json.loads((RESULTS / "servers-brand.json").read_text())["token"]
    lines = [
        line.rstrip("\n").split("\t")
        for line in (RESULTS / f"requests-servers-{key}.tsv").read_text().splitlines(True)
    ]
    app = create_app(get_settings())
    statuses: dict[int, int] = {}

    async def one(method: str, target: str, body_text: str) -> None:
        body, sent = body_text.encode(), False

        async def receive() -> dict[str, Any]:
            nonlocal sent
            if not sent:
                sent = True
                return {"type": "http.request", "body": body, "more_body": False}
            await asyncio.sleep(3600)
            return {"type": "http.disconnect"}

        async def send(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start":
                statuses[message["status"]] = statuses.get(message["status"], 0) + 1

        await app(_scope(method, target, body, token), receive, send)

    async with app.router.lifespan_context(app):
        for line in lines[:WARM_UP]:
            await one(*line)
        statuses.clear()
        profiler = cProfile.Profile(time.process_time) if profile else None
        started = time.process_time()
        if profiler:
            profiler.enable()
        for n in range(requests):
            await one(*lines[n % len(lines)])
        if profiler:
            profiler.disable()
        cpu = time.process_time() - started
    print(f"{key}: {requests} requests, {1000 * cpu / requests:.3f} ms of CPU each, {statuses}")
    if profiler and profile:
        profiler.dump_stats(profile)
        calls = pstats.Stats(profiler).total_calls  # type: ignore[attr-defined]
        print(f"  {calls / requests:.0f} Python function calls per request (cProfile: {profile})")


def main() -> None:
    args = sys.argv[1:]
    profile = None
    if "--profile" in args:
        at = args.index("--profile")
        profile = args[at + 1]
        del args[at : at + 2]
    key = args[0] if args else "a"
    requests = int(args[1]) if len(args) > 1 else 2000
    os.environ.setdefault(
        "STOCKROOM_DATABASE_URL",
        "postgresql://postgres@127.0.0.1:5432/"
        + os.environ.get("BENCH_DATABASE", "stockroom_bench_lead"),
    )
    get_settings.cache_clear()
    logging.config.dictConfig(log_config(access=True, log_format="json"))
    loggers = [logging.getLogger(), *map(logging.getLogger, logging.root.manager.loggerDict)]
    for handler in {h for logger in loggers for h in logger.handlers}:
        if isinstance(handler, logging.StreamHandler):  # lines are made, not shown
            handler.setStream(open(os.devnull, "w"))  # noqa: SIM115
    uvloop.install()
    asyncio.run(measure(key, requests, profile))


if __name__ == "__main__":
    main()
