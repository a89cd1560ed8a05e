"""`make bench`: every scenario through the API and as raw SQL, side by side, in one run.

    python -m bench.run          (BENCH_SECONDS=20 per load phase by default)

PostgreSQL first: a fresh `stockroom_bench` database with the 1,000,000-movement data
set (`BENCH_MOVEMENTS=10000000`: ten years of it, 10,000,000), a `stockroom serve
--workers 2` on a free port, then per scenario pgbench (the limit) and wrk (the API), the
profile of (a), and the one-shot jobs (f). SQLite next, for (a) and (e). Then the events
(PostgreSQL): what writing them costs an adjustment (bench.events_cost) and the delivery of
10,000 of them to a local receiver (bench.webhooks); `BENCH_ONLY=events` runs only those two
and writes only their part of BENCHMARKS.md. Last, stock through time and scale
(bench/through_time.py: as-of reads, backdated writes and `stockroom verify` at 1 M and 10 M
movements side by side; BENCH_SCALE_MOVEMENTS sets the counts, empty skips it). Results go to
bench/results/ (raw JSON) and BENCHMARKS.md (the tables).
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import asyncpg
from sqlalchemy.engine import make_url

from bench import data, events_cost, jobs, profile, report, through_time, webhooks
from bench.drivers import run_pgbench, run_wrk
from bench.scenarios import (
    BARE,
    READS,
    WRITES,
    Context,
    Scenario,
    pg_variables,
    sqlite_parameters,
)
from bench.server import Server, cpu_seconds, peak_rss_mib, reset_peak, stockroom
from bench.sqlite_limit import run_sqlite_limit

BENCH = Path(__file__).resolve().parent
RESULTS = BENCH / "results"
SECONDS = int(os.environ.get("BENCH_SECONDS", "20"))
# BENCH_ONLY=r1,r2 runs only those scenarios, on PostgreSQL (no profile, SQLite or
# BENCHMARKS.md; the one-shot jobs only when named: f1, f2): a quick look at a few rows,
# printed and kept in bench/results/.
ONLY = {key for key in os.environ.get("BENCH_ONLY", "").split(",") if key}
PROFILE_SECONDS = min(SECONDS, 15)
WARM_UP_SECONDS = max(1, min(3, SECONDS // 4))
ALONE_SECONDS = max(2, SECONDS // 4)
ADMIN_URL = os.environ.get("BENCH_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")
BENCH_DATABASE = os.environ.get("BENCH_DATABASE", "stockroom_bench")
WORKERS = 2
# PostgreSQL's ledger: 1,000,000 movements (a year), or BENCH_MOVEMENTS=10000000 (ten years).
MOVEMENTS = int(os.environ.get("BENCH_MOVEMENTS", str(data.MOVEMENTS)))
LEDGER_YEARS = data.ledger_years(MOVEMENTS)
# BENCH_KEEP_DATABASE=1 leaves the loaded database in place (drop it yourself: GBs at 10 M).
KEEP_DATABASE = os.environ.get("BENCH_KEEP_DATABASE", "") == "1"
# Then stock through time and scale (bench/through_time.py): the same reads, as-of reads,
# writes and `stockroom verify` at each of these movement counts, side by side; empty skips.
SCALE_MOVEMENTS = through_time.movement_counts(
    os.environ.get("BENCH_SCALE_MOVEMENTS", "1000000,10000000")
)
# SQLite loads the same 10,000 products × 20 sites × 5 movements unless told otherwise.
SQLITE_PRODUCTS = int(os.environ.get("BENCH_SQLITE_PRODUCTS", str(data.PRODUCTS)))


def log(message: str) -> None:
    print(f"[bench {datetime.now():%H:%M:%S}] {message}", flush=True)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def write_requests(scenario: Scenario, ctx: Context, backend: str) -> Path:
    path = RESULTS / f"requests-{backend}-{scenario.key}.tsv"
    lines = scenario.requests(ctx, random.Random(f"{backend}-{scenario.key}"))
    path.write_text("\n".join(lines) + "\n")
    return path


def skipped(scenario: Scenario, backend: str, reason: str) -> dict[str, Any]:
    log(f"{scenario.key}: not available — {reason}")
    return {"backend": backend, "key": scenario.key, "title": scenario.title, "skipped": reason}


def missing_route(scenario: Scenario, routes: set[tuple[str, str]]) -> str | None:
    if scenario.route in routes:
        return None
    method, path = scenario.route
    return f"not available: the server has no {method} {path}"


def measure_api(server: Server, token: str, requests_file: Path, *, read: bool) -> dict[str, Any]:
    """wrk against the server (after a short warm-up), with the workers' peak RSS and CPU.

    `cpu_ms_per_request`: the workers' CPU time (user + system, from /proc) over the run,
    divided by the requests answered. A read is also timed from one connection: its latency
    without queueing behind 31 others.
    """
    run_wrk(server.url, token, requests_file, WARM_UP_SECONDS)
    workers = server.worker_pids()
    reset_peak(workers)
    cpu_before = cpu_seconds(workers)
    result = run_wrk(server.url, token, requests_file, SECONDS)
    cpu = cpu_seconds(workers) - cpu_before
    result["cpu_ms_per_request"] = cpu * 1000 / result["count"] if result["count"] else None
    result["rss_peak_mib"] = peak_rss_mib(workers)
    if read:
        alone = run_wrk(server.url, token, requests_file, ALONE_SECONDS, connections=1)
        result["alone"] = {k: alone[k] for k in ("throughput", "p50_ms", "p99_ms", "non2xx")}
    return result


def row(
    backend: str, scenario: Scenario, limit: dict[str, Any], api: dict[str, Any]
) -> dict[str, Any]:
    ratio = api["throughput"] / limit["throughput"] if limit["throughput"] else None
    log(
        f"{scenario.key}: limit {limit['throughput']:.0f} {limit['unit']}, "
        f"API {api['throughput']:.0f} req/s (ratio {ratio or 0:.2f}), non-2xx {api['non2xx']}"
    )
    return {
        "backend": backend,
        "key": scenario.key,
        "title": scenario.title,
        "limit": limit,
        "api": api,
        "ratio": ratio,
    }


# --- PostgreSQL -------------------------------------------------------------------------------


def bench_database_url() -> str:
    return make_url(ADMIN_URL).set(database=BENCH_DATABASE).render_as_string(hide_password=False)


async def sql(url: str, *statements: str) -> list[Any]:
    conn = await asyncpg.connect(url)
    try:
        return [await conn.fetchval(s) for s in statements]
    finally:
        await conn.close()


def recreate_database() -> None:
    asyncio.run(
        sql(
            ADMIN_URL,
            f'DROP DATABASE IF EXISTS "{BENCH_DATABASE}" WITH (FORCE)',
            f'CREATE DATABASE "{BENCH_DATABASE}"',
        )
    )


def drop_database() -> None:
    asyncio.run(sql(ADMIN_URL, f'DROP DATABASE IF EXISTS "{BENCH_DATABASE}" WITH (FORCE)'))


async def load_postgres(url: str, brand: data.Brand) -> None:
    conn = await asyncpg.connect(url)
    try:
        await data.load_postgres(conn, brand, LEDGER_YEARS)
    finally:
        await conn.close()


def guarded(
    measure: Callable[..., dict[str, Any]], scenario: Scenario, backend: str, *args: Any
) -> dict[str, Any]:
    """One scenario's measurement; a scenario that breaks is reported, not fatal to the run."""
    try:
        return measure(scenario, *args)
    except (OSError, RuntimeError, ValueError, subprocess.SubprocessError) as exc:
        return skipped(scenario, backend, f"failed: {type(exc).__name__}: {str(exc)[:300]}")


