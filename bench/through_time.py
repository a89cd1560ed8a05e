"""Stock through time and scale on PostgreSQL: the same reads, writes and `verify` at 1 M and 10 M.

    .venv/bin/python -m bench.through_time [--movements 1000000,10000000] [--seconds 5] [--write]

For each movement count, in one run (so the ratios between them share the machine's load):
loads the benchmark's data set (bench/data.py; 1 M is a year of it, 10 M ten years: the same
products, sites and levels, ten times the history) into its own database
(`BENCH_TIME_DATABASE`, default stockroom_bench_time; dropped afterwards unless `--keep`),
then, in process and over ONE database connection (httpx → the ASGI app, no HTTP server,
so the figures are the service's, not a load generator's), for `--seconds` each:
- reads: one product's stock, plain and `as_of` a random instant of the last 60 days; the
  movements report of one product over 30 days; a deep keyset page; low stock at a site;
- writes: adjustments of ±1 on random products, plain and with `occurred_at` three days
  back (a backdated write corrects an older checkpoint);
- `stockroom verify --json` (wall time, and whether it says sound).
The load average (`os.getloadavg`) is recorded beside each figure: the machine is shared.
Prints the results as JSON, keeps them in bench/results/, and with `--write` rewrites the
"Stock through time and 10 M" part of BENCHMARKS.md. `make bench` runs it after its own
tables (BENCH_SCALE_MOVEMENTS, default 1000000,10000000; empty skips it).

Below 1 M (`--movements 20000`) the data set shrinks its catalogue instead: 1 M / N
products' worth of a one-year ledger (tests load it that way).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import statistics
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import asyncpg
import httpx
from sqlalchemy.engine import make_url

from bench import data, scenarios
from bench.server import stockroom
from stockroom.app import create_app
from stockroom.settings import Settings

ADMIN_URL = os.environ.get("BENCH_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")
DATABASE = os.environ.get("BENCH_TIME_DATABASE", "stockroom_bench_time")
BENCH = Path(__file__).resolve().parent
RESULTS = BENCH / "results"
BEGIN = "<!-- through-time:begin — written by `python -m bench.through_time --write` -->"
END = "<!-- through-time:end -->"
AS_OF_DAYS = 60
BACKDATE_DAYS = 3
# Issue 12's bars: as-of p50 at 10 M ≤ 20 ms and ≤ 2 × 1 M's; a backdated write ≤ 2 × a plain one.
AS_OF_P50_MS = 20
AS_OF_GROWTH = 2.0
BACKDATED_RATIO = 2.0
# Issue 14's bar for `stockroom verify` at 10 M.
VERIFY_SECONDS = 60


def shape(movements: int) -> tuple[int, int]:
    """(years, products) of the data set with `movements` movements."""
    if movements >= data.MOVEMENTS:
        return data.ledger_years(movements), data.PRODUCTS
    per_product = data.SITES * data.MOVEMENTS_PER_LEVEL
    if movements < per_product or movements % per_product:
        raise ValueError(f"below 1 M, movements must be a multiple of {per_product}: {movements}")
    return 1, movements // per_product


def database_url(database: str = DATABASE) -> str:
    return make_url(ADMIN_URL).set(database=database).render_as_string(hide_password=False)


async def _admin(*statements: str) -> None:
    conn = await asyncpg.connect(ADMIN_URL)
    try:
        for statement in statements:
            await conn.execute(statement)
    finally:
        await conn.close()


def recreate(database: str) -> None:
    asyncio.run(
        _admin(
            f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)', f'CREATE DATABASE "{database}"'
        )
    )


def drop(database: str) -> None:
    asyncio.run(_admin(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)'))


def load(url: str, movements: int, log: Callable[[str], None] = print) -> data.Brand:
    """Migrate the (empty) database at `url`, add the demo brand and load the data set."""
    years, products = shape(movements)
    stockroom(["migrate"], url)
    brand = data.Brand.from_demo(json.loads(stockroom(["demo", "--json"], url)))

    async def write() -> None:
        conn = await asyncpg.connect(url)
        try:
            await data.load_postgres(conn, brand, years, products, log=log)
        finally:
            await conn.close()

    asyncio.run(write())
    return brand


def verify(url: str) -> dict[str, Any]:
    """`stockroom verify --json`, timed (exit 1 means a broken ledger, and still reports)."""
    started = time.monotonic()
    report_text = stockroom(["verify", "--json"], url, timeout=1800, ok_codes=(0, 1))
    seconds = time.monotonic() - started
    report = json.loads(report_text)
    return {
        "seconds": round(seconds, 1),
        "ok": report.get("ok"),
        "levels": report.get("levels"),
        "movements": report.get("movements"),
        "load_average": load_average(),
    }


def load_average() -> list[float]:
    return [round(x, 1) for x in os.getloadavg()]


def percentiles(samples: list[float]) -> dict[str, Any]:
    ordered = sorted(samples)
    return {
        "n": len(ordered),
        "p50_ms": round(statistics.median(ordered) * 1000, 2),
        "p95_ms": round(ordered[max(0, int(len(ordered) * 0.95) - 1)] * 1000, 2),
        "load_average": load_average(),
    }


async def timed(seconds: float, call: Callable[[int], Awaitable[httpx.Response]]) -> list[float]:
    samples: list[float] = []
    stop = time.perf_counter() + seconds
    n = 0
    while time.perf_counter() < stop:
        started = time.perf_counter()
        answer = await call(n)
        samples.append(time.perf_counter() - started)
        if answer.status_code >= 300:
            raise RuntimeError(f"{answer.status_code}: {answer.text[:300]}")
        n += 1
    return samples


# (key, title) of what `measure` times, in order.
MEASURED = (
    ("product_stock", "one product's stock"),
    ("product_stock_as_of", f"one product's stock `as_of` (random instant, last {AS_OF_DAYS} d)"),
    ("report", "movements report: one product, 30 days"),
    ("deep_page", "deep keyset page (limit 100)"),
    ("low_stock", "low stock at a site"),
    ("adjustment", "adjustment ±1"),
    ("adjustment_backdated", f"adjustment ±1, `occurred_at` {BACKDATE_DAYS} days back"),
)


async def measure(url: str, brand: data.Brand, products: int, seconds: float) -> dict[str, Any]:
    """p50/p95 of each read and write, one request at a time over one database connection."""
    settings = Settings(database_url=url, pool_size=1, pool_max_overflow=0)
    app = create_app(settings)
    rng = random.Random(12)
    headers = {"Authorization": f"Bearer {brand.token}"}
    now = datetime.now(UTC)
    ctx = scenarios.Context(brand, products=products)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://bench") as client:

            def stock(as_of: bool) -> Callable[[int], Awaitable[httpx.Response]]:
                def call(_: int) -> Awaitable[httpx.Response]:
                    path = f"/inventory/products/{ctx.product(rng)}/stock"
                    params = {}
                    if as_of:
                        instant = now - timedelta(seconds=rng.randint(0, AS_OF_DAYS * 86_400))
                        params["as_of"] = instant.isoformat()
                    return client.get(path, params=params, headers=headers)

                return call

            def requests(
                build: Callable[[scenarios.Context, random.Random], list[str]],
            ) -> Callable[[int], Awaitable[httpx.Response]]:
                # The GET lines the load scenarios send (bench/scenarios.py), one at a time.
                paths = [line.split("\t")[1] for line in build(ctx, rng)]

                def call(n: int) -> Awaitable[httpx.Response]:
                    return client.get(paths[n % len(paths)], headers=headers)

                return call

            def adjust(backdated: bool) -> Callable[[int], Awaitable[httpx.Response]]:
                def call(n: int) -> Awaitable[httpx.Response]:
                    body: dict[str, Any] = {
                        "product_id": ctx.product(rng),
                        "quantity": 1 if n % 2 == 0 else -1,
                    }
                    if backdated:
                        moment = datetime.now(UTC) - timedelta(days=BACKDATE_DAYS)
                        body["occurred_at"] = moment.isoformat()
                    return client.post("/inventory/adjustments", json=body, headers=headers)

                return call

            calls = {
                "product_stock": stock(False),
                "product_stock_as_of": stock(True),
                "report": requests(scenarios.report),
                "deep_page": requests(scenarios.deep_pages),
                "low_stock": requests(scenarios.low_stock),
                "adjustment": adjust(False),
                "adjustment_backdated": adjust(True),
            }
            await timed(min(1.0, seconds), stock(True))  # warm up
            return {key: percentiles(await timed(seconds, calls[key])) for key, _ in MEASURED}


def run_one(movements: int, seconds: float, *, keep: bool = False) -> dict[str, Any]:
    """Load `movements` into a fresh database, measure, verify; the database is dropped after."""
    _, products = shape(movements)
    url = database_url()
    print(f"through_time: {movements:,} movements into {DATABASE}", flush=True)
    recreate(DATABASE)
    try:
        started, before = time.monotonic(), load_average()
        brand = load(url, movements, log=lambda m: print(f"  {m}", flush=True))
        loaded = round(time.monotonic() - started, 1)
        print(f"  loaded in {loaded} s (load average before {before})", flush=True)
        results = asyncio.run(measure(url, brand, products, seconds))
        verified = verify(url)
        print(f"  verify: {verified}", flush=True)
    finally:
        if keep:
            print(f"  kept {DATABASE} (--keep): drop it when done", flush=True)
        else:
            drop(DATABASE)
    return {
        "movements": movements,
        "load": {"seconds": loaded, "load_average_before": before, "after": load_average()},
        "verify": verified,
        **results,
    }


def run(counts: list[int], seconds: float, *, keep: bool = False) -> dict[str, Any]:
    started = datetime.now(UTC)
    runs = [run_one(n, seconds, keep=keep) for n in counts]
    return {
        "started": f"{started:%Y-%m-%d %H:%M}",
        "minutes": round((datetime.now(UTC) - started).total_seconds() / 60, 1),
        "seconds_per_phase": seconds,
        "command": f"python -m bench.through_time --movements {','.join(map(str, counts))} "
        f"--seconds {seconds:g}",
        "runs": runs,
    }


# --- BENCHMARKS.md ----------------------------------------------------------------------------


def _cell(result: dict[str, Any]) -> str:
    return f"{result['p50_ms']:,.2f} / {result['p95_ms']:,.2f}"


def _load(result: dict[str, Any]) -> str:
    return " ".join(f"{x:.1f}" for x in result["load_average"])


def _verdict(ok: bool) -> str:
    return "met" if ok else "**missed**"


def render(results: dict[str, Any]) -> str:
    runs = results["runs"]
    heads = [f"{r['movements']:,}" for r in runs]
    lines = [
        f"**Run** {results['started']} UTC, `{results['command']}`, "
        f"{results['seconds_per_phase']:g} s per measurement, {results['minutes']:g} min in all. "
        "In process over one database connection (httpx → the ASGI app): the service's own "
        "latency, one request at a time. Load average (1, 5, 15 min, `os.getloadavg`, the "
        "same figures as `uptime`) beside each: the two cores are shared with other "
        "engineers' work, so read the ratios between columns (one run, adjacent minutes) "
        "before the absolute figures.",
        "",
        "| p50 / p95 ms (load average) | " + " | ".join(heads) + " | ratio |",
        "| --- | " + " | ".join("---:" for _ in runs) + " | ---: |",
    ]
    for key, title in MEASURED:
        cells = [f"{_cell(r[key])} ({_load(r[key])})" for r in runs]
        ratio = f"{runs[-1][key]['p50_ms'] / runs[0][key]['p50_ms']:.2f} ×" if runs else ""
        lines.append(f"| {title} | " + " | ".join(cells) + f" | {ratio} |")
    lines.append(
        "| load the data set, s | "
        + " | ".join(
            f"{r['load']['seconds']:,.0f} ({' '.join(f'{x:.1f}' for x in r['load']['after'])})"
            for r in runs
        )
        + " | |"
    )
    lines.append(
        "| `stockroom verify`, s | "
        + " | ".join(
            f"{r['verify']['seconds']:,.1f}, {'sound' if r['verify']['ok'] else '**broken**'} "
            f"({_load(r['verify'])})"
            for r in runs
        )
        + f" | {runs[-1]['verify']['seconds'] / runs[0]['verify']['seconds']:.2f} × |"
    )
    lines += ["", "*ratio*: the last column ÷ the first (p50s).", ""]
    lines += _targets(runs)
    return "\n".join(lines) + "\n"


def _targets(runs: list[dict[str, Any]]) -> list[str]:
    big = max(runs, key=lambda r: r["movements"])
    small = min(runs, key=lambda r: r["movements"])
    as_of, as_of_small = (
        big["product_stock_as_of"]["p50_ms"],
        small["product_stock_as_of"]["p50_ms"],
    )
    plain, backdated = big["adjustment"]["p50_ms"], big["adjustment_backdated"]["p50_ms"]
    seconds = big["verify"]["seconds"]
    n, m = f"{big['movements']:,}", f"{small['movements']:,}"
    return [
        "| target | measured | |",
        "| --- | --- | --- |",
        f"| (12) `as_of` stock of one product at {n}: p50 ≤ {AS_OF_P50_MS} ms, one connection "
        f"| {as_of:.2f} ms | {_verdict(as_of <= AS_OF_P50_MS)} |",
        f"| (12) … within {AS_OF_GROWTH:g} × of the same read at {m} "
        f"| {as_of / as_of_small:.2f} × ({as_of:.2f} vs {as_of_small:.2f} ms) "
        f"| {_verdict(as_of <= AS_OF_GROWTH * as_of_small)} |",
        f"| (12) a backdated write costs ≤ {BACKDATED_RATIO:g} × a normal one (p50, at {n}) "
        f"| {backdated / plain:.2f} × ({backdated:.2f} vs {plain:.2f} ms) "
        f"| {_verdict(backdated <= BACKDATED_RATIO * plain)} |",
        f"| (14) `stockroom verify` at {n} ≤ {VERIFY_SECONDS} s, sound "
        f"| {seconds:,.1f} s, {'sound' if big['verify']['ok'] else 'broken'} "
        f"(load {_load(big['verify'])}) "
        f"| {_verdict(seconds <= VERIFY_SECONDS and bool(big['verify']['ok']))} |",
    ]


def write_benchmarks(results: dict[str, Any], path: Path) -> None:
    """Rewrite the part between this bench's markers (appended at the end the first time)."""
    text = path.read_text()
    if BEGIN not in text or END not in text:
        text = (
            text.rstrip()
            + "\n\n## Stock through time and 10 M movements (issues 12 and 14)\n\n"
            + BEGIN
            + "\n"
            + END
            + "\n"
        )
    head, rest = text.split(BEGIN, 1)
    tail = rest.split(END, 1)[1]
    path.write_text(head + BEGIN + "\n" + render(results) + END + tail)


def movement_counts(value: str) -> list[int]:
    return [int(part) for part in value.split(",") if part.strip()]


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--movements", type=movement_counts, default=[1_000_000, 10_000_000])
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--keep", action="store_true", help="keep the last database afterwards")
    parser.add_argument("--write", action="store_true", help="rewrite BENCHMARKS.md's part")
    args = parser.parse_args()
    results = run(args.movements, args.seconds, keep=args.keep)
    RESULTS.mkdir(exist_ok=True)
    raw = RESULTS / f"through-time-{datetime.now(UTC):%Y%m%dT%H%M%SZ}.json"
    raw.write_text(json.dumps(results, indent=2))
    print(json.dumps(results, indent=2))
    if args.write:
        write_benchmarks(results, BENCH.parent / "BENCHMARKS.md")
        print(f"BENCHMARKS.md rewritten; raw results in {raw.relative_to(BENCH.parent)}")


if __name__ == "__main__":
    main()
