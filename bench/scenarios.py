"""What each load scenario sends: the API's requests (for wrk) and the limit's script.

A scenario has two halves over the same data: `requests` writes the wrk request file
(METHOD <tab> PATH <tab> BODY a line) and `limit` names the script that issues the same
SQL directly — a pgbench file on PostgreSQL, a bench/sql/sqlite/ script on SQLite.
"""

from __future__ import annotations

import base64
import json
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from bench import data

REQUEST_LINES = 20_000
REPORT_DAYS = 30
# Deep keyset pages start at a random instant this far into the (newest-first) ledger:
# between 30 and 180 days after its first day, i.e. past half of its rows.
DEEP_FROM_DAY = 30
DEEP_SPAN_DAYS = 150
NEWEST_ID = "ffffffff-ffff-ffff-ffff-ffffffffffff"


@dataclass(frozen=True)
class Context:
    """The data set as the scenarios see it."""

    brand: data.Brand
    products: int = data.PRODUCTS
    today: date = field(default_factory=lambda: datetime.now(UTC).date())

    def product(self, rng: random.Random, count: int | None = None) -> str:
        return data.product_id(rng.randint(1, count or self.products))

    @property
    def report_days(self) -> tuple[date, date]:
        """A 30-day window (inclusive) inside the seeded ledger."""
        end = self.today - timedelta(days=31)
        return end - timedelta(days=REPORT_DAYS - 1), end

    @property
    def deep_from(self) -> datetime:
        start = data.ledger_start(self.today) + timedelta(days=DEEP_FROM_DAY)
        return datetime.combine(start, time.min, tzinfo=UTC)


@dataclass(frozen=True)
class Scenario:
    key: str
    title: str
    route: tuple[str, str]  # the API operation it needs: (METHOD, OpenAPI path)
    requests: Callable[[Context, random.Random], list[str]]
    pgbench: str
    pg_variables: Callable[[Context], dict[str, Any]] = lambda ctx: {}
    sqlite: tuple[tuple[str, ...], str] | None = None  # (scripts, parameter maker)


def _line(method: str, path: str, body: dict[str, Any] | None = None) -> str:
    return f"{method}\t{path}\t{json.dumps(body, separators=(',', ':')) if body else ''}"


# --- writes -----------------------------------------------------------------------------------


def adjustments(products: int | None) -> Callable[[Context, random.Random], list[str]]:
    """+1, −1, +1, … on random products: every thread's stream nets to zero."""

    def build(ctx: Context, rng: random.Random) -> list[str]:
        return [
            _line(
                "POST",
                "/inventory/adjustments",
                {
                    "product_id": ctx.product(rng, products),
                    "quantity": 1 if n % 2 == 0 else -1,
                    "reason_code": "correction",
                },
            )
            for n in range(REQUEST_LINES)
        ]

    return build


def transfers(ctx: Context, rng: random.Random) -> list[str]:
    return [
        _line(
            "POST",
            "/inventory/transfers",
            {
                "product_id": ctx.product(rng),
                "destination_site_id": ctx.brand.warehouse,
                "quantity": 1,
            },
        )
        for _ in range(REQUEST_LINES)
    ]


def invoices(ctx: Context, rng: random.Random) -> list[str]:
    """Five lines of one unit, one product from each fifth of the catalogue."""
    band = ctx.products // 5
    return [
        _line(
            "POST",
            "/invoices",
            {
                "lines": [
                    {
                        "product_id": data.product_id(k * band + rng.randint(1, band)),
                        "quantity": 1,
                        "unit_price": "2.50",
                    }
                    for k in range(5)
                ]
            },
        )
        for _ in range(REQUEST_LINES)
    ]


def reservations(ctx: Context, rng: random.Random) -> list[str]:
    """One line of one unit on a random product, held for 60 s (the sweeper frees it)."""
    return [
        _line(
            "POST",
            "/inventory/reservations",
            {"lines": [{"product_id": ctx.product(rng), "quantity": 1}], "ttl_seconds": 60},
        )
        for _ in range(REQUEST_LINES)
    ]


def reserved_invoices(ctx: Context, rng: random.Random) -> list[str]:
    """One unit of product k sold from the seeded reservation k (which holds 50,000)."""
    lines = []
    for _ in range(REQUEST_LINES):
        k = rng.randint(1, data.RESERVATIONS)
        body = {
            "reservation_id": data.reservation_id(k),
            "lines": [{"product_id": data.product_id(k), "quantity": 1, "unit_price": "2.50"}],
        }
        lines.append(_line("POST", "/invoices", body))
    return lines


# --- reads ------------------------------------------------------------------------------------


def report(ctx: Context, rng: random.Random) -> list[str]:
    start, end = ctx.report_days
    return [
        _line(
            "GET",
            f"/inventory/movements?product_id={ctx.product(rng)}"
            f"&start_date={start.isoformat()}&end_date={end.isoformat()}",
        )
        for _ in range(REQUEST_LINES)
    ]


def keyset_cursor(at: datetime) -> str:
    """A cursor at an instant (as the API encodes its `next_cursor`: [created_at, id])."""
    raw = json.dumps([at.isoformat(), NEWEST_ID]).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def deep_pages(ctx: Context, rng: random.Random) -> list[str]:
    span = DEEP_SPAN_DAYS * 86_400
    return [
        _line(
            "GET",
            "/inventory/movements?limit=100&cursor="
            + keyset_cursor(ctx.deep_from + timedelta(seconds=rng.randint(0, span))),
        )
        for _ in range(REQUEST_LINES)
    ]


