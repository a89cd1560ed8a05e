"""Servers side by side: uvicorn (`stockroom serve`) against granian, same app, same wrk.

    BENCH_DATABASE=stockroom_bench_<you> .venv/bin/python -m bench.servers [uvicorn granian]

Loads the bench data set into a fresh database (as `make bench` does), starts each named
server with 2 workers on its own port, then for the write (a) and the stock read (e4)
alternates short wrk phases between them (`BENCH_ROUNDS` rounds of `BENCH_SECONDS`, default
2 × 10 s, 32 connections), so that a change in the machine's load hits both alike. Each
phase reports req/s, p50/p99 and the workers' CPU ms per request (user + system, /proc).
`uvicorn@DIR` as a server name serves the code in DIR (see `uvicorn_server`).
Prints one table; the raw JSON goes to bench/results/servers-*.json.

BENCH_KEEP_DATABASE=1 keeps the loaded database (and its demo brand in
bench/results/servers-brand.json); BENCH_REUSE_DATABASE=1 then skips the load. BENCH_PYSPY=1
records py-spy (`.venv/bin/py-spy`, 100 Hz, on-CPU only) on one worker during each
scenario's first phase of each server: bench/results/pyspy-<server>-<scenario>.txt.

granian is not a dependency: `.venv/bin/pip install granian` first. It gets the same
logging (the access line included: `--log-config` with `log_config()`), the in-process
worker and a metrics directory, as `stockroom serve` gives uvicorn.
"""

from __future__ import annotations

import dataclasses
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench import data, run
from bench.drivers import run_wrk
from bench.scenarios import READS, WRITES, Context
from bench.server import Server, cpu_seconds, stockroom
from stockroom.observability.logs import log_config

REUSE = os.environ.get("BENCH_REUSE_DATABASE", "") == "1"
PYSPY = os.environ.get("BENCH_PYSPY", "") == "1"
BRAND_FILE = run.RESULTS / "servers-brand.json"
ROUNDS = int(os.environ.get("BENCH_ROUNDS", "2"))
SECONDS = run.SECONDS
WORKERS = 2
# (a) and (e4) unless BENCH_ONLY names others (of a, b, c, d, r1, r2, e1…e4).
SCENARIOS = [s for s in WRITES + READS if s.key in (run.ONLY or {"a", "e4"})]


def granian_server(url: str, results: Path, scratch: Path) -> Server:
    config = scratch / "log-config.json"
    # JSON holds no classes: the factories go by their dotted names.
    config.write_text(
        json.dumps(
            log_config(access=True, log_format="json"),
            default=lambda cls: f"{cls.__module__}.{cls.__qualname__}",
        )
    )
    metrics = scratch / "metrics"
    metrics.mkdir()
    return Server(
        url,
        WORKERS,
        results / "server-granian.log",
        argv=[
            str(Path(sys.executable).parent / "granian"),
            "--interface",
            "asgi",
            "--factory",
            "--log-config",
            str(config),
            "--no-access-log",
            "stockroom.app:create_app",
        ],
        env={"STOCKROOM_WORKER_IN_PROCESS": "true", "PROMETHEUS_MULTIPROC_DIR": str(metrics)},
    )


def uvicorn_server(url: str, name: str) -> Server:
    """`stockroom serve`; `uvicorn@DIR` serves the code in DIR instead (PYTHONPATH), e.g. a
    `git archive` of an earlier commit's src/, for a before/after in one run."""
    _, _, source = name.partition("@")
    log = run.RESULTS / f"server-{name.replace('/', '_')}.log"
    return Server(url, WORKERS, log, env={"PYTHONPATH": source} if source else None)