def measure_postgres(
    scenario: Scenario, ctx: Context, server: Server, routes: set[tuple[str, str]], url: str
) -> dict[str, Any]:
    reason = missing_route(scenario, routes)
    if reason:
        return skipped(scenario, "postgresql", reason)
    requests_file = write_requests(scenario, ctx, "postgresql")
    variables = pg_variables(scenario, ctx, token_hash(ctx.brand.token))
    asyncio.run(sql(url, "CHECKPOINT"))
    limit = run_pgbench(url, scenario.pgbench, variables, SECONDS)
    asyncio.run(sql(url, "CHECKPOINT"))
    api = measure_api(server, ctx.brand.token, requests_file, read=scenario in READS)
    measured = row("postgresql", scenario, limit, api)
    if scenario.key in BARE:
        measured["bare"] = [
            measure_bare(bare, ctx, url, requests_file, limit, api) for bare in BARE[scenario.key]
        ]
        if scenario.key == "a":
            asyncio.run(sql(url, "CHECKPOINT"))
            measured["limit_cte"] = run_pgbench(url, "adjustment_cte.sql", variables, SECONDS)
    return measured


def measure_bare(
    bare: tuple[str, str, str],
    ctx: Context,
    url: str,
    requests_file: Path,
    limit: dict[str, Any],
    api: dict[str, Any],
) -> dict[str, Any]:
    """The same request file against a bare app (bench/bare.py) served the same way."""
    label, framework, write = bare
    server = Server(
        url,
        WORKERS,
        RESULTS / f"server-bare-{framework}-{write}.log",
        argv=[sys.executable, "-m", "bench.bare", framework],
        env={
            "BENCH_BARE_BRAND": ctx.brand.brand_id,
            "BENCH_BARE_SITE": ctx.brand.shop,
            "BENCH_BARE_USER": ctx.brand.user_id,
            "BENCH_BARE_WRITE": write,
        },
    )
    server.start()
    try:
        result = measure_api(server, ctx.brand.token, requests_file, read=False)
    finally:
        server.stop()
    ratio = api["throughput"] / result["throughput"] if result["throughput"] else None
    log(
        f"  bare {label}: {result['throughput']:.0f} req/s (API ÷ bare {ratio or 0:.2f}), "
        f"bare ÷ limit {result['throughput'] / limit['throughput']:.2f}, "
        f"non-2xx {result['non2xx']}"
    )
    return {"label": label, "framework": framework, "write": write, "api": result, "ratio": ratio}