def low_stock(ctx: Context, rng: random.Random) -> list[str]:
    return [
        _line("GET", f"/inventory/low-stock?site_id={rng.choice(ctx.brand.low_stock_sites)}")
        for _ in range(REQUEST_LINES)
    ]


def product_stock(ctx: Context, rng: random.Random) -> list[str]:
    return [
        _line("GET", f"/inventory/products/{ctx.product(rng)}/stock") for _ in range(REQUEST_LINES)
    ]


def _report_variables(ctx: Context) -> dict[str, Any]:
    start, end = ctx.report_days
    return {
        "range_start": datetime.combine(start, time.min, tzinfo=UTC).isoformat(),
        "range_end": datetime.combine(end + timedelta(days=1), time.min, tzinfo=UTC).isoformat(),
    }


def _keyset_variables(ctx: Context) -> dict[str, Any]:
    return {"deep_from": ctx.deep_from.isoformat(), "deep_seconds": DEEP_SPAN_DAYS * 86_400}


READS = [
    Scenario(
        "e1",
        "(e) movements report: one product, 30 days",
        ("GET", "/inventory/movements"),
        report,
        "report.sql",
        _report_variables,
        (("report.sql",), "product"),
    ),
    Scenario(
        "e2",
        "(e) deep keyset page (limit 100)",
        ("GET", "/inventory/movements"),
        deep_pages,
        "keyset.sql",
        _keyset_variables,
        (("keyset.sql",), "cursor"),
    ),
    Scenario(
        "e3",
        "(e) low stock at a site",
        ("GET", "/inventory/low-stock"),
        low_stock,
        "low_stock.sql",
        sqlite=(("low_stock.sql",), "site"),
    ),
    Scenario(
        "e4",
        "(e) one product's stock",
        ("GET", "/inventory/products/{product_id}/stock"),
        product_stock,
        "product_stock.sql",
        sqlite=(("product_stock.sql",), "product"),
    ),
]

WRITES = [
    Scenario(
        "a",
        "(a) adjustments ±1, 10,000 products",
        ("POST", "/inventory/adjustments"),
        adjustments(None),
        "adjustment.sql",
        sqlite=(("adjustment_add.sql", "adjustment_remove.sql"), "adjustment"),
    ),
    Scenario(
        "b",
        "(b) adjustments ±1, one hot product",
        ("POST", "/inventory/adjustments"),
        adjustments(1),
        "adjustment.sql",
        lambda ctx: {"products": 1},
    ),
    Scenario(
        "c",
        "(c) transfers shop → warehouse",
        ("POST", "/inventory/transfers"),
        transfers,
        "transfer.sql",
    ),
    Scenario(
        "d",
        "(d) invoices of 5 lines",
        ("POST", "/invoices"),
        invoices,
        "invoice.sql",
    ),
    Scenario(
        "r1",
        "(r) reserve 1 line, 10,000 products",
        ("POST", "/inventory/reservations"),
        reservations,
        "reserve.sql",
    ),
    Scenario(
        "r2",
        "(r) invoice of 1 line consuming a reservation",
        ("POST", "/invoices"),
        reserved_invoices,
        "invoice_reserved.sql",
        lambda ctx: {"reservations": data.RESERVATIONS},
    ),
]


def pg_variables(scenario: Scenario, ctx: Context, token_hash: str) -> dict[str, Any]:
    """The pgbench -D variables: who calls, where, and the scenario's own."""
    brand = ctx.brand
    return {
        "token_hash": token_hash,
        "brand_id": brand.brand_id,
        "user_id": brand.user_id,
        "site_id": brand.shop,
        "dest_site_id": brand.warehouse,
        "products": ctx.products,
        "sites": data.SITES,
    } | scenario.pg_variables(ctx)


def sqlite_parameters(ctx: Context, token_hash: str) -> dict[str, Any]:
    """The SQLite limit's fixed parameters (ids as the 32 hex digits SQLite stores)."""
    brand = ctx.brand
    start, end = ctx.report_days
    return {
        "token_hash": token_hash,
        "brand_id": data.hex_id(brand.brand_id),
        "user_id": data.hex_id(brand.user_id),
        "site_id": data.hex_id(brand.shop),
        "range_start": f"{start.isoformat()} 00:00:00.000000",
        "range_end": f"{(end + timedelta(days=1)).isoformat()} 00:00:00.000000",
        "deep_from": ctx.deep_from.replace(tzinfo=None).isoformat(),
        "deep_seconds": DEEP_SPAN_DAYS * 86_400,
        "product_ids": [data.hex_id(data.product_id(i)) for i in range(1, ctx.products + 1)],
        "site_ids": [data.hex_id(s) for s in brand.low_stock_sites],
    }


# The bare endpoints (bench/bare.py) measured beside the API, per scenario:
# (label, framework, write kind: "tx" the scenario's statements in a transaction, "cte" one).
BARE: dict[str, list[tuple[str, str, str]]] = {
    "a": [
        ("FastAPI, the 5 statements in a transaction", "fastapi", "tx"),
        ("FastAPI, one CTE", "fastapi", "cte"),
        ("Starlette, one CTE", "starlette", "cte"),
    ],
    "e4": [("FastAPI, same 2 statements", "fastapi", "tx")],
    "e1": [("FastAPI, same 3 statements", "fastapi", "tx")],
}
