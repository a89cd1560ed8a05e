"""The raw-SQL limit on SQLite: the API's statements run straight through the stdlib driver.

pgbench speaks only PostgreSQL, so here two processes (one per core) of 16 threads each
(32 connections, as the API gets) loop over a script from bench/sql/sqlite/ for a fixed
time, each with its own connection (WAL, busy timeout as the API sets them).
"""

from __future__ import annotations

import multiprocessing
import random
import sqlite3
import threading
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from bench.drivers import CONNECTIONS, THREADS, percentiles

SCRIPTS = Path(__file__).resolve().parent / "sql" / "sqlite"
BUSY_TIMEOUT_MS = 30_000


@dataclass(frozen=True)
class Job:
    """One limit run: scripts to alternate, fixed parameters, and what varies per transaction."""

    db_path: str
    scripts: tuple[str, ...]
    fixed: dict[str, Any]
    vary: str  # the name of a parameter maker below
    seconds: float
    threads: int


def _statements(name: str) -> list[str]:
    text = (SCRIPTS / name).read_text()
    return [s.strip() for s in text.split(";\n") if s.strip()]


# --- per-transaction parameters, one maker per scenario ---------------------------------------


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")


def vary_adjustment(
    rng: random.Random, n: int, fixed: dict[str, Any]
) -> tuple[int, dict[str, Any]]:
    q = 1 if n % 2 == 0 else -1
    return (0 if q > 0 else 1), {
        "product_id": rng.choice(fixed["product_ids"]),
        "q": q,
        "movement_id": uuid.uuid4().hex,
        "now": _now(),
    }


def vary_product(rng: random.Random, n: int, fixed: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    return 0, {"product_id": rng.choice(fixed["product_ids"])}


def vary_site(rng: random.Random, n: int, fixed: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    return 0, {"site_id": rng.choice(fixed["site_ids"]), "now": _now()}


def vary_cursor(rng: random.Random, n: int, fixed: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    at = datetime.fromisoformat(fixed["deep_from"]) + timedelta(
        seconds=rng.randint(0, fixed["deep_seconds"])
    )
    return 0, {"cursor_at": at.strftime("%Y-%m-%d %H:%M:%S.%f")}


VARY = {
    "adjustment": vary_adjustment,
    "product": vary_product,
    "site": vary_site,
    "cursor": vary_cursor,
}


# --- the loop ---------------------------------------------------------------------------------


def _loop(job: Job, seed: int, latencies: list[float], failures: list[str]) -> None:
    db = sqlite3.connect(job.db_path, isolation_level=None, timeout=BUSY_TIMEOUT_MS / 1000)
    db.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
    scripts = [_statements(name) for name in job.scripts]
    fixed = {k: v for k, v in job.fixed.items() if not isinstance(v, list)}
    rng, make = random.Random(seed), VARY[job.vary]
    deadline, n = time.monotonic() + job.seconds, seed
    while time.monotonic() < deadline:
        which, params = make(rng, n, job.fixed)
        n += 1
        started = time.perf_counter()
        try:
            for statement in scripts[which]:
                db.execute(statement, fixed | params).fetchall()
        except sqlite3.Error as exc:
            failures.append(str(exc))
            if db.in_transaction:
                db.execute("ROLLBACK")
            continue
        latencies.append((time.perf_counter() - started) * 1000)
    db.close()


def _process(job: Job, first_seed: int) -> tuple[list[float], list[str]]:
    latencies: list[float] = []
    failures: list[str] = []
    threads = [
        threading.Thread(target=_loop, args=(job, first_seed + t, latencies, failures))
        for t in range(job.threads)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(job.seconds + 60)
    return latencies, failures


def run_sqlite_limit(
    db_path: str, scripts: tuple[str, ...], fixed: dict[str, Any], vary: str, seconds: int
) -> dict[str, Any]:
    """Loop the scripts from CONNECTIONS connections over THREADS processes for `seconds`."""
    job = Job(db_path, scripts, fixed, vary, seconds, CONNECTIONS // THREADS)
    context = multiprocessing.get_context("spawn")
    with context.Pool(THREADS) as pool:
        pending = pool.starmap_async(_process, [(job, p * 1000) for p in range(THREADS)])
        parts = pending.get(timeout=seconds + 120)
    latencies = [x for part, _ in parts for x in part]
    failures = [x for _, part in parts for x in part]
    p50, p99 = percentiles(latencies)
    return {
        "throughput": len(latencies) / seconds,
        "unit": "tx/s",
        "p50_ms": p50,
        "p99_ms": p99,
        "count": len(latencies),
        "failed": len(failures),
        "non2xx": None,
        "first_failure": failures[0] if failures else "",
    }
