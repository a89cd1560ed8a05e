"""py-spy on the server's workers under scenario (a): a flame graph and where the time goes.

Both workers are sampled at once under the same wrk load: one into an SVG flame graph,
the other into collapsed stacks that `summarize` splits by request step (auth query,
validation, ledger statements, JSON, uvicorn…) and by library.
"""

from __future__ import annotations

import re
import subprocess
import time
from collections import Counter
from pathlib import Path
from typing import Any

from bench.drivers import CONNECTIONS, THREADS, WRK_SCRIPT

PY_SPY = Path(__file__).resolve().parent.parent / ".venv" / "bin" / "py-spy"
WARM_UP_SECONDS = 2

# Stacks under a request (uvicorn's run_asgi): the first match wins, so the specific steps
# come before the frames every request stack shares.
STEPS = [
    ("auth: token → user query", r"load_principal|get_principal"),
    ("current site lookup", r"resolve_current_site|load_site"),
    ("product/location check", r"check_line_targets"),
    ("ledger: level writes + movement insert", r"post_movements"),
    ("commit / session close", r"get_session|RequestTransaction\._end|RequestTransaction\.close"),
    ("response model + JSON", r"serialize_response|jsonable_encoder|render |model_validate|dumps"),
    ("request parsing + validation", r"request_body_to_args|solve_dependencies|_validate|body "),
    ("middleware + routing (Starlette, FastAPI, stockroom)", r"starlette/|fastapi/|stockroom/"),
    ("uvicorn HTTP", r"uvicorn/|httptools|h11/|serving\.py"),
]
# SQLAlchemy's async layer runs each Session.execute/commit in a greenlet whose stack does
# not show the coroutine that called it: that work is one bucket, whichever step it served.
GREENLET = "SQLAlchemy statement execution in its greenlet (compile cache, params, results, ORM)"
NATIVE = "no Python frame (uvloop/epoll, C)"
EVENT_LOOP = "event loop (asyncio/uvloop callbacks)"
IDLE = "idle thread-pool threads"

LIBRARIES = [
    ("SQLAlchemy", "sqlalchemy/"),
    ("asyncpg", "asyncpg/"),
    ("pydantic", "pydantic"),
    ("FastAPI", "fastapi/"),
    ("Starlette", "starlette/"),
    ("uvicorn", "uvicorn/"),
    ("stockroom", "stockroom/"),
    ("asyncio", "asyncio/"),
    ("json", "json/"),
]


def record(
    workers: list[int], url: str, token: str, requests_file: Path, seconds: int, results: Path
) -> dict[str, Any]:
    """Load the server with wrk while py-spy samples its workers; summarize the samples."""
    svg, raw = results / "profile-a.svg", results / "profile-a.txt"
    wrk = subprocess.Popen(
        [
            "wrk",
            f"-t{THREADS}",
            f"-c{CONNECTIONS}",
            f"-d{seconds + 2 * WARM_UP_SECONDS}s",
            "-s",
            str(WRK_SCRIPT),
            url,
            "--",
            token,
            str(requests_file),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    time.sleep(WARM_UP_SECONDS)
    spies = [
        _py_spy(workers[0], seconds, svg, "flamegraph"),
        _py_spy(workers[-1], seconds, raw, "raw"),
    ]
    for spy in spies:
        spy.wait(seconds + 60)
    wrk.wait(seconds + 60)
    if not raw.exists():
        return {"error": "py-spy wrote no samples (is ptrace allowed here?)"}
    return summarize(raw) | {
        "svg": str(svg.relative_to(results.parent.parent)),
        "raw": str(raw.relative_to(results.parent.parent)),
    }


def _py_spy(pid: int, seconds: int, output: Path, fmt: str) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [
            str(PY_SPY),
            "record",
            "--pid",
            str(pid),
            "--duration",
            str(seconds),
            "--rate",
            "200",
            "--nonblocking",
            "--format",
            fmt,
            "--output",
            str(output),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def summarize(raw: Path) -> dict[str, Any]:
    """Share of samples per request step and per library (the leaf frame's package).

    Samples of idle thread-pool threads are counted apart, not in the shares.
    """
    steps: Counter[str] = Counter()
    libraries: Counter[str] = Counter()
    total = idle = 0
    for line in raw.read_text().splitlines():
        stack, _, count_text = line.rpartition(" ")
        if not count_text.isdigit():
            continue
        count = int(count_text)
        step = _step(stack)
        if step == IDLE:
            idle += count
            continue
        total += count
        steps[step] += count
        libraries[_library(stack.split(";")[-1])] += count
    return {
        "samples": total,
        "idle_samples": idle,
        "steps": _shares(steps, total),
        "libraries": _shares(libraries, total),
    }


def _step(stack: str) -> str:
    if not stack.strip():
        return NATIVE
    if "_bootstrap_inner" in stack:
        return IDLE
    if "run_asgi" not in stack:
        if "sqlalchemy/" in stack and "Runner.run" not in stack:
            return GREENLET
        return EVENT_LOOP if "Runner.run" in stack else "other"
    for name, pattern in STEPS:
        if re.search(pattern, stack):
            return name
    return "other"


def _library(frame: str) -> str:
    for name, marker in LIBRARIES:
        if marker in frame:
            return name
    return "other (C, stdlib)"


def _shares(counter: Counter[str], total: int) -> list[tuple[str, float]]:
    return [(name, 100 * n / total) for name, n in counter.most_common()] if total else []
