"""BENCHMARKS.md from a run's results: the machine, the command, and the side-by-side tables.

Only the part between the markers is rewritten, so notes written by hand around it stay.
"""

from __future__ import annotations

import os
import platform
import re
import subprocess
from pathlib import Path
from typing import Any

BEGIN = "<!-- bench:begin — written by `make bench`; edit outside these markers -->"
END = "<!-- bench:end -->"

TARGET_RATIO, GOAL_RATIO = 0.3, 0.5
READ_P50_MS, READ_P99_MS = 20, 100
INITIAL_STOCK_SECONDS = 10
CSV_GROWTH_MB = 100


# --- the machine ------------------------------------------------------------------------------


def _first_line(command: list[str]) -> str:
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=10, check=False)
    except OSError:
        return "not found"
    return (
        (done.stdout or done.stderr).strip().splitlines()[0] if (done.stdout or done.stderr) else ""
    )


def _cpu_model() -> str:
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            return line.split(":", 1)[1].strip()
    return platform.processor() or "unknown"


def _memory_gib() -> float:
    for line in Path("/proc/meminfo").read_text().splitlines():
        if line.startswith("MemTotal:"):
            return int(line.split()[1]) / 1024 / 1024
    return 0.0


def machine(postgres_version: str, load_average: tuple[float, float, float]) -> dict[str, Any]:
    return {
        "nproc": _first_line(["nproc"]),
        "cpu": _cpu_model(),
        "memory_gib": round(_memory_gib(), 1),
        "kernel": platform.release(),
        "python": platform.python_version(),
        "postgresql": postgres_version,
        "wrk": _first_line(["wrk", "--version"]).split(" [")[0],
        "pgbench": _first_line(["pgbench", "--version"]),
        "load_average": " ".join(f"{x:.1f}" for x in load_average),
    }


def command() -> str:
    overrides = [
        f"{name}={os.environ[name]}"
        for name in (
            "BENCH_SECONDS",
            "BENCH_SQLITE_PRODUCTS",
            "BENCH_ONLY",
            "EVENTS_COST_ROUNDS",
            "EVENTS_COST_SECONDS",
            "BENCH_WEBHOOK_EVENTS",
        )
        if name in os.environ
    ]
    return " ".join([*overrides, "make bench"])


# --- formatting -------------------------------------------------------------------------------


def _num(value: float | None, digits: int = 0) -> str:
    return "–" if value is None else f"{value:,.{digits}f}"


def _latency(value: float | None) -> str:
    return _num(value, 2 if value is not None and value < 1 else 1)


def _ms(result: dict[str, Any]) -> str:
    return f"{_latency(result.get('p50_ms'))} / {_latency(result.get('p99_ms'))}"


