"""Prometheus metrics: requests per route template and status, movements written, refusals.

One process: the metrics live in prometheus-client's default registry. Several worker
processes (`stockroom serve --workers N`, or any server that forks/spawns workers): set
`PROMETHEUS_MULTIPROC_DIR` to an empty directory before the workers start; each process then
writes its values to files there, and `/metrics` (answered by any worker) adds them all up.
`stockroom serve --workers N` creates and wipes such a directory itself when none is set.

Movements are counted once their transaction commits (a rolled-back request wrote nothing,
so it counts nothing): the ledger writer hands its rows to `count_movements_on_commit`, and a
SQLAlchemy `after_commit` hook adds them up. This module imports no FastAPI.
"""

from __future__ import annotations

import os
from collections import Counter as Tally
from collections.abc import Iterable, Mapping
from typing import Any

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Histogram,
    disable_created_metrics,
    generate_latest,
    multiprocess,
)
from sqlalchemy import event
from sqlalchemy.orm import Session, SessionTransaction

from stockroom.db.models.ledger import MOVEMENT_TYPES

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"
# A route label for requests that matched no route (their paths are the client's to choose,
# so they must not become label values).
UNMATCHED = "<unmatched>"
_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})

# The `*_created` series only double the scrape; rates come from the counters themselves.
disable_created_metrics()  # type: ignore[no-untyped-call]

REQUESTS = Counter(
    "stockroom_http_requests",
    "HTTP requests answered, by method, route template and status.",
    ["method", "route", "status"],
)
REQUEST_SECONDS = Histogram(
    "stockroom_http_request_duration_seconds",
    "Time from a request's arrival to the end of its response, by method, route and status.",
    ["method", "route", "status"],
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
)
MOVEMENTS_WRITTEN = Counter(
    "stockroom_movements_written",
    "Stock movements committed to the ledger, by movement type.",
    ["type"],
)
INSUFFICIENT_STOCK_REFUSALS = Counter(
    "stockroom_insufficient_stock_refusals",
    "Stock writes refused because a level would go below zero (422 insufficient_stock).",
)
for _type in MOVEMENT_TYPES:  # every type shows from the start, at 0
    MOVEMENTS_WRITTEN.labels(_type)

# Label lookups take a lock and build a tuple; a request reuses the children of its key.
_request_children: dict[tuple[str, str, int], tuple[Any, Any]] = {}


def observe_request(method: str, route: str | None, status: int, seconds: float) -> None:
    """Count one answered request and its duration."""
    key = (method if method in _METHODS else "OTHER", route or UNMATCHED, status)
    children = _request_children.get(key)
    if children is None:
        labels = (key[0], key[1], str(status))
        children = (REQUESTS.labels(*labels), REQUEST_SECONDS.labels(*labels))
        _request_children[key] = children
    children[0].inc()
    children[1].observe(seconds)


def render_metrics() -> tuple[bytes, str]:
    """The exposition text and its content type; every worker's values in multiprocess mode."""
    if os.environ.get(MULTIPROC_ENV):
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
        return generate_latest(registry), CONTENT_TYPE_LATEST
    return generate_latest(REGISTRY), CONTENT_TYPE_LATEST


# --- the ledger's counters ---------------------------------------------------------------------

_PENDING = "stockroom.movements_pending"


def count_movements_on_commit(session: Any, rows: Iterable[Mapping[str, Any]]) -> None:
    """Count the movement rows (by type) when the session's transaction commits."""
    pending: Tally[str] = session.info.setdefault(_PENDING, Tally())
    for row in rows:
        pending[row["type"]] += 1


def count_insufficient_stock() -> None:
    """One stock write refused for lack of stock."""
    INSUFFICIENT_STOCK_REFUSALS.inc()


@event.listens_for(Session, "after_commit")
def _count_committed(session: Session) -> None:
    pending: Tally[str] | None = session.info.pop(_PENDING, None)
    if pending:
        for movement_type, count in pending.items():
            MOVEMENTS_WRITTEN.labels(movement_type).inc(count)


@event.listens_for(Session, "after_transaction_end")
def _forget_uncommitted(session: Session, transaction: SessionTransaction) -> None:
    # After a commit the count is already taken; after a rollback nothing was written.
    if transaction.parent is None:
        session.info.pop(_PENDING, None)