def phase(
    server: Server, token: str, requests_file: Path, seconds: int, profile: Path | None = None
) -> dict[str, Any]:
    run_wrk(server.url, token, requests_file, max(1, seconds // 4))  # warm-up
    workers = server.worker_pids()
    spy = None
    if profile is not None:
        spy = subprocess.Popen(
            [
                str(Path(sys.executable).parent / "py-spy"),
                "record",
                "--pid",
                str(workers[0]),
                "--rate",
                "100",
                "--format",
                "raw",
                "--duration",
                str(seconds),
                "--output",
                str(profile),
                "--nonblocking",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
    before = cpu_seconds(workers)
    result = run_wrk(server.url, token, requests_file, seconds)
    used = cpu_seconds(workers) - before
    if spy is not None:
        spy.wait(60)
    result["cpu_ms_per_request"] = used * 1000 / result["count"] if result["count"] else None
    return result


def main() -> None:
    names = sys.argv[1:] or ["uvicorn", "granian"]
    run.RESULTS.mkdir(exist_ok=True)
    started, load = datetime.now(UTC), os.getloadavg()
    url = run.bench_database_url()
    if not REUSE:
        run.log(f"creating {run.BENCH_DATABASE}, loading {run.MOVEMENTS:,} movements")
        run.recreate_database()
    scratch = Path(tempfile.mkdtemp(prefix="bench-servers-"))
    servers: dict[str, Server] = {}
    measured: list[dict[str, Any]] = []
    try:
        if REUSE:
            brand = data.Brand(**json.loads(BRAND_FILE.read_text()))
        else:
            stockroom(["migrate"], url)
            brand = data.Brand.from_demo(json.loads(stockroom(["demo", "--json"], url)))
            run.asyncio.run(run.load_postgres(url, brand))
            BRAND_FILE.write_text(json.dumps(dataclasses.asdict(brand)))
        ctx = Context(brand)
        for name in names:
            servers[name] = (
                granian_server(url, run.RESULTS, scratch)
                if name == "granian"
                else uvicorn_server(url, name)
            )
            servers[name].start()
        for scenario in SCENARIOS:
            lines = scenario.requests(ctx, random.Random(f"servers-{scenario.key}"))
            requests_file = run.RESULTS / f"requests-servers-{scenario.key}.tsv"
            requests_file.write_text("\n".join(lines) + "\n")
            for round_ in range(1, ROUNDS + 1):
                for name, server in servers.items():
                    profile = (
                        run.RESULTS / f"pyspy-{name}-{scenario.key}.txt"
                        if PYSPY and round_ == 1
                        else None
                    )
                    result = phase(server, brand.token, requests_file, SECONDS, profile)
                    run.log(
                        f"{scenario.key} round {round_} {name}: {result['throughput']:.0f} req/s, "
                        f"CPU {result['cpu_ms_per_request']:.2f} ms/req, "
                        f"non-2xx {result['non2xx']}, load {os.getloadavg()[0]:.1f}"
                    )
                    measured.append(
                        {"scenario": scenario.key, "round": round_, "server": name, **result}
                    )
    finally:
        for server in servers.values():
            server.stop()
        shutil.rmtree(scratch, ignore_errors=True)
        if run.KEEP_DATABASE:
            run.log(f"kept {run.BENCH_DATABASE} (BENCH_KEEP_DATABASE=1): drop it when done")
        else:
            run.drop_database()
    raw = run.RESULTS / f"servers-{started:%Y%m%dT%H%M%SZ}.json"
    raw.write_text(json.dumps({"load_average": load, "rows": measured}, indent=2))
    print("| scenario | round | server | req/s | p50 / p99 ms | CPU ms/req | non-2xx |")
    print("| --- | ---: | --- | ---: | ---: | ---: | ---: |")
    for r in measured:
        print(
            f"| {r['scenario']} | {r['round']} | {r['server']} | {r['throughput']:,.0f} "
            f"| {r['p50_ms']:.1f} / {r['p99_ms']:.1f} | {r['cpu_ms_per_request']:.2f} "
            f"| {r['non2xx']} |"
        )
    run.log(f"raw: {raw.relative_to(run.BENCH.parent)}")


if __name__ == "__main__":
    main()
