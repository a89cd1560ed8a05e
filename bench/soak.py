"""Server memory over a mixed soak: does RSS keep growing after warm-up?

    .venv/bin/python -m bench.soak [--seconds 600] [--slice 30] [--write]

A fresh PostgreSQL database (`BENCH_SOAK_DATABASE`, default stockroom_bench_soak, dropped
after) with the benchmark's data set (`BENCH_MOVEMENTS`, 1,000,000), then `stockroom serve
--workers 2` under wrk (32 connections) replaying ONE request file that mixes every read and
write scenario of `make bench` (bench/scenarios.py READS + WRITES, shuffled), in slices of
`--slice` seconds for `--seconds` in all. After each slice: the workers' RSS (VmRSS from
/proc, summed), their CPU, req/s and non-2xx answers. Warm-up is the first fifth of the soak;
growth is the last slice's RSS against the first slice after warm-up (target ≤ 10 %).
`--write` puts the table into BENCHMARKS.md between its soak markers.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench import data
from bench.drivers import run_wrk
from bench.run import ADMIN_URL, RESULTS, WORKERS, load_postgres, log, sql
from bench.scenarios import READS, WRITES, Context
from bench.server import Server, cpu_seconds, memory_kib, stockroom

DATABASE = os.environ.get("BENCH_SOAK_DATABASE", "stockroom_bench_soak")
BEGIN = "<!-- soak:begin — written by `python -m bench.soak --write` -->"
END = "<!-- soak:end -->"


def database_url() -> str:
    base = ADMIN_URL.rsplit("/", 1)[0]
    return f"{base}/{DATABASE}"


def mixed_requests(ctx: Context) -> Path:
    """One request file with every scenario's requests, shuffled (reads and writes mixed)."""
    lines: list[str] = []
    for scenario in READS + WRITES:
        lines += scenario.requests(ctx, random.Random(f"soak-{scenario.key}"))
    random.Random("soak").shuffle(lines)
    path = RESULTS / "requests-postgresql-soak.tsv"
    path.write_text("\n".join(lines) + "\n")
    return path


def rss_mib(pids: list[int]) -> float:
    return sum(memory_kib(pid).get("VmRSS", 0) for pid in pids) / 1024


def soak(seconds: int, slice_seconds: int) -> dict[str, Any]:
    url = database_url()
    asyncio.run(sql(ADMIN_URL, f'DROP DATABASE IF EXISTS "{DATABASE}" WITH (FORCE)'))
    asyncio.run(sql(ADMIN_URL, f'CREATE DATABASE "{DATABASE}"'))
    try:
        stockroom(["migrate"], url)
        brand = data.Brand.from_demo(json.loads(stockroom(["demo", "--json"], url)))
        asyncio.run(load_postgres(url, brand))
        requests_file = mixed_requests(Context(brand))
        server = Server(url, WORKERS, RESULTS / "server-soak.log")
        server.start()
        slices: list[dict[str, Any]] = []
        try:
            workers = server.worker_pids()
            started = time.monotonic()
            while time.monotonic() - started < seconds:
                cpu_before = cpu_seconds(workers)
                result = run_wrk(server.url, brand.token, requests_file, slice_seconds)
                cpu = cpu_seconds(workers) - cpu_before
                slices.append(
                    {
                        "at_s": round(time.monotonic() - started),
                        "rss_mib": round(rss_mib(workers), 1),
                        "req_s": round(result["throughput"], 1),
                        "requests": result["count"],
                        "non2xx": result["non2xx"],
                        "cpu_ms_per_request": round(cpu * 1000 / max(1, result["count"]), 2),
                        "p50_ms": round(result["p50_ms"], 2),
                        "p99_ms": round(result["p99_ms"], 2),
                    }
                )
                log(f"soak: {slices[-1]}")
        finally:
            server.stop()
    finally:
        asyncio.run(sql(ADMIN_URL, f'DROP DATABASE IF EXISTS "{DATABASE}" WITH (FORCE)'))
    warm = max(1, len(slices) // 5)
    after_warm_up, last = slices[warm]["rss_mib"], slices[-1]["rss_mib"]
    return {
        "started": datetime.now(UTC).strftime("%Y-%m-%d %H:%M"),
        "seconds": seconds,
        "slice_seconds": slice_seconds,
        "load_average": [round(x, 1) for x in os.getloadavg()],
        "slices": slices,
        "warm_up_slices": warm,
        "rss_after_warm_up_mib": after_warm_up,
        "rss_last_mib": last,
        "growth_percent": round((last - after_warm_up) * 100 / after_warm_up, 1),
        "requests": sum(s["requests"] for s in slices),
        "non2xx": sum(s["non2xx"] for s in slices),
    }


def table(result: dict[str, Any], command: str) -> str:
    growth = result["growth_percent"]
    verdict = "met" if growth <= 10 else "**missed**"
    out = [
        BEGIN,
        f"**Run** {result['started']} UTC, `{command}`: {result['seconds']} s of wrk (32 "
        f"connections) in {result['slice_seconds']} s slices against `stockroom serve --workers "
        f"2`, one request file mixing every read and write scenario; load average at the end "
        f"{' '.join(map(str, result['load_average']))}. {result['requests']:,} requests, "
        f"{result['non2xx']:,} non-2xx (the scenarios' expected refusals, e.g. short stock).",
        "",
        f"RSS of the two workers after warm-up ({result['warm_up_slices']} slices): "
        f"{result['rss_after_warm_up_mib']} MiB; at the end: {result['rss_last_mib']} MiB; "
        f"growth **{growth} %** — target ≤ 10 %: {verdict}.",
        "",
        "| at s | RSS MiB | req/s | CPU ms/req | p50 / p99 ms | non-2xx |",
        "| ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for s in result["slices"]:
        out.append(
            f"| {s['at_s']} | {s['rss_mib']} | {s['req_s']} | {s['cpu_ms_per_request']} | "
            f"{s['p50_ms']} / {s['p99_ms']} | {s['non2xx']} |"
        )
    out.append(END)
    return "\n".join(out)


def write_benchmarks(text: str, path: Path) -> None:
    current = path.read_text()
    if BEGIN in current and END in current:
        head, rest = current.split(BEGIN, 1)
        _, tail = rest.split(END, 1)
        path.write_text(head + text + tail)
    else:
        path.write_text(
            current.rstrip("\n")
            + "\n\n## Server memory over a mixed soak (issue 16)\n\n"
            + text
            + "\n"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--seconds", type=int, default=600)
    parser.add_argument("--slice", type=int, default=30)
    parser.add_argument("--write", action="store_true", help="write into BENCHMARKS.md")
    args = parser.parse_args()
    RESULTS.mkdir(exist_ok=True)
    result = soak(args.seconds, args.slice)
    raw = RESULTS / f"soak-{datetime.now(UTC):%Y%m%dT%H%M%SZ}.json"
    raw.write_text(json.dumps(result, indent=2))
    command = f"python -m bench.soak --seconds {args.seconds} --slice {args.slice}"
    text = table(result, command)
    print(text)
    if args.write:
        write_benchmarks(text, Path(__file__).resolve().parent.parent / "BENCHMARKS.md")


if __name__ == "__main__":
    main()