def run_profile(server: Server, ctx: Context, routes: set[tuple[str, str]]) -> dict[str, Any]:
    scenario = WRITES[0]
    reason = missing_route(scenario, routes)
    if reason:
        return {"error": reason}
    log(f"profiling (a) with py-spy for {PROFILE_SECONDS} s")
    requests_file = write_requests(scenario, ctx, "postgresql")
    return profile.record(
        server.worker_pids(), server.url, ctx.brand.token, requests_file, PROFILE_SECONDS, RESULTS
    )


def run_jobs(
    server: Server, ctx: Context, routes: set[tuple[str, str]], url: str, spec: dict[str, Any]
) -> list[dict[str, Any]]:
    brand = ctx.brand
    done: list[dict[str, Any]] = []
    if ONLY and "f1" not in ONLY:
        pass
    elif ("POST", "/inventory/initial-stock") not in routes:
        done.append(
            {
                "key": "f1",
                "skipped": "not available: the server has no POST /inventory/initial-stock",
            }
        )
    else:
        done.append(initial_stock_job(server, ctx, url, spec))
    if ONLY and "f2" not in ONLY:
        pass
    elif ("GET", "/inventory/movements") not in routes:
        done.append(
            {"key": "f2", "skipped": "not available: the server has no GET /inventory/movements"}
        )
    else:
        log(f"f2: CSV export of the {MOVEMENTS:,} seeded movements")
        limit = asyncio.run(jobs.csv_export_limit(url, brand))
        api = jobs.csv_export_api(server, brand.token)
        done.append(
            {
                "key": "f2",
                "title": f"(f) CSV export of {MOVEMENTS:,} movements",
                "limit": limit,
                "api": api,
            }
        )
    return done


def initial_stock_job(
    server: Server, ctx: Context, url: str, spec: dict[str, Any]
) -> dict[str, Any]:
    brand, size = ctx.brand, jobs.max_lines(spec)
    count = jobs.INITIAL_STOCK_SITES
    api_sites = asyncio.run(_fresh_sites(url, brand, jobs.FIRST_API_SITE, count))
    limit_sites = asyncio.run(_fresh_sites(url, brand, jobs.FIRST_LIMIT_SITE, count))
    lines = count * ctx.products
    log(f"f1: initial stock of {lines} lines in requests of {size}")
    limit = asyncio.run(
        jobs.initial_stock_limit(
            url, brand, token_hash(brand.token), jobs.chunks(limit_sites, ctx.products, size)
        )
    )
    workers = server.worker_pids()
    reset_peak(workers)
    api = asyncio.run(
        jobs.initial_stock_api(server, brand.token, jobs.chunks(api_sites, ctx.products, size))
    )
    api["rss_peak_mib"] = peak_rss_mib(workers)
    return {
        "key": "f1",
        "title": f"(f) initial stock, {lines:,} lines ({size} per request)",
        "limit": limit,
        "api": api,
        "lines": lines,
    }