def _load_table(rows: list[dict[str, Any]]) -> list[str]:
    lines = [
        "| scenario | limit: SQL tx/s | limit p50 / p99 ms | API req/s | API p50 / p99 ms "
        "| API / limit | API non-2xx | server peak RSS MiB | API p50 / p99 ms, 1 connection |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for r in rows:
        if "skipped" in r:
            lines.append(f"| {r['title']} | {r['skipped']} | | | | | | | |")
            continue
        limit, api = r["limit"], r["api"]
        alone = _ms(api["alone"]) if "alone" in api else "–"
        lines.append(
            f"| {r['title']} | {_num(limit['throughput'])} | {_ms(limit)} "
            f"| {_num(api['throughput'])} | {_ms(api)} | **{_num(r['ratio'], 2)}** "
            f"| {api['non2xx']:,} | {_num(api.get('rss_peak_mib'))} | {alone} |"
        )
    return lines


def bare_table(rows: list[dict[str, Any]]) -> list[str]:
    """The API beside bare endpoints doing the same SQL (bench/bare.py), same run, same wrk.

    API ÷ bare is the distance to the framework; ÷ pgbench tx the distance to the database
    (the scenario's statements in a transaction; for (a) also one CTE, the merged write).
    CPU ms/req: the server workers' CPU time over the run per request answered.
    """
    lines = [
        "| scenario | served by | req/s | p50 / p99 ms | API ÷ this | this ÷ pgbench tx "
        "| CPU ms/req | non-2xx |",
        "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for r in rows:
        if "skipped" in r or "bare" not in r:
            continue
        limit, api = r["limit"], r["api"]

        def served(
            name: str, result: dict[str, Any], ratio: str, limit: dict[str, Any] = limit
        ) -> str:
            share = result["throughput"] / limit["throughput"] if limit["throughput"] else None
            return (
                f"| | {name} | {_num(result['throughput'])} | {_ms(result)} | {ratio} "
                f"| {_num(share, 2)} | {_num(result.get('cpu_ms_per_request'), 2)} "
                f"| {result['non2xx']:,} |"
            )

        lines.append(
            f"| {r['title']} | pgbench, the scenario's statements in a transaction "
            f"| {_num(limit['throughput'])} | {_ms(limit)} | | 1.00 | | |"
        )
        if "limit_cte" in r:
            cte = r["limit_cte"]
            share = cte["throughput"] / limit["throughput"] if limit["throughput"] else None
            lines.append(
                f"| | pgbench, one CTE | {_num(cte['throughput'])} | {_ms(cte)} | "
                f"| {_num(share, 2)} | | |"
            )
        lines.append(served("**Stockroom API**", api, "1.00"))
        for bare in r["bare"]:
            lines.append(
                served(f"bare {bare['label']}", bare["api"], f"**{_num(bare['ratio'], 2)}**")
            )
    return lines


def _jobs_table(jobs: list[dict[str, Any]]) -> list[str]:
    lines = [
        "| job | limit: SQL s | API s | API / limit | API non-2xx | server RSS growth / peak MiB |",
        "| --- | ---: | ---: | ---: | ---: | ---: |",
    ]
    for job in jobs:
        if "skipped" in job:
            lines.append(f"| {job['key']} | {job['skipped']} | | | | |")
            continue
        limit, api = job["limit"], job["api"]
        ratio = limit["seconds"] / api["seconds"] if api["seconds"] else None
        if api.get("finished") is False:
            ratio = None  # stopped at the deadline: the API figure is a lower bound
        non2xx = api.get("non2xx", 0 if 200 <= api.get("status", 200) < 300 else 1)
        growth = api.get("rss_growth_mib")
        memory = (
            f"{_num(growth)} / {_num(api.get('rss_peak_mib'))}"
            if growth is not None
            else f"– / {_num(api.get('rss_peak_mib'))}"
        )
        lines.append(
            f"| {job['title']} | {_num(limit['seconds'], 1)} | {_num(api['seconds'], 1)} "
            f"| **{_num(ratio, 2)}** | {non2xx:,} | {memory} |"
        )
    return lines


def _failures(rows: list[dict[str, Any]]) -> list[str]:
    lines = []
    for r in rows:
        for side in ("limit", "api"):
            result = r.get(side) or {}
            if result.get("failed") and result.get("first_failure"):
                first = re.sub(r"\s+", " ", str(result["first_failure"]))[:300]
                lines.append(
                    f"- {r['title']}, {side}: {result['failed']:,} failed; first: `{first}`"
                )
    return lines


# --- targets ----------------------------------------------------------------------------------


def _by_key(rows: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {r["key"]: r for r in rows if "skipped" not in r}


def _fast(result: dict[str, Any]) -> bool:
    return bool(result["p50_ms"] <= READ_P50_MS and result["p99_ms"] <= READ_P99_MS)


def _mark(ok: bool | None) -> str:
    return "–" if ok is None else ("met" if ok else "**missed**")


def _targets(postgres: dict[str, Any]) -> list[str]:
    rows, jobs = _by_key(postgres["rows"]), _by_key(postgres["jobs"])
    lines = ["| target (issue 5) | measured | |", "| --- | --- | --- |"]
    a = rows.get("a")
    if a:
        ok = a["ratio"] >= TARGET_RATIO and a["api"]["non2xx"] == 0
        lines.append(
            f"| (a) API ≥ {TARGET_RATIO} × limit ({GOAL_RATIO} the goal), zero non-2xx "
            f"| {a['ratio']:.2f} ×, {a['api']['non2xx']} non-2xx | {_mark(ok)} |"
        )
    r1 = rows.get("r1")
    if a and r1:
        # Issue 11: a reservation costs no more than an adjustment (API throughput, same load).
        ok = r1["api"]["throughput"] >= a["api"]["throughput"] and r1["api"]["non2xx"] == 0
        lines.append(
            f"| (r1) reserving 1 line costs no more than an adjustment (API req/s ≥ (a)'s) "
            f"| {r1['api']['throughput']:.0f} vs {a['api']['throughput']:.0f} req/s, "
            f"{r1['api']['non2xx']} non-2xx | {_mark(ok)} |"
        )
    for key in ("e1", "e2", "e3", "e4"):
        r = rows.get(key)
        if r:
            api, alone = r["api"], r["api"].get("alone")
            verdicts = [f"{_mark(_fast(api))} at 32 connections"]
            measured = f"{_ms(api)} ms at 32 connections"
            if alone:
                verdicts.append(f"{_mark(_fast(alone))} at 1")
                measured += f"; {_ms(alone)} ms at 1"
            lines.append(
                f"| {r['title']}: p50 ≤ {READ_P50_MS} ms, p99 ≤ {READ_P99_MS} ms "
                f"| {measured} | {', '.join(verdicts)} |"
            )
    f1, f2 = jobs.get("f1"), jobs.get("f2")
    if f1:
        api = f1["api"]
        ok = api["seconds"] <= INITIAL_STOCK_SECONDS and api["non2xx"] == 0 and api["finished"]
        done = "" if api["finished"] else f" (stopped after {api['lines_sent']:,} lines)"
        lines.append(
            f"| (f) {f1['lines']:,} initial-stock lines ≤ {INITIAL_STOCK_SECONDS} s "
            f"| {api['seconds']:.1f} s{done} | {_mark(ok)} |"
        )
    if f2:
        growth = f2["api"]["rss_growth_mib"] * 1.048576  # MiB → MB
        ok = growth <= CSV_GROWTH_MB and f2["api"]["status"] == 200
        lines.append(
            f"| (f) CSV export of 1,000,000 movements: memory growth ≤ {CSV_GROWTH_MB} MB "
            f"| {growth:.0f} MB, {f2['api']['rows']:,} rows in {f2['api']['seconds']:.1f} s "
            f"| {_mark(ok)} |"
        )
    return lines


# --- profile ----------------------------------------------------------------------------------


def _profile(profiled: dict[str, Any]) -> list[str]:
    if "error" in profiled:
        return [f"Not profiled: {profiled['error']}."]
    lines = [
        f"py-spy sampled one worker at 200 Hz under (a) ({profiled['samples']:,} samples, "
        f"on-CPU Python only); flame graph of the other worker: `{profiled['svg']}`, "
        f"collapsed stacks: `{profiled['raw']}`.",
        "",
        "| request step (first match in the stack) | share of samples |",
        "| --- | ---: |",
    ]
    lines += [f"| {name} | {share:.1f} % |" for name, share in profiled["steps"]]
    lines += ["", "| library of the innermost frame | share of samples |", "| --- | ---: |"]
    lines += [f"| {name} | {share:.1f} % |" for name, share in profiled["libraries"]]
    return lines


# --- the document -----------------------------------------------------------------------------


def render(results: dict[str, Any]) -> str:
    postgres, sqlite, m = results["postgresql"], results["sqlite"], results["machine"]
    verified = postgres.get("verify", {})
    skipped = [r for r in postgres["rows"] + postgres["jobs"] + sqlite["rows"] if "skipped" in r]
    lines = [
        BEGIN,
        "",
        f"**Run** {results['started'][:16].replace('T', ' ')} UTC, `{results['command']}`, "
        f"{results['seconds_per_phase']} s per load phase, {results['minutes']:.1f} min in all.",
        "",
        f"**Machine** {m['nproc']} cores (`nproc`), {m['cpu']}, {m['memory_gib']} GiB; "
        f"PostgreSQL {m['postgresql']}; Python {m['python']}; Linux {m['kernel']}; "
        f"{m['wrk']}; {m['pgbench']}. Load generator, server and database share the two cores "
        f"(load average {m['load_average']} when the run started).",
        "",
        f"**Data** one brand, 10,000 products, 20 sites, "
        f"{postgres.get('movements', 1_000_000):,} movements on PostgreSQL "
        f"(loaded in {postgres['load_seconds']:.0f} s); {sqlite['movements']:,} on SQLite "
        f"(loaded in {sqlite['load_seconds']:.0f} s). `stockroom verify` after the run: "
        f"{'sound' if verified.get('ok') else 'FAILED ' + str(verified)[:200]}.",
        "",
        "### PostgreSQL — the API (`stockroom serve --workers 2`, wrk, 32 connections) "
        "against the same SQL issued directly (pgbench, 32 clients, `-M prepared`)",
        "",
        *_load_table(postgres["rows"]),
        "",
        "Server peak RSS: the two workers' VmHWM during the 32-connection phase, summed.",
        "",
        "### PostgreSQL — the API beside bare endpoints doing the same SQL (bench/bare.py)",
        "",
        *bare_table(postgres["rows"]),
        "",
        "### PostgreSQL — one-shot jobs (f)",
        "",
        *_jobs_table(postgres["jobs"]),
        "",
        "### SQLite (the default backend) — the API (2 workers) against the same SQL "
        "through the stdlib driver (2 processes × 16 threads)",
        "",
        *_load_table(sqlite["rows"]),
        "",
        "### Targets",
        "",
        *_targets(postgres),
        "",
    ]
    if skipped:
        lines += ["### Not run", ""]
        lines += [
            f"- {r.get('title', r['key'])} ({r.get('backend', 'postgresql')}): {r['skipped']}"
            for r in skipped
        ]
        lines.append("")
    failures = _failures(postgres["rows"] + sqlite["rows"])
    if failures:
        lines += ["### Failed requests", "", *failures, ""]
    lines += ["### Where the time goes in (a): py-spy", "", *_profile(postgres["profile"]), "", END]
    return "\n".join(lines)


HEADER = """# Benchmarks

`make bench` measures every scenario of issue 5 twice over the same data, in one run: the
**limit** — the SQL statements the API call needs, issued straight to the database at the
same concurrency — and the **API** over HTTP. *API / limit* is API req/s ÷ limit tx/s (for
the one-shot jobs, limit seconds ÷ API seconds): 1.0 would mean the Python layer costs
nothing. How it works and what each scenario sends: `bench/run.py`, `bench/scenarios.py`,
the scripts in `bench/sql/` and `bench/wrk/`.

"""


EVENTS_BEGIN = "<!-- bench:events:begin — written by `make bench`; edit outside these markers -->"
EVENTS_END = "<!-- bench:events:end -->"
EVENTS_COST_TARGET = 15.0


def render_events(results: dict[str, Any]) -> str:
    """The events' figures of a run (issue 13): their cost to an adjustment, and delivery."""
    when = str(results.get("started", ""))[:16].replace("T", " ")
    cost, delivery = results["events"]["cost"], results["events"]["delivery"]
    load = " ".join(f"{x:.1f}" for x in cost["load_average"])
    pairs = ", ".join(
        f"{w:.0f}/{o:.0f}" for w, o in zip(cost["with_events"], cost["without"], strict=True)
    )
    met = cost["cost_percent"] <= EVENTS_COST_TARGET
    lines = [
        EVENTS_BEGIN,
        "",
        f"**Run** {when} UTC, `{results.get('command', 'make bench')}` (load average {load} "
        "when it began, on 2 cores shared with other work: see the caveat below).",
        "",
        "| figure | value |",
        "| --- | ---: |",
        f"| adjustments with events, req/s (median of {cost['rounds']} rounds of "
        f"{cost['seconds']:g} s) | {cost['median_with_events']:.1f} |",
        f"| without, req/s (median) | {cost['median_without']:.1f} |",
        f"| **cost of the events** (median of the pairs' costs) | "
        f"**{cost['cost_percent']:.1f} %** {_mark(met)} (≤ {EVENTS_COST_TARGET:g} %) |",
        f"| cost of the two medians | {cost['cost_of_medians_percent']:.1f} % |",
        f"| CPU of the bench's process per adjustment, with / without events (median) | "
        f"{cost['cpu_ms_with_events']:.2f} / {cost['cpu_ms_without']:.2f} ms |",
        f"| {delivery['events']:,} events delivered to one endpoint ({delivery['backend']}) | "
        f"{delivery['seconds']:.1f} s, {delivery['events_per_second']:.0f} events/s |",
        "",
        f"Rounds, with/without req/s in pairs: {pairs}.",
        "",
        EVENTS_END,
    ]
    return "\n".join(lines)


def write_events(results: dict[str, Any], path: Path) -> None:
    """Put the events' figures between their markers in BENCHMARKS.md (appended if missing)."""
    generated = render_events(results)
    text = path.read_text() if path.exists() else HEADER
    if EVENTS_BEGIN not in text or EVENTS_END not in text:
        text = text.rstrip() + "\n\n" + EVENTS_BEGIN + "\n" + EVENTS_END + "\n"
    head, rest = text.split(EVENTS_BEGIN, 1)
    tail = rest.split(EVENTS_END, 1)[1]
    path.write_text(head + generated + tail)


def write_benchmarks(results: dict[str, Any], path: Path) -> None:
    generated = render(results)
    text = path.read_text() if path.exists() else HEADER + BEGIN + "\n" + END + "\n"
    if BEGIN not in text or END not in text:
        text = text.rstrip() + "\n\n" + BEGIN + "\n" + END + "\n"
    head, rest = text.split(BEGIN, 1)
    tail = rest.split(END, 1)[1]
    path.write_text(head + generated + tail)


if __name__ == "__main__":
    # Rewrite BENCHMARKS.md from a saved run: python -m bench.report bench/results/bench-*.json
    import json
    import sys

    saved = json.loads(Path(sys.argv[1]).read_text())
    target = Path(__file__).resolve().parent.parent / "BENCHMARKS.md"
    write_benchmarks(saved, target)
    if "events" in saved:
        write_events(saved, target)