async def _fresh_sites(url: str, brand: data.Brand, first: int, count: int) -> list[str]:
    conn = await asyncpg.connect(url)
    try:
        return await data.add_fresh_sites_postgres(conn, brand, first, count)
    finally:
        await conn.close()


def run_postgres() -> dict[str, Any]:
    url = bench_database_url()
    log(f"PostgreSQL: creating {BENCH_DATABASE}, migrating, loading {MOVEMENTS:,} movements")
    recreate_database()
    try:
        stockroom(["migrate"], url)
        brand = data.Brand.from_demo(json.loads(stockroom(["demo", "--json"], url)))
        started = time.monotonic()
        asyncio.run(load_postgres(url, brand))
        load_seconds = time.monotonic() - started
        log(f"loaded in {load_seconds:.0f} s")
        ctx = Context(brand)
        server = Server(url, WORKERS, RESULTS / "server-postgresql.log")
        server.start()
        try:
            routes, spec = server.routes(), server.openapi()
            rows = [
                guarded(measure_postgres, s, "postgresql", ctx, server, routes, url)
                for s in READS + WRITES
                if not ONLY or s.key in ONLY
            ]
            profiled: dict[str, Any] = {}
            one_shot: list[dict[str, Any]] = []
            if not ONLY:
                profiled = run_profile(server, ctx, routes)
            if not ONLY or ONLY & {"f1", "f2"}:
                one_shot = run_jobs(server, ctx, routes, url, spec)
        finally:
            server.stop()
        log("stockroom verify")
        verified = verify(url)
        log(f"verified in {verified['seconds']:.1f} s: ok={verified.get('ok')}")
        version = asyncio.run(sql(url, "SHOW server_version"))[0]
    finally:
        if KEEP_DATABASE:
            log(f"kept {BENCH_DATABASE} (BENCH_KEEP_DATABASE=1): drop it when done")
        else:
            drop_database()
    return {
        "rows": rows,
        "profile": profiled,
        "jobs": one_shot,
        "verify": verified,
        "load_seconds": load_seconds,
        "movements": MOVEMENTS,
        "version": version,
    }


def verify(url: str) -> dict[str, Any]:
    """`stockroom verify --json` (exit 1 means a broken ledger, and still prints its report)."""
    started = time.monotonic()
    report_text = stockroom(["verify", "--json"], url, timeout=600, ok_codes=(0, 1))
    return {**json.loads(report_text), "seconds": time.monotonic() - started}


# --- SQLite -----------------------------------------------------------------------------------


def run_sqlite() -> dict[str, Any]:
    path = RESULTS / "stockroom_bench.sqlite"
    url = f"sqlite:///{path}"
    _remove_sqlite(path)
    try:
        stockroom(["migrate"], url)
        brand = data.Brand.from_demo(json.loads(stockroom(["demo", "--json"], url)))
        ctx = Context(brand, products=SQLITE_PRODUCTS)
        log(
            f"SQLite: loading {SQLITE_PRODUCTS * data.SITES * data.MOVEMENTS_PER_LEVEL:,} movements"
        )
        started = time.monotonic()
        movements = data.load_sqlite(str(path), brand, SQLITE_PRODUCTS)
        load_seconds = time.monotonic() - started
        log(f"loaded in {load_seconds:.0f} s")
        server = Server(url, WORKERS, RESULTS / "server-sqlite.log")
        server.start()
        try:
            routes = server.routes()
            rows = [
                guarded(measure_sqlite, s, "sqlite", ctx, server, routes, str(path))
                for s in READS + WRITES
                if s.sqlite
            ]
        finally:
            server.stop()
    finally:
        _remove_sqlite(path)
    return {"rows": rows, "movements": movements, "load_seconds": load_seconds}


def _remove_sqlite(path: Path) -> None:
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)


def measure_sqlite(
    scenario: Scenario, ctx: Context, server: Server, routes: set[tuple[str, str]], path: str
) -> dict[str, Any]:
    reason = missing_route(scenario, routes)
    if reason or scenario.sqlite is None:
        return skipped(scenario, "sqlite", reason or "no SQLite limit script")
    scripts, vary = scenario.sqlite
    requests_file = write_requests(scenario, ctx, "sqlite")
    parameters = sqlite_parameters(ctx, token_hash(ctx.brand.token))
    limit = run_sqlite_limit(path, scripts, parameters, vary, SECONDS)
    api = measure_api(server, ctx.brand.token, requests_file, read=scenario in READS)
    return row("sqlite", scenario, limit, api)


# --- main -------------------------------------------------------------------------------------


def check_tools() -> None:
    missing = [tool for tool in ("wrk", "pgbench") if shutil.which(tool) is None]
    if missing:
        sys.exit(
            f"bench: {', '.join(missing)} not found (make bench installs wrk; pgbench "
            "comes with PostgreSQL)"
        )


def run_events() -> dict[str, Any]:
    """Issue 13: what writing the events costs an adjustment (bench.events_cost, PostgreSQL)
    and the delivery of BENCH_WEBHOOK_EVENTS (10,000) events to a local receiver
    (bench.webhooks, PostgreSQL)."""
    log(f"events: their cost to an adjustment ({events_cost.ROUNDS} pairs of rounds)")
    cost = asyncio.run(events_cost.measure())
    log(f"events: cost {cost['cost_percent']:.1f} %")
    log(f"webhooks: {webhooks.EVENTS:,} events to one endpoint on PostgreSQL")
    delivery = webhooks.run("postgres", webhooks.EVENTS)
    log(f"webhooks: {delivery['seconds']} s, {delivery['events_per_second']} events/s")
    return {"cost": cost, "delivery": delivery}


def main() -> None:
    # A stopped run still stops its server and drops its database (the `finally`s).
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    check_tools()
    RESULTS.mkdir(exist_ok=True)
    started, load_average = datetime.now(UTC), os.getloadavg()
    log(f"{SECONDS} s per load phase, {WORKERS} workers, results in {RESULTS}")
    if {"events"} == ONLY:
        results = {
            "started": started.isoformat(),
            "command": report.command(),
            "events": run_events(),
        }
        raw = RESULTS / f"bench-events-{started:%Y%m%dT%H%M%SZ}.json"
        raw.write_text(json.dumps(results, indent=2, default=str))
        report.write_events(results, BENCH.parent / "BENCHMARKS.md")
        log(f"events only: BENCHMARKS.md (its events part), {raw.relative_to(BENCH.parent)}")
        return
    postgres = run_postgres()
    if ONLY:
        raw = RESULTS / f"bench-only-{started:%Y%m%dT%H%M%SZ}.json"
        raw.write_text(json.dumps(postgres, indent=2, default=str))
        print("\n".join(report.bare_table(postgres["rows"])))
        log(f"only {sorted(ONLY)}: {raw.relative_to(BENCH.parent)}; BENCHMARKS.md unchanged")
        return
    sqlite = run_sqlite()
    events = run_events()
    results = {
        "started": started.isoformat(),
        "minutes": (datetime.now(UTC) - started).total_seconds() / 60,
        "seconds_per_phase": SECONDS,
        "machine": report.machine(postgres["version"], load_average),
        "command": report.command(),
        "postgresql": postgres,
        "sqlite": sqlite,
        "events": events,
    }
    raw = RESULTS / f"bench-{started:%Y%m%dT%H%M%SZ}.json"
    raw.write_text(json.dumps(results, indent=2, default=str))
    report.write_benchmarks(results, BENCH.parent / "BENCHMARKS.md")
    report.write_events(results, BENCH.parent / "BENCHMARKS.md")
    if SCALE_MOVEMENTS:
        log(f"stock through time and scale at {', '.join(f'{n:,}' for n in SCALE_MOVEMENTS)}")
        scale = through_time.run(SCALE_MOVEMENTS, max(3, SECONDS // 4))
        scale_raw = RESULTS / f"through-time-{started:%Y%m%dT%H%M%SZ}.json"
        scale_raw.write_text(json.dumps(scale, indent=2))
        through_time.write_benchmarks(scale, BENCH.parent / "BENCHMARKS.md")
    log(f"done in {results['minutes']:.1f} min: BENCHMARKS.md, {raw.relative_to(BENCH.parent)}")


if __name__ == "__main__":
    main()
